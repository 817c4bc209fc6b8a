"""OData reads against the reference's facts: paging, company scope, filters, keys, errors."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest

from emulator.server import EmulatorInfo
from tests.integration.emulator.conftest import Scm
from tests.integration.emulator.tiny_world import LEGAL_ENTITIES, SPECIAL_VENDORS, VENDORS_PER_LE

USMF_VENDORS = VENDORS_PER_LE + len(SPECIAL_VENDORS)


@pytest.fixture
def small_pages(emu: EmulatorInfo) -> Iterator[int]:
    emu.configure(page_size=4)
    yield 4
    emu.configure(page_size=10_000)


def _accounts(response_json: dict[str, object]) -> list[str]:
    return [str(v["VendorAccountNumber"]) for v in response_json["value"]]  # type: ignore[attr-defined]


def test_server_driven_paging_follows_next_links_to_every_row_once(
    scm: Scm, small_pages: int
) -> None:
    url = (
        "VendorsV2?$select=VendorAccountNumber,VendorOrganizationName&$filter=VendorGroupId eq '10'"
    )
    seen: list[str] = []
    pages = 0
    while url:
        body = scm.get(url).json()
        assert len(body["value"]) <= small_pages
        seen += _accounts(body)
        url = body.get("@odata.nextLink", "")
        if url:
            assert "$skip=" in url
            assert "$select=VendorAccountNumber,VendorOrganizationName" in url
            assert "$filter=VendorGroupId%20eq%20'10'" in url
        pages += 1
    assert len(seen) == len(set(seen)) == USMF_VENDORS
    assert pages == -(-USMF_VENDORS // small_pages)


def test_top_larger_than_a_page_is_continued_with_top_and_skip(scm: Scm, small_pages: int) -> None:
    body = scm.get("VendorsV2?$top=6&$orderby=VendorAccountNumber").json()
    assert len(body["value"]) == 4
    link = body["@odata.nextLink"]
    assert "$skip=4" in link
    assert "$top=2" in link
    assert "$orderby=VendorAccountNumber" in link
    rest = scm.get(link).json()
    assert len(rest["value"]) == 2
    assert "@odata.nextLink" not in rest


def test_no_next_link_when_everything_fits(scm: Scm) -> None:
    body = scm.get("VendorsV2").json()
    assert "@odata.nextLink" not in body
    assert len(body["value"]) == USMF_VENDORS


def test_default_company_is_the_users_and_cross_company_shows_all(scm: Scm) -> None:
    own = scm.get("VendorsV2?$count=true&$top=1").json()
    assert own["@odata.count"] == USMF_VENDORS
    everyone = scm.get("VendorsV2?cross-company=true&$count=true&$top=0").json()
    assert everyone["@odata.count"] == USMF_VENDORS + VENDORS_PER_LE * (len(LEGAL_ENTITIES) - 1)
    demf = scm.get("VendorsV2?cross-company=true&$filter=dataAreaId eq 'demf'").json()
    assert {v["dataAreaId"] for v in demf["value"]} == {"demf"}
    # shared entities have no company field: all rows without cross-company
    assert len(scm.get("Currencies").json()["value"]) == 5


def test_count_endpoint_is_text_with_a_utf8_bom(scm: Scm) -> None:
    response = scm.get("VendorsV2/$count")
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.content == b"\xef\xbb\xbf" + str(USMF_VENDORS).encode()
    blocked = "Microsoft.Dynamics.DataEntities.CustVendorBlocked'All'"
    filtered = scm.get(f"VendorsV2/$count?$filter=OnHoldStatus eq {blocked}")
    assert filtered.content == b"\xef\xbb\xbf1"


def test_inline_count_ignores_top_and_skip(scm: Scm) -> None:
    body = scm.get("VendorsV2?$count=true&$top=2&$skip=3").json()
    assert body["@odata.count"] == USMF_VENDORS
    assert len(body["value"]) == 2
    assert list(body)[:3] == ["@odata.context", "@odata.count", "value"]


@pytest.mark.parametrize(
    ("filter_", "expected"),
    [
        ("VendorAccountNumber eq 'US-V0000003'", 1),
        ("VendorAccountNumber eq 'us-v0000003'", 1),  # SCM compares text case-insensitively
        ("VendorAccountNumber ne 'US-V0000003'", USMF_VENDORS - 1),
        ("CreditLimit gt 10000", 3),
        ("CreditLimit ge 10005", 3),
        ("CreditLimit lt 2000", 4),  # three specials (0) and vendor 1
        ("CreditLimit le 1000.5", 4),
        ("CreditLimit gt 3000 and CreditLimit lt 6000", 3),
        ("CreditLimit lt 1500 or CreditLimit gt 11000", 6),
        ("not (CreditLimit lt 1500 or CreditLimit gt 11000)", USMF_VENDORS - 6),
        (
            "(VendorAccountNumber eq 'US-V0000001' or VendorAccountNumber eq 'US-V0000002') "
            "and CreditLimit gt 1500",
            1,
        ),
        ("VendorOrganizationName eq '*usmf 1*'", 4),  # 1, 10, 11, 12
        ("VendorAccountNumber eq 'US-O''HARA-000123'", 1),
        ("OnHoldStatus eq Microsoft.Dynamics.DataEntities.CustVendorBlocked'All'", 1),
        (
            "OnHoldStatus ne Microsoft.Dynamics.DataEntities.CustVendorBlocked'All'",
            USMF_VENDORS - 1,
        ),
        ("AddressValidFrom eq 2024-01-15T08:30:00Z", VENDORS_PER_LE),
        ("AddressValidFrom gt 2024-01-15T08:30:00Z", 0),
        ("AddressValidFrom lt 2000-01-01T00:00:00Z", len(SPECIAL_VENDORS)),  # blank = 1900-01-01
        ("VendorHoldReleaseDate eq 1900-01-01T00:00:00Z", USMF_VENDORS),
    ],
)
def test_filter_operators(scm: Scm, filter_: str, expected: int) -> None:
    response = scm.get("VendorsV2", params={"$filter": filter_, "$count": "true"})
    assert response.status_code == 200, response.text
    assert response.json()["@odata.count"] == expected


def test_date_fields_compare_at_noon(scm: Scm) -> None:
    def count(f: str) -> int:
        return int(
            scm.get("CLMIntegrationContracts", params={"$filter": f, "$count": "true"}).json()[
                "@odata.count"
            ]
        )

    assert count("EffectiveDate eq 2025-01-01T12:00:00Z") == 5
    assert (
        count("EffectiveDate ge 2025-01-01T00:00:00Z and EffectiveDate lt 2025-01-02T00:00:00Z")
        == 5
    )
    assert count("ExpirationDate gt 2026-12-31T12:00:00Z") == 0


def test_a_quote_in_a_literal_never_changes_the_query(scm: Scm) -> None:
    attack = "VendorAccountNumber eq 'x'' or ''1''=''1'"
    body = scm.get("VendorsV2", params={"$filter": attack, "$count": "true"}).json()
    assert body["@odata.count"] == 0
    dangling = scm.get("VendorsV2", params={"$filter": "VendorAccountNumber eq 'x' or 1 eq 1"})
    assert dangling.status_code == 400


def test_select_changes_the_context_and_keeps_the_etag(scm: Scm, emu: EmulatorInfo) -> None:
    body = scm.get("VendorsV2?$select=VendorAccountNumber,CreditLimit&$top=1").json()
    assert (
        body["@odata.context"]
        == f"{emu.scm_url}/data/$metadata#VendorsV2(VendorAccountNumber,CreditLimit)"
    )
    assert set(body["value"][0]) == {"@odata.etag", "VendorAccountNumber", "CreditLimit"}
    assert body["value"][0]["@odata.etag"].startswith('W/"')


def test_json_values_have_scm_shapes(scm: Scm) -> None:
    vendor = scm.get("VendorsV2(dataAreaId='usmf',VendorAccountNumber='US-V0000002')").json()
    assert vendor["CreditLimit"] == 2001.0
    assert vendor["OnHoldStatus"] == "No"
    assert vendor["AddressValidFrom"] == "2024-01-15T08:30:00Z"
    assert vendor["VendorHoldReleaseDate"] == "1900-01-01T00:00:00Z"
    assert vendor["TaxExemptNumber"] == ""
    contract = scm.get("CLMIntegrationContracts(LegalEntityId='usmf',ContractId='C0000001')").json()
    assert contract["EffectiveDate"] == "2025-01-01T12:00:00Z"
    line = scm.get(
        "CLMIntegrationPurchaseAgreementLines(PurchaseAgreementLegalEntityId='usmf',"
        "PurchaseAgreementId='PA0000001',LineNumber=2)"
    ).json()
    assert line["LineNumber"] == 2
    assert line["Price"] == 12.5
    assert line["ExpirationDate"] == "1900-01-01T12:00:00Z"


def test_orderby_desc_and_multiple_keys(scm: Scm) -> None:
    body = scm.get("VendorsV2?$orderby=CreditLimit desc,VendorAccountNumber&$top=3").json()
    assert _accounts(body) == ["US-V0000012", "US-V0000011", "US-V0000010"]


@pytest.mark.parametrize("account", SPECIAL_VENDORS)
def test_keys_with_quotes_spaces_and_ampersands(scm: Scm, account: str) -> None:
    literal = account.replace("'", "''")
    path = f"VendorsV2(dataAreaId='usmf',VendorAccountNumber='{quote(literal, safe='')}')"
    response = scm.get(path)
    assert response.status_code == 200, response.text
    assert response.json()["VendorAccountNumber"] == account
    assert response.headers["ETag"] == response.json()["@odata.etag"]


def test_single_key_entity_and_key_lookup_case(scm: Scm) -> None:
    assert scm.get("Currencies('EUR')").json()["CurrencyCode"] == "EUR"
    assert scm.get("LegalEntities('DEMF')").json()["LegalEntityId"] == "demf"


def test_unknown_entity_set_gets_the_reference_404(scm: Scm) -> None:
    response = scm.get("NoSuchEntities")
    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "code": "",
            "message": "An error has occurred.",
            "innererror": {
                "message": "Resource not found for the segment 'NoSuchEntities'.",
                "type": "",
                "stacktrace": "",
            },
        }
    }


@pytest.mark.parametrize(
    "path",
    [
        "VendorsV2(dataAreaId='usmf')",  # a key field missing
        "VendorsV2(dataAreaId='usmf',VendorAccountNumber='unterminated)",
        "VendorsV2(dataAreaId='usmf',Bogus='x')",
    ],
)
def test_malformed_key_gets_the_route_404(scm: Scm, path: str) -> None:
    response = scm.get(path)
    assert response.status_code == 404
    assert response.json()["Message"].startswith(
        "No HTTP resource was found that matches the request URI"
    )


def test_missing_record_is_404(scm: Scm) -> None:
    assert scm.get("Currencies('XYZ')").status_code == 404


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ({"$filter": "Bogus eq 1"}, "Could not find a property named 'Bogus'"),
        ({"$select": "VendorAccountNumber,Bogus"}, "Could not find a property named 'Bogus'"),
        ({"$orderby": "Bogus"}, "Could not find a property named 'Bogus'"),
        ({"$filter": "CreditLimit eq 'x'"}, "incompatible types"),
        ({"$filter": "OnHoldStatus eq 'All'"}, "incompatible types"),
        (
            {"$filter": "OnHoldStatus gt Microsoft.Dynamics.DataEntities.CustVendorBlocked'All'"},
            "Only eq and ne",
        ),
        ({"$filter": "VendorGroupId in ('10')"}, "not supported"),
        ({"$filter": "contains(VendorOrganizationName,'x')"}, "not supported"),
        ({"$filter": "(CreditLimit eq 1"}, "expected"),
        ({"$filter": "(CreditLimit eq 1 CreditLimit"}, "')' expected"),
        ({"$top": "-1"}, "non-negative integer"),
        ({"$expand": "x"}, "The query parameter '$expand' is not supported."),
    ],
)
def test_bad_queries_get_400_with_the_odata_message(
    scm: Scm, query: dict[str, str], fragment: str
) -> None:
    response = scm.get("VendorsV2", params=query)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["message"].startswith("The query specified in the URI is not valid.")
    assert fragment in error["innererror"]["message"]


def test_service_document_and_metadata(scm: Scm, emu: EmulatorInfo) -> None:
    doc = scm.get("").json()
    assert doc["@odata.context"] == f"{emu.scm_url}/data/$metadata"
    assert {"name": "VendorsV2", "kind": "EntitySet", "url": "VendorsV2"} in doc["value"]
    csdl = scm.get("$metadata").text
    assert '<EntityType Name="VendorV2">' in csdl
    assert '<PropertyRef Name="dataAreaId" /><PropertyRef Name="VendorAccountNumber" />' in csdl
    assert '<Action Name="ExportToPackage" IsBound="true">' in csdl
    assert '<EnumType Name="NoYes">' in csdl
