"""Package batches and the guardrails."""

from __future__ import annotations

import pytest

from connectors.errors import GuardrailError
from loader import guard
from loader.plan import load_rows, make_plan
from loader.route import Routable, decide
from tests.unit.loader import kit


def _routable(seq: int, key: str, fields: tuple[str, ...], op: str = "PATCH") -> Routable:
    return Routable(seq, "scm", kit.K, "usmf", "update", op, key, fields, True)


def test_package_batches_never_carry_a_column_a_row_does_not_change() -> None:
    rows = [
        _routable(1, "c1", ("EffectiveDate",)),
        _routable(2, "c2", ("EffectiveDate", "ExpirationDate")),
        _routable(3, "c3", ("EffectiveDate",)),
        _routable(4, "k9", ("ContractType", "ContractStatus"), op="POST"),
    ]
    decide(rows, threshold=0)
    assert {r.channel for r in rows} == {"package"}
    batches = [r.batch_id for r in rows]
    assert batches[0] == batches[2]  # same change kind, same fields: one import
    assert len(set(batches)) == 3
    assert batches[0] == "contracts-usmf-001"


def test_two_changes_of_one_record_go_in_different_batches() -> None:
    rows = [_routable(1, "c1", ("EffectiveDate",)), _routable(2, "c1", ("EffectiveDate",))]
    decide(rows, threshold=0)
    assert rows[0].batch_id != rows[1].batch_id


def test_forced_routes_ignore_the_threshold_but_never_import_a_delete() -> None:
    rows = [_routable(1, "c1", ("EffectiveDate",)), _routable(2, "l1", (), op="DELETE")]
    (decision,) = decide(rows, threshold=100, route="package")
    assert [r.channel for r in rows] == ["package", "odata"]
    assert decision.reason == "1 rows; package forced (threshold 100 not applied)"
    assert decision.closes == 1


def _planned(rows: list[dict]) -> object:
    con = kit.warehouse()
    kit.write(con, rows)
    make_plan(con, "run-1", threshold=10)
    return con


def test_a_failed_extract_stops_the_push_and_says_how_to_override() -> None:
    con = _planned([kit.contract_create("usmf", "K-1")])
    con.execute(  # type: ignore[attr-defined]
        "INSERT INTO ops.runs (run_id, step, entity, legal_entity, status, started_at, error) "
        "VALUES ('run-1', 'extract', 'VendorsV2', 'usmf', 'failed', now(), "
        "'CompletenessError: VendorsV2 (usmf): expected 10 rows, landed 9')"
    )
    with pytest.raises(GuardrailError) as caught:
        guard.check(con, "run-1", share=0.25)  # type: ignore[arg-type]
    assert caught.value.rule == "extract"
    assert "expected 10 rows, landed 9" in str(caught.value)
    assert caught.value.hint is not None
    assert "--override extract" in caught.value.hint
    checks = guard.check(con, "run-1", share=0.25, overrides={"extract"})  # type: ignore[arg-type]
    assert next((c.rule, c.passed, c.overridden) for c in checks) == ("extract", False, True)


def test_a_failed_error_level_model_test_stops_the_push() -> None:
    con = _planned([kit.contract_create("usmf", "K-1")])
    for severity, status in (("warn", "warn"), ("error", "fail")):
        con.execute(  # type: ignore[attr-defined]
            "INSERT INTO ops.test_results (run_id, test_name, model, kind, severity, status, "
            "failures, sql, tested_at) VALUES ('run-1', ?, 'dlt_scm__contracts', 'unique', ?, ?, "
            "3, 'select 1', now())",
            [f"t_{severity}", severity, status],
        )
    with pytest.raises(GuardrailError, match="t_error on dlt_scm__contracts: fail"):
        guard.check(con, "run-1", share=0.25)  # type: ignore[arg-type]


def test_the_share_rule_counts_against_the_current_table_above_a_floor() -> None:
    rows = [
        kit.contract_update("usmf", f"C{i:07d}", {"EffectiveDate": "2025-04-01"},
                            {"EffectiveDate": "2025-03-01"})
        for i in range(60)
    ]  # fmt: skip
    con = _planned(rows)
    current = [f"('usmf', 'C{i:07d}')" for i in range(200)]
    con.execute(  # type: ignore[attr-defined]
        'INSERT INTO current_scm.contracts ("LegalEntityId", "ContractId") VALUES '
        + ", ".join(current)
    )
    with pytest.raises(GuardrailError) as caught:
        guard.check(con, "run-1", share=0.25)  # type: ignore[arg-type]
    assert caught.value.rule == "share"
    assert "60 changes for 200 current records (30.0% > 25%" in caught.value.detail
    assert [c.passed for c in guard.check(con, "run-1", share=0.5)] == [True] * 3  # type: ignore[arg-type]
    # Up to the floor a group always passes, however small the table.
    assert guard.check(con, "run-1", share=0.25, floor=60)[2].passed  # type: ignore[arg-type]


def test_unknown_overrides_are_refused() -> None:
    con = _planned([kit.contract_create("usmf", "K-1")])
    with pytest.raises(ValueError, match="unknown guardrail"):
        guard.check(con, "run-1", share=0.25, overrides={"everything"})  # type: ignore[arg-type]
    assert load_rows(con, "run-1")  # type: ignore[arg-type]
