from __future__ import annotations

import json

import pytest
import requests

from connectors.errors import (
    AuthError,
    ODataRequestError,
    ODataUnavailable,
    PermissionDenied,
)
from connectors.odata import ODataClient
from tests.unit.connectors.fakes import (
    Clock,
    FakeTransport,
    StaticTokens,
    fake_session,
    fast_policy,
    response,
    sequence,
)

BASE = "https://scm.fake.test"


def _client(transport: FakeTransport, tokens: StaticTokens | None = None) -> ODataClient:
    return ODataClient(
        BASE, tokens or StaticTokens(), fake_session(transport), fast_policy(Clock())
    )


def test_pages_follow_next_link_as_given_with_query_options() -> None:
    transport = FakeTransport()
    next_link = f"{BASE}/data/VendorsV2?cross-company=true&$skip=2&$top=2"
    transport.on(
        "GET",
        r"/data/VendorsV2\?",
        lambda r: response(
            r,
            200,
            {
                "value": [{"VendorAccountNumber": "A"}, {"VendorAccountNumber": "B"}],
                "@odata.nextLink": next_link,
            },
        ),
    )
    transport.on(
        "GET",
        r"\$skip=2",
        lambda r: response(r, 200, {"value": [{"VendorAccountNumber": "C"}]}),
    )
    client = _client(transport)
    pages = list(
        client.pages(
            "VendorsV2",
            select=["dataAreaId", "VendorAccountNumber"],
            filter="dataAreaId eq 'usmf' and VendorAccountNumber eq 'A B&C'",
            orderby="VendorAccountNumber",
            cross_company=True,
            top=2,
        )
    )
    assert [[r["VendorAccountNumber"] for r in p] for p in pages] == [["A", "B"], ["C"]]
    first = transport.requests[0].url or ""
    assert "$select=dataAreaId,VendorAccountNumber" in first
    assert (
        "$filter=dataAreaId%20eq%20'usmf'%20and%20VendorAccountNumber%20eq%20'A%20B%26C'" in first
    )
    assert "cross-company=true" in first
    assert "$top=2" in first
    assert transport.requests[1].url == next_link
    assert transport.requests[0].headers["Authorization"] == "Bearer token-1"
    assert transport.requests[0].headers["OData-Version"] == "4.0"


def test_a_next_link_pointing_at_itself_stops_the_read() -> None:
    url = f"{BASE}/data/VendorsV2"
    transport = FakeTransport().on(
        "GET", r"VendorsV2", lambda r: response(r, 200, {"value": [], "@odata.nextLink": url})
    )
    with pytest.raises(ODataRequestError, match="nextLink"):
        list(_client(transport).pages("VendorsV2"))


def test_count_strips_the_bom() -> None:
    transport = FakeTransport().on(
        "GET",
        r"/\$count",
        lambda r: response(r, 200, "\ufeff1234".encode(), {"Content-Type": "text/plain"}),
    )
    assert _client(transport).count("VendorsV2", cross_company=True) == 1234
    assert "cross-company=true" in (transport.requests[0].url or "")


def test_get_by_key_and_not_found() -> None:
    transport = FakeTransport()
    transport.on(
        "GET", r"US-V0000001", lambda r: response(r, 200, {"VendorAccountNumber": "US-V0000001"})
    )
    transport.on(
        "GET",
        r"US-V0000002",
        lambda r: response(r, 404, {"error": {"message": "No resource was found"}}),
    )
    client = _client(transport)
    found = client.get("VendorsV2", {"dataAreaId": "usmf", "VendorAccountNumber": "US-V0000001"})
    assert found == {"VendorAccountNumber": "US-V0000001"}
    assert (
        client.get("VendorsV2", {"dataAreaId": "usmf", "VendorAccountNumber": "US-V0000002"})
        is None
    )


def test_unknown_entity_set_raises() -> None:
    body = {
        "error": {
            "code": "",
            "message": "An error has occurred.",
            "innererror": {
                "message": "Resource not found for the segment 'NoSuchSet'.",
                "type": "",
                "stacktrace": "",
            },
        }
    }
    transport = FakeTransport().on("GET", r"NoSuchSet", lambda r: response(r, 404, body))
    with pytest.raises(ODataRequestError, match="Resource not found for the segment 'NoSuchSet'"):
        _client(transport).get("NoSuchSet", {"ID": 1})
    with pytest.raises(ODataRequestError, match="NoSuchSet"):
        list(_client(transport).pages("NoSuchSet"))


def test_create_update_delete() -> None:
    transport = FakeTransport()
    transport.on(
        "POST",
        r"/data/CLMIntegrationContracts$",
        lambda r: response(r, 201, {"ContractId": "C0000001", "@odata.etag": 'W/"x"'}),
    )
    transport.on("PATCH", r"CLMIntegrationContracts\(", lambda r: response(r, 204))
    transport.on("DELETE", r"CLMIntegrationContracts\(", lambda r: response(r, 204))
    client = _client(transport)
    created = client.create(
        "CLMIntegrationContracts", {"LegalEntityId": "usmf", "ContractName": "Ünïcode"}
    )
    assert created["ContractId"] == "C0000001"
    assert json.loads(transport.requests[0].body)["ContractName"] == "Ünïcode"  # type: ignore[arg-type]
    keys = {"LegalEntityId": "usmf", "ContractId": "C0000001"}
    client.update("CLMIntegrationContracts", keys, {"ContractStatus": "Executed"}, etag='W/"x"')
    assert transport.requests[1].headers["If-Match"] == 'W/"x"'
    assert transport.requests[1].url == (
        f"{BASE}/data/CLMIntegrationContracts(LegalEntityId='usmf',ContractId='C0000001')"
    )
    client.delete("CLMIntegrationContracts", keys)
    assert transport.requests[2].headers["If-Match"] == "*"


def test_a_401_gets_exactly_one_token_refresh() -> None:
    transport = FakeTransport().on(
        "GET",
        r"VendorsV2",
        lambda r: (
            response(r, 200, {"value": []})
            if r.headers["Authorization"] == "Bearer fresh"
            else response(r, 401, "")
        ),
    )
    tokens = StaticTokens("expired", "fresh")
    assert list(_client(transport, tokens).pages("VendorsV2")) == [[]]
    assert tokens.invalidated == 1

    refused = FakeTransport().on("GET", r"VendorsV2", lambda r: response(r, 401, ""))
    tokens = StaticTokens("a", "b", "c")
    with pytest.raises(AuthError, match="SCM refused the token"):
        list(_client(refused, tokens).pages("VendorsV2"))
    assert tokens.invalidated == 1
    assert refused.count("GET", "VendorsV2") == 2


def test_403_names_the_entity_and_role() -> None:
    transport = FakeTransport().on(
        "GET", r"CLMIntegrationContracts", lambda r: response(r, 403, "")
    )
    with pytest.raises(PermissionDenied) as caught:
        list(_client(transport).pages("CLMIntegrationContracts"))
    assert caught.value.resource == "CLMIntegrationContracts"
    assert "'CLM integration' role" in (caught.value.hint or "")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {
                "error": {
                    "message": "An error has occurred.",
                    "innererror": {
                        "message": "outer",
                        "internalexception": {"message": "the innermost", "type": "X"},
                    },
                }
            },
            "the innermost",
        ),
        ({"error": {"code": "", "message": "Only the error message"}}, "Only the error message"),
        ({"Message": "No HTTP resource was found"}, "No HTTP resource was found"),
    ],
)
def test_error_body_precedence_and_activity_id(body: dict[str, object], message: str) -> None:
    transport = FakeTransport().on(
        "GET", r"VendorsV2", lambda r: response(r, 400, body, {"ms-dyn-aid": "aid-42"})
    )
    with pytest.raises(ODataRequestError) as caught:
        list(_client(transport).pages("VendorsV2"))
    assert caught.value.server_message == message
    assert caught.value.activity_id == "aid-42"
    assert caught.value.status == 400


def test_write_exception_is_terminal_and_outages_are_transient() -> None:
    write = {
        "error": {
            "message": "An error has occurred.",
            "innererror": {
                "message": "Write failed for table row of type 'CLMIntegrationContractEntity'. "
                "The record already exists..",
                "type": "Microsoft.Dynamics.Platform.Integration.Services.OData."
                "AxODataWriteException",
            },
        }
    }
    transport = FakeTransport().on(
        "POST", r"CLMIntegrationContracts", lambda r: response(r, 500, write)
    )
    with pytest.raises(ODataRequestError) as caught:
        _client(transport).create("CLMIntegrationContracts", {})
    assert "The record already exists" in caught.value.server_message
    assert transport.count("POST", "CLMIntegrationContracts") == 1

    busy = FakeTransport().on("GET", r"VendorsV2", lambda r: response(r, 503, "busy"))
    with pytest.raises(ODataUnavailable):
        list(_client(busy).pages("VendorsV2"))


def test_throttled_read_waits_and_succeeds() -> None:
    clock = Clock()
    transport = FakeTransport().on(
        "GET",
        r"VendorsV2",
        sequence(
            lambda r: response(
                r,
                429,
                "Number of requests exceeded the limit of 6000 "
                "over the time window of 300 seconds.",
                {"Retry-After": "5"},
            ),
            lambda r: response(r, 200, {"value": [{"a": 1}]}),
        ),
    )
    client = ODataClient(BASE, StaticTokens(), fake_session(transport), fast_policy(clock))
    assert list(client.pages("VendorsV2")) == [[{"a": 1}]]
    assert clock.sleeps == [5.0]


def test_transport_failure_of_a_post_is_unavailable_with_status_0() -> None:
    transport = FakeTransport().on("POST", r".", lambda r: requests.ReadTimeout("slow"))
    with pytest.raises(ODataUnavailable) as caught:
        _client(transport).action("DataManagementDefinitionGroups", "ImportFromPackage", {})
    assert caught.value.status == 0
    assert isinstance(caught.value.__cause__, requests.ReadTimeout)
    assert transport.count("POST", ".") == 1


def test_certificate_failure_is_terminal_and_names_the_ca_setting() -> None:
    transport = FakeTransport().on(
        "GET", r".", lambda r: requests.exceptions.SSLError("certificate verify failed")
    )
    with pytest.raises(ODataRequestError) as caught:
        list(_client(transport).pages("VendorsV2"))
    assert "scm.ca_bundle" in (caught.value.hint or "")
    assert transport.count("GET", ".") == 1


def test_pages_in_splits_a_key_list_into_several_requests() -> None:
    transport = FakeTransport().on("GET", r"VendorsV2", lambda r: response(r, 200, {"value": [{}]}))
    accounts = [f"US-V{n:07d}" for n in range(40)]
    pages = list(
        _client(transport).pages_in(
            "VendorsV2",
            "VendorAccountNumber",
            accounts,
            filter="dataAreaId eq 'usmf'",
            max_filter_length=400,
        )
    )
    assert len(pages) == len(transport.requests) > 1
    for request in transport.requests:
        url = request.url or ""
        assert "$filter=(dataAreaId%20eq%20'usmf')%20and%20(VendorAccountNumber%20eq" in url
        assert len(url.split("$filter=", 1)[1]) <= 400
    sent = "".join(r.url or "" for r in transport.requests)
    assert all(f"'{a}'" in sent for a in accounts)
