"""Staging and comparison SQL on tiny hand-made tables: both date formats and SCM's blank date,
Unicode normalisation, whitespace and case, decimal scale, seed lookups that ignore case and
spacing."""

from __future__ import annotations

from datetime import date

from tests.unit.models.conftest import (
    Warehouse,
    counterparty,
    scm_agreement,
    scm_agreement_line,
    vendor,
)

CONTRACT = {
    "LegalEntityId": "demf", "ExternalContractId": "K-0000001", "ContractType": "NDA",
    "ContractStatus": "Executed", "ExpirationDate": "1/1/1900 12:00:00 AM",
}  # fmt: skip


def test_package_and_odata_dates_read_alike_and_the_blank_date_is_null(wh: Warehouse) -> None:
    wh.scm(
        "CLMIntegrationContracts",
        [
            {**CONTRACT, "ContractId": "C1", "EffectiveDate": "3/1/2025 12:00:00 AM"},
            {**CONTRACT, "ContractId": "C2", "EffectiveDate": "2025-03-01T12:00:00Z",
             "ExpirationDate": "1900-01-01T12:00:00Z"},
            {**CONTRACT, "ContractId": "C3", "EffectiveDate": "12/31/2025 11:59:59 PM",
             "ExpirationDate": "2/28/2027 12:00:00 AM"},
        ],
    )  # fmt: skip
    wh.build("stg_scm__contracts")
    assert wh.rows(
        "SELECT contract_id, effective_date, expiration_date FROM staging.stg_scm__contracts "
        "ORDER BY contract_id"
    ) == [
        ("C1", date(2025, 3, 1), None),
        ("C2", date(2025, 3, 1), None),
        ("C3", date(2025, 12, 31), date(2027, 2, 28)),
    ]


def _contract_pair(wh: Warehouse, clm_effective: str, clm_expiration: str | None) -> None:
    wh.scm("VendorsV2", [vendor("demf", "DE-V0000001", "Müller Stahl GmbH")])
    wh.clm("counterparty", [counterparty("CPTY-1", "Müller Stahl GmbH",
                                         vendor_account="DE-V0000001")])  # fmt: skip
    wh.scm(
        "CLMIntegrationContracts",
        [{**CONTRACT, "ContractId": "C1", "EffectiveDate": "3/1/2025 12:00:00 AM"}],
    )
    wh.clm(
        "contract",
        [{"id": "K-0000001", "contract_type": "NDA", "status": "Executed",
          "counterparty_id": "CPTY-1", "business_unit": "EU-DE-MFG",
          "effective_date": clm_effective, "expiration_date": clm_expiration,
          "updated_at": "2025-12-01T00:00:00Z"}],
    )  # fmt: skip
    wh.build("+int_document_changes")


def test_a_midnight_date_time_and_an_empty_date_equal_scm_dates(wh: Warehouse) -> None:
    _contract_pair(wh, "2025-03-01T00:00:00Z", None)
    assert wh.rows("SELECT * FROM intermediate.int_document_changes") == []


def test_a_changed_date_is_an_update_with_the_date_as_scm_takes_it(wh: Warehouse) -> None:
    _contract_pair(wh, "2025-03-02", "2026-02-28")
    assert wh.rows(
        "SELECT field, kind, action, scm_value, clm_value, new_value "
        "FROM intermediate.int_document_changes ORDER BY field"
    ) == [
        ("EffectiveDate", "amended_dates", "update", "2025-03-01", "2025-03-02", "2025-03-02"),
        ("ExpirationDate", "amended_dates", "update", None, "2026-02-28", "2026-02-28"),
    ]


def test_nfd_whitespace_and_case_are_not_stale_master_data(wh: Warehouse) -> None:
    wh.scm(
        "VendorsV2",
        [
            vendor("demf", "DE-V0000001", "Müller Stahl GmbH", AddressCity="Köln"),
            vendor("demf", "DE-V0000002", "Weiß Guss AG"),
        ],
    )
    decomposed = "Mu\u0308ller Stahl GmbH"  # NFD: u + combining diaeresis
    wh.clm(
        "counterparty",
        [
            counterparty("CPTY-1", f"  {decomposed.upper()}  ", vendor_account="de-v0000001",
                         city="Ko\u0308ln", zip=" 80331 ", street="Hauptstraße   1"),
            counterparty("CPTY-2", "Weiss Guss AG", vendor_account="DE-V0000002"),
        ],
    )  # fmt: skip
    wh.build("+int_counterparty_master_data_diffs")
    # "Weiß" and "Weiss" are different text: only that counterparty's name is stale.
    assert wh.rows(
        "SELECT counterparty_id, field, scm_value, value_to_send "
        "FROM intermediate.int_counterparty_master_data_diffs"
    ) == [("CPTY-2", "VendorOrganizationName", "Weiß Guss AG", "Weiß Guss AG")]
    assert wh.rows(
        "SELECT counterparty_id, link_method, vendor_account FROM "
        "intermediate.int_counterparty_links ORDER BY 1"
    ) == [("CPTY-1", "vendor_account", "DE-V0000001"), ("CPTY-2", "vendor_account", "DE-V0000002")]


def test_seed_lookups_ignore_case_and_spacing(wh: Warehouse) -> None:
    wh.scm(
        "VendorsV2",
        [
            vendor(
                "gbsi",
                "GB-V0000001",
                "Hughes Ltd",
                CurrencyCode="GBP",
                AddressCountryRegionId="GBR",
                AddressZipCode="SW1E 5JL",
            )
        ],
    )
    wh.clm(
        "counterparty",
        [counterparty("CPTY-1", "Hughes Ltd", vendor_account="GB-V0000001",
                      business_unit=" eu-gb-svc ", country="uk", currency=" stg ",
                      payment_terms="NET 30   DAYS", zip="sw1e 5jl")],
    )  # fmt: skip
    wh.build("+int_counterparty_master_data_diffs")
    assert wh.rows("SELECT legal_entity, link_status FROM intermediate.int_counterparty_links") == [
        ("gbsi", "linked")
    ]
    assert wh.rows("SELECT * FROM intermediate.int_counterparty_master_data_diffs") == []
    # A code no seed knows is stale, and SCM's value goes out in the CLM's preferred code.
    wh.clm("counterparty", [counterparty("CPTY-1", "Hughes Ltd", vendor_account="GB-V0000001",
                                         business_unit="EU-GB-SVC", country="UK",
                                         currency="Pound", payment_terms="Net 30",
                                         zip="SW1E 5JL")])  # fmt: skip
    wh.build("+int_counterparty_master_data_diffs")
    assert wh.rows(
        "SELECT field, clm_value, value_to_send "
        "FROM intermediate.int_counterparty_master_data_diffs"
    ) == [("CurrencyCode", "Pound", "GBP")]


def _agreement_line(wh: Warehouse, clm_price: str) -> None:
    wh.scm("VendorsV2", [vendor("demf", "DE-V0000001", "Müller Stahl GmbH")])
    wh.clm("counterparty", [counterparty("CPTY-1", "Müller Stahl GmbH",
                                         vendor_account="DE-V0000001")])  # fmt: skip
    wh.scm("CLMIntegrationContracts", [{**CONTRACT, "ContractType": "PURCH", "ContractId": "C1",
                                        "EffectiveDate": "3/1/2025 12:00:00 AM"}])  # fmt: skip
    wh.scm("CLMIntegrationPurchaseAgreements", [scm_agreement("PA1", "K-0000001", "DE-V0000001")])
    wh.scm(
        "CLMIntegrationPurchaseAgreementLines",
        [scm_agreement_line("PA1", "AGL-1", "12.500000", "I000001")],
    )
    wh.clm("contract", [{"id": "K-0000001", "contract_type": "Purchase Agreement",
                         "status": "Executed", "counterparty_id": "CPTY-1",
                         "business_unit": "EU-DE-MFG", "effective_date": "2025-03-01",
                         "updated_at": "2025-12-01T00:00:00Z"}])  # fmt: skip
    wh.clm("agreement", [{"id": "AGR-1", "contract_id": "K-0000001", "counterparty_id": "CPTY-1",
                          "business_unit": "EU-DE-MFG", "currency": "EUR",
                          "payment_terms": "Net 30 days", "status": "Active",
                          "effective_date": "2025-03-01",
                          "updated_at": "2025-12-01T00:00:00Z"}])  # fmt: skip
    wh.clm("agreement_line", [{"id": "AGL-1", "agreement_id": "AGR-1", "line_no": "1",
                               "product_code": "I000001", "quantity": "10", "unit": "Each",
                               "unit_price": clm_price, "effective_date": "2025-03-01",
                               "status": "active",
                               "updated_at": "2025-12-01T00:00:00Z"}])  # fmt: skip
    wh.build("+int_document_changes", "+dlt_scm__purchase_agreement_lines")


def test_decimal_scale_is_not_a_price_change(wh: Warehouse) -> None:
    _agreement_line(wh, "12.50")
    assert wh.rows("SELECT * FROM intermediate.int_document_changes") == []
    assert wh.rows("SELECT * FROM deltas.dlt_scm__purchase_agreement_lines") == []


def test_a_new_price_is_an_update_in_canonical_form(wh: Warehouse) -> None:
    _agreement_line(wh, "12.5100")
    assert wh.rows(
        "SELECT record_key, field, scm_value, new_value FROM intermediate.int_document_changes"
    ) == [("PA1|1", "Price", "12.5", "12.51")]
    assert wh.rows(
        "SELECT action, record_key, keys::VARCHAR, payload::VARCHAR, before::VARCHAR "
        "FROM deltas.dlt_scm__purchase_agreement_lines"
    ) == [
        (
            "update",
            "PA1|1",
            '{"PurchaseAgreementLegalEntityId":"demf","PurchaseAgreementId":"PA1",'
            '"LineNumber":"1"}',
            '{"Price":"12.51"}',
            '{"Price":"12.5"}',
        )
    ]
