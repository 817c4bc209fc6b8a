"""The push plan: dependency order, idempotency keys, invalid deltas, routing, replanning."""

from __future__ import annotations

import pytest

from connectors.errors import PlanError
from loader import ledger
from loader.plan import has_plan, latest_run, load_rows, make_plan
from tests.unit.loader import kit


def _plan(rows: list[dict], **kw: object) -> tuple[object, list]:
    con = kit.warehouse()
    kit.write(con, rows)
    summary = make_plan(con, "run-1", threshold=kw.pop("threshold", 10), **kw)  # type: ignore[arg-type]
    return summary, load_rows(con, "run-1")


def test_rows_follow_dependencies_then_creates_updates_closes() -> None:
    _, rows = _plan([
        kit.line_close("usmf", "PA0000001", 2),
        kit.clm_update("CPTY-0000001", "usmf", name="Contoso"),
        kit.line_create("usmf", "AGL-00000001", "K-0000001"),
        kit.contract_update("usmf", "C0000001", {"EffectiveDate": "2025-04-01"},
                            {"EffectiveDate": "2025-03-01"}),
        kit.contract_create("usmf", "K-0000001"),
        kit.line_update("usmf", "PA0000001", 1, {"Price": "13"}, {"Price": "12"}),
    ])  # fmt: skip
    order = [(r.entity, r.action) for r in rows]
    assert order == [
        ("CLMIntegrationContracts", "create"),
        ("CLMIntegrationContracts", "update"),
        ("CLMIntegrationPurchaseAgreementLines", "create"),
        ("CLMIntegrationPurchaseAgreementLines", "update"),
        ("CLMIntegrationPurchaseAgreementLines", "close"),
        ("counterparty", "update"),
    ]
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5, 6]
    assert [r.operation for r in rows] == ["POST", "PATCH", "POST", "PATCH", "DELETE", "UPSERT"]


def test_the_idempotency_key_is_the_change_itself() -> None:
    update = kit.contract_update("usmf", "C0000001", {"EffectiveDate": "2025-04-01"},
                                 {"EffectiveDate": "2025-03-01"})  # fmt: skip
    same = dict(update, delta_id="another id, same change")
    other = kit.contract_update("usmf", "C0000001", {"EffectiveDate": "2025-05-01"},
                                {"EffectiveDate": "2025-03-01"})  # fmt: skip
    _, first = _plan([update])
    _, second = _plan([same])
    _, third = _plan([other])
    assert first[0].idempotency_key == second[0].idempotency_key
    assert first[0].idempotency_key != third[0].idempotency_key


def test_the_company_key_comes_from_the_legal_entity_when_the_keys_leave_it_out() -> None:
    row = kit.contract_create("usmf", "K-0000001")
    row["keys"] = {"ExternalContractId": "K-0000001"}
    _, rows = _plan([row])
    assert rows[0].keys == {"ExternalContractId": "K-0000001", "LegalEntityId": "usmf"}
    assert rows[0].problem is None


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        (kit.contract_create("usmf", "K-1", Colour="red"), "has no field(s) Colour"),
        (kit.contract_create("usmf", "K-1", EffectiveDate="1.3.2025"), "bad value EffectiveDate"),
        (kit.contract_update("usmf", "C1", {}, {}), "nothing to change"),
        (kit.contract_update("usmf", "C1", {"ContractId": "C2"}, {}), "ContractId cannot be"),
        (kit.scm(kit.K, "close", "usmf", "C1", {"LegalEntityId": "usmf", "ContractId": "C1"},
                 {}, None), "must set ContractStatus"),
        (kit.scm(kit.L, "update", "usmf", "PA1|1", {"PurchaseAgreementLegalEntityId": "usmf"},
                 {"Price": "1"}, None), "PurchaseAgreementId, LineNumber missing"),
        (kit.scm("VendorsV2", "update", "usmf", "V1", {}, {"CreditLimit": "1"}, None),
         "not a CLM-to-SCM entity"),
        (kit.clm_update("CPTY-1", "usmf", shoe_size="44"), "have no field(s) shoe_size"),
    ],
)  # fmt: skip
def test_an_invalid_delta_is_planned_with_its_problem_and_not_routed(
    row: dict, problem: str
) -> None:
    summary, rows = _plan([row])
    assert rows[0].problem is not None
    assert problem in rows[0].problem
    assert rows[0].channel == "none"
    assert summary.problems[0][2] == rows[0].problem  # type: ignore[attr-defined]


def test_an_invalid_delta_fails_in_the_ledger_with_its_reason() -> None:
    con = kit.warehouse()
    kit.write(
        con, [kit.contract_create("usmf", "K-1", Colour="red"), kit.contract_create("usmf", "K-2")]
    )
    make_plan(con, "run-1", threshold=10)
    ledger.open_rows(con, "run-1")
    ledger.finish_invalid_and_unwanted(con, "run-1", None)
    assert ledger.counts(con, "run-1") == {"failed": 1, "pending": 1}
    (failure,) = [f for f in ledger.failures(con, "run-1") if f.status == "failed"]
    assert failure.record_key == "K-1"
    assert failure.reason.startswith("invalid delta: ")


def test_routing_by_rows_per_entity_and_legal_entity() -> None:
    rows = [kit.line_create("usmf", f"AGL-{i:08d}", "K-1") for i in range(4)]
    rows += [kit.line_create("demf", f"AGL-{i:08d}", "K-2") for i in range(3)]
    rows += [kit.line_close("usmf", "PA1", n) for n in range(1, 6)]
    summary, planned = _plan(rows, threshold=3)
    channels = {(r.legal_entity, r.operation): r.channel for r in planned}
    assert channels == {
        ("usmf", "POST"): "package",  # 4 > 3
        ("demf", "POST"): "odata",  # 3 <= 3
        ("usmf", "DELETE"): "odata",  # deletes cannot be imported
    }
    reasons = {(d.legal_entity, d.channel): d.reason for d in summary.decisions}  # type: ignore[attr-defined]
    assert reasons[("usmf", "package")] == "4 rows > threshold 3: package import"
    assert reasons[("demf", "odata")] == "3 rows <= threshold 3: OData $batch"


def test_missing_deltas_are_an_error_naming_the_relation() -> None:
    con = kit.warehouse()
    with pytest.raises(PlanError, match=r"deltas\.dlt_scm__contracts does not exist") as caught:
        make_plan(con, "run-1", threshold=10)
    assert caught.value.hint is not None
    assert "models build" in caught.value.hint


def test_a_plan_is_kept_and_cannot_be_replaced_once_started() -> None:
    con = kit.warehouse()
    kit.write(con, [kit.contract_create("usmf", "K-1")])
    make_plan(con, "run-1", threshold=10)
    kit.write(con, [kit.contract_create("usmf", "K-1"), kit.contract_create("usmf", "K-2")])
    assert make_plan(con, "run-1", threshold=10).rows == 1  # the run's plan stays as it was
    assert make_plan(con, "run-1", threshold=10, replace=True).rows == 2
    ledger.open_rows(con, "run-1")
    ledger.mark_sent(con, "run-1", [1], channel="odata")
    with pytest.raises(PlanError, match="has started"):
        make_plan(con, "run-1", threshold=10, replace=True)


def test_an_empty_plan_is_a_plan() -> None:
    con = kit.warehouse()
    kit.write(con, [])
    assert make_plan(con, "run-1", threshold=10).rows == 0
    assert has_plan(con, "run-1")
    assert not has_plan(con, "run-2")
    assert latest_run(con) == "run-1"
