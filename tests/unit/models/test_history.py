"""rpt_mismatch_history across runs: open mismatches keep when they were first seen, a mismatch
that is gone is resolved in that run, one that comes back opens again."""

from __future__ import annotations

from typing import Any

from tests.unit.models.conftest import Warehouse, counterparty, vendor

SCM_CONTRACT = {
    "LegalEntityId": "demf", "ContractId": "C1", "ExternalContractId": "K-0000001",
    "ContractType": "NDA", "ContractStatus": "Executed",
    "EffectiveDate": "3/1/2025 12:00:00 AM", "ExpirationDate": "2/28/2027 12:00:00 AM",
}  # fmt: skip


def _clm_contract(effective: str, status: str) -> dict[str, str | None]:
    return {
        "id": "K-0000001", "contract_type": "NDA", "status": status, "counterparty_id": "CPTY-1",
        "business_unit": "EU-DE-MFG", "effective_date": effective,
        "expiration_date": "2027-02-28", "updated_at": "2025-12-01T00:00:00Z",
    }  # fmt: skip


def _history(wh: Warehouse) -> dict[str, tuple[Any, ...]]:
    rows = wh.rows(
        "SELECT field, first_seen_at, last_seen_at, resolved_at, times_reopened "
        "FROM reports.rpt_mismatch_history"
    )
    return {str(r[0]): r[1:] for r in rows}


def test_history_keeps_first_seen_resolves_and_reopens(wh: Warehouse) -> None:
    wh.scm("LegalEntities", [{"LegalEntityId": "demf", "Name": "Contoso DE"}])
    wh.scm("VendorsV2", [vendor("demf", "DE-V0000001", "Müller Stahl GmbH")])
    wh.clm("counterparty", [counterparty("CPTY-1", "Müller Stahl GmbH",
                                         vendor_account="DE-V0000001")])  # fmt: skip
    wh.scm("CLMIntegrationContracts", [SCM_CONTRACT])
    wh.clm("contract", [_clm_contract("2025-03-05", "On Hold")])
    wh.build("+rpt_mismatches")
    first = _history(wh)
    assert set(first) == {"EffectiveDate", "ContractStatus"}
    assert all(r[2] is None for r in first.values())

    # The CLM moves the date back: that mismatch is resolved, the status one stays open.
    wh.clm("contract", [_clm_contract("2025-03-01", "On Hold")])
    wh.build("+rpt_summary")
    second = _history(wh)
    run2 = second["ContractStatus"][1]
    assert second["ContractStatus"][0] == first["ContractStatus"][0]
    assert second["ContractStatus"][0] < run2
    assert second["EffectiveDate"][2] == run2  # resolved in this run
    assert second["EffectiveDate"][1] == first["EffectiveDate"][1]  # last seen in the first
    assert wh.rows("SELECT field FROM reports.rpt_mismatches") == [("ContractStatus",)]
    assert wh.rows(
        "SELECT open_mismatches, resolved_this_run FROM reports.rpt_summary "
        "WHERE kind = 'amended_dates' AND legal_entity = 'demf'"
    ) == [(0, 1)]

    # It comes back: open again, first seen now, counted as reopened.
    wh.clm("contract", [_clm_contract("2025-03-05", "On Hold")])
    wh.build("+rpt_summary")
    third = _history(wh)
    run3 = third["ContractStatus"][1]
    assert third["EffectiveDate"] == (run3, run3, None, 1)
    assert third["ContractStatus"][0] == first["ContractStatus"][0]
