"""OData writes: creates with keys SCM assigns, business validation bodies, etags, deletes."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.server import EmulatorInfo
from tests.integration.emulator.conftest import Scm

WRITE_EXCEPTION = "Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataWriteException"
AGREEMENTS = "CLMIntegrationPurchaseAgreements"
LINES = "CLMIntegrationPurchaseAgreementLines"


def _agreement(**changes: Any) -> dict[str, Any]:
    body = {
        "BuyingLegalEntityId": "usmf",
        "ExternalContractId": "K-0000004",
        "AgreementVendorAccountNumber": "US-V0000004",
        "CurrencyCode": "USD",
        "PaymentTermsName": "Net30",
        "DocumentTitle": "Agreement 4",
        "DefaultEffectiveDate": "2025-03-01T12:00:00Z",
    }
    body.update(changes)
    return body


def _infolog(response: Any) -> str:
    assert response.status_code == 500, response.text
    error = response.json()["error"]
    assert error["message"] == "An error has occurred."
    assert error["innererror"]["type"] == WRITE_EXCEPTION
    return str(error["innererror"]["message"])


def _count(scm: Scm, entity: str) -> int:
    return int(scm.get(f"{entity}/$count?cross-company=true").content.decode("utf-8-sig"))


def test_create_returns_201_with_the_full_record_and_generated_keys(
    scm: Scm, emu: EmulatorInfo
) -> None:
    response = scm.post(AGREEMENTS, _agreement())
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["PurchaseAgreementId"] == "PA0000004"  # next in usmf's number sequence
    assert body["ContractId"] == "C0000004"  # resolved from the contract's ExternalContractId
    assert body["ContractLegalEntity"] == "usmf"
    assert body["AgreementOwnership"] == "CLM"
    assert body["DefaultExpirationDate"] == "1900-01-01T12:00:00Z"
    assert body["@odata.context"] == f"{emu.scm_url}/data/$metadata#{AGREEMENTS}/$entity"
    assert response.headers["Location"] == (
        f"{emu.scm_url}/data/{AGREEMENTS}(BuyingLegalEntityId='usmf',PurchaseAgreementId='PA0000004')"
    )
    assert response.headers["ETag"] == body["@odata.etag"]
    again = scm.get(response.headers["Location"])
    assert again.json()["DocumentTitle"] == "Agreement 4"


def test_line_finds_its_agreement_by_external_contract_id_and_gets_the_next_number(
    scm: Scm,
) -> None:
    line = {
        "PurchaseAgreementLegalEntityId": "usmf",
        "ExternalContractId": "K-0000001",
        "ExternalContractLineId": "AGL-00000003",
        "ItemNumber": "I000003",
        "UnitSymbol": "ea",
        "Price": 7.25,
        "CommittedQuantity": 4,
    }
    created = scm.post(LINES, line)
    assert created.status_code == 201, created.text
    assert created.json()["PurchaseAgreementId"] == "PA0000001"
    assert created.json()["LineNumber"] == 3
    assert created.json()["Price"] == 7.25


def test_creates_in_another_company_through_the_body(scm: Scm) -> None:
    vendor = {
        "dataAreaId": "demf",
        "VendorOrganizationName": "Neu GmbH",
        "VendorGroupId": "20",
        "CurrencyCode": "EUR",
    }
    created = scm.post("VendorsV2", vendor)
    assert created.status_code == 201, created.text
    assert created.json()["VendorAccountNumber"] == "DE-V0000013"
    assert created.json()["dataAreaId"] == "demf"


@pytest.mark.parametrize(
    ("changes", "field", "value", "table"),
    [
        (
            {"AgreementVendorAccountNumber": "US-V9999999"},
            "AgreementVendorAccountNumber",
            "US-V9999999",
            "Vendors V2",
        ),
        (
            {"AgreementVendorAccountNumber": "DE-V0000001"},
            "AgreementVendorAccountNumber",
            "DE-V0000001",
            "Vendors V2",
        ),
        ({"CurrencyCode": "XXX"}, "CurrencyCode", "XXX", "Currencies"),
        ({"PaymentTermsName": "Net99"}, "PaymentTermsName", "Net99", "Terms of payment"),
    ],
)
def test_agreement_with_unknown_references_is_refused(
    scm: Scm, changes: dict[str, str], field: str, value: str, table: str
) -> None:
    before = _count(scm, AGREEMENTS)
    message = _infolog(scm.post(AGREEMENTS, _agreement(ExternalContractId="K-0000005", **changes)))
    assert message == (
        "Write failed for table row of type 'CLMIntegrationPurchaseAgreementHeaderEntity'. "
        "Infolog: "
        f"Warning: The value '{value}' in field '{field}' is not found in the related table "
        f"'{table}'.; Warning: validateField failed on field "
        f"'CLMIntegrationPurchaseAgreementHeaderEntity.{field}'."
    )
    assert _count(scm, AGREEMENTS) == before


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        (
            {"ItemNumber": "I000011"},
            "The value 'I000011' in field 'ItemNumber' is not found in the related table "
            "'CLM integration released products'",
        ),
        (
            {"UnitSymbol": "box"},
            "The value 'box' in field 'UnitSymbol' is not found in the related table 'Units'",
        ),
        ({"ExternalContractId": "K-9999999"}, "Field 'PurchaseAgreementId' must be filled in."),
        (
            {"IsPriceAndDiscountFixed": "Maybe"},
            "The value 'Maybe' in field 'IsPriceAndDiscountFixed' is not a valid value of the "
            "enum NoYes.",
        ),
        (
            {"EffectiveDate": "31/12/2025"},
            "The value '31/12/2025' in field 'EffectiveDate' is not a valid date.",
        ),
    ],
)
def test_line_validation(scm: Scm, changes: dict[str, str], fragment: str) -> None:
    line = {
        "PurchaseAgreementLegalEntityId": "usmf",
        "ExternalContractId": "K-0000002",
        "ExternalContractLineId": "AGL-00000099",
        "ItemNumber": "I000002",
        "UnitSymbol": "ea",
        **changes,
    }
    assert fragment in _infolog(scm.post(LINES, line))


def test_product_released_in_another_company_only_is_refused(scm: Scm) -> None:
    # I000008 is released in usmf only; demf has no agreement K-0000001, so name the usmf one.
    line = {
        "PurchaseAgreementLegalEntityId": "demf",
        "PurchaseAgreementId": "PA0000001",
        "ExternalContractLineId": "AGL-00000098",
        "ItemNumber": "I000008",
    }
    message = _infolog(scm.post(LINES, line))
    assert "The value 'PA0000001' in field 'PurchaseAgreementId' is not found" in message
    assert "The value 'I000008' in field 'ItemNumber' is not found" in message


def test_required_fields_and_unknown_enum_members(scm: Scm) -> None:
    message = _infolog(scm.post("VendorsV2", {"VendorOrganizationName": "No group"}))
    assert "Field 'VendorGroupId' must be filled in." in message
    message = _infolog(
        scm.post(AGREEMENTS, _agreement(ExternalContractId="K-0000005", AgreementStatus="Bogus"))
    )
    assert (
        "The value 'Bogus' in field 'AgreementStatus' is not a valid value of the enum "
        "AgreementStatus." in message
    )


def test_contract_type_must_exist(scm: Scm) -> None:
    contract = {
        "LegalEntityId": "usmf",
        "ExternalContractId": "K-0000099",
        "ContractType": "Lease",
        "ContractStatus": "Draft",
    }
    message = _infolog(scm.post("CLMIntegrationContracts", contract))
    assert "The value 'Lease' in field 'ContractType' is not found in the related table" in message


def test_natural_key_is_unique(scm: Scm) -> None:
    contract = {
        "LegalEntityId": "usmf",
        "ExternalContractId": "k-0000001",
        "ContractType": "NDA",
        "ContractStatus": "Draft",
    }
    message = _infolog(scm.post("CLMIntegrationContracts", contract))
    assert (
        "Info: Cannot create a record in CLM integration contract (CLMIntegrationContractEntity)."
        in message
    )
    assert message.endswith("The record already exists..")


def test_a_clm_app_may_not_change_an_scm_owned_agreement(scm: Scm) -> None:
    owned = f"{AGREEMENTS}(BuyingLegalEntityId='usmf',PurchaseAgreementId='PA0000003')"
    message = _infolog(scm.patch(owned, {"DefaultExpirationDate": "2027-12-31T12:00:00Z"}))
    assert "AgreementOwnership = SCM" in message
    assert scm.get(owned).json()["DefaultExpirationDate"] == "2026-12-31T12:00:00Z"
    assert _infolog(scm.delete(owned))
    clm_owned = f"{AGREEMENTS}(BuyingLegalEntityId='usmf',PurchaseAgreementId='PA0000002')"
    assert (
        scm.patch(clm_owned, {"DefaultExpirationDate": "2027-12-31T12:00:00Z"}).status_code == 204
    )


def test_patch_is_204_and_changes_the_etag(scm: Scm) -> None:
    path = "VendorsV2(dataAreaId='usmf',VendorAccountNumber='US-V0000005')"
    before = scm.get(path).json()
    response = scm.patch(path, {"VendorOrganizationName": "Renamed", "CreditLimit": 1.5})
    assert response.status_code == 204
    assert response.content == b""
    after = scm.get(path).json()
    assert after["VendorOrganizationName"] == "Renamed"
    assert after["CreditLimit"] == 1.5
    assert after["CurrencyCode"] == before["CurrencyCode"]  # untouched fields stay
    assert after["@odata.etag"] != before["@odata.etag"]


def test_if_match_with_a_stale_etag_is_412(scm: Scm) -> None:
    path = "VendorsV2(dataAreaId='usmf',VendorAccountNumber='US-V0000006')"
    stale = scm.get(path).json()["@odata.etag"]
    assert (
        scm.patch(path, {"VendorSearchName": "first"}, headers={"If-Match": stale}).status_code
        == 204
    )
    refused = scm.patch(path, {"VendorSearchName": "second"}, headers={"If-Match": stale})
    assert refused.status_code == 412
    assert scm.get(path).json()["VendorSearchName"] == "first"
    current = scm.get(path).json()["@odata.etag"]
    assert (
        scm.patch(path, {"VendorSearchName": "third"}, headers={"If-Match": current}).status_code
        == 204
    )
    assert (
        scm.patch(path, {"VendorSearchName": "fourth"}, headers={"If-Match": "*"}).status_code
        == 204
    )
    assert scm.delete(path, headers={"If-Match": current}).status_code == 412


def test_keys_cannot_change(scm: Scm) -> None:
    path = "VendorsV2(dataAreaId='usmf',VendorAccountNumber='US-V0000007')"
    assert "cannot be changed" in _infolog(scm.patch(path, {"VendorAccountNumber": "US-V7777777"}))


def test_delete_is_204_and_the_record_is_gone(scm: Scm) -> None:
    keys = "PurchaseAgreementLegalEntityId='usmf',PurchaseAgreementId='PA0000001',LineNumber=2"
    path = f"{LINES}({keys})"
    assert scm.get(path).status_code == 200
    assert scm.delete(path).status_code == 204
    assert scm.get(path).status_code == 404
    assert scm.delete(path).status_code == 404


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (
            {"Bogus": 1},
            "The property 'Bogus' does not exist on type "
            "'Microsoft.Dynamics.DataEntities.VendorV2'",
        ),
        (
            {"VendorOrganizationName": 5},
            "Cannot convert a primitive value to the expected type 'Edm.String'",
        ),
        ({"CreditLimit": "lots"}, "is not a valid decimal"),
    ],
)
def test_bodies_scm_cannot_read(scm: Scm, body: dict[str, Any], fragment: str) -> None:
    response = scm.post("VendorsV2", {"VendorOrganizationName": "X", "VendorGroupId": "10", **body})
    assert response.status_code in (400, 500)
    assert fragment in response.text


def test_annotations_in_a_body_are_ignored(scm: Scm) -> None:
    body = {"@odata.type": "#Microsoft.Dynamics.DataEntities.Currency", "CurrencyCode": "CHF"}
    assert scm.post("Currencies", body).status_code == 201


def test_execution_job_details_are_read_only(scm: Scm) -> None:
    response = scm.post(
        "DataManagementExecutionJobDetails",
        {"DefinitionGroupId": "X", "JobId": "1", "EntityName": "Currencies"},
    )
    assert response.status_code == 400
