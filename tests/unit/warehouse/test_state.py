from __future__ import annotations

import json

import duckdb
import pytest

from tests.unit.warehouse.helpers import rows
from warehouse import db, state


def test_schemas_and_ops_tables_exist_on_first_use(con: duckdb.DuckDBPyConnection) -> None:
    schemas = {r[0] for r in rows(con, "SELECT schema_name FROM duckdb_schemas()")}
    assert set(db.SCHEMAS) <= schemas
    tables = {r[0] for r in rows(con, "SELECT table_name FROM duckdb_tables() "
                                      "WHERE schema_name = 'ops'")}  # fmt: skip
    assert {"runs", "extract_state", "quarantine", "tombstones", "landed_files",
            "model_runs", "test_results", "seed_state"} <= tables  # fmt: skip


def insert_then_fail(con: duckdb.DuckDBPyConnection, error: Exception) -> None:
    with db.transaction(con):
        con.execute("INSERT INTO t VALUES (2)")
        raise error


def test_transaction_commits_or_rolls_back_as_a_whole(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE TABLE t (x INT)")
    with db.transaction(con):
        con.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(ZeroDivisionError):
        insert_then_fail(con, ZeroDivisionError())
    assert rows(con, "SELECT x FROM t") == [(1,)]


def test_quote_ident_keeps_spelling_and_escapes_quotes() -> None:
    assert db.quote_ident("dataAreaId") == '"dataAreaId"'
    assert db.quote_ident('a"b') == '"a""b"'
    assert db.qualified("raw_scm", "vendors") == '"raw_scm"."vendors"'
    assert db.quote_literal("O'HARA") == "'O''HARA'"


def test_steps_are_recorded_with_their_outcome(con: duckdb.DuckDBPyConnection) -> None:
    run = state.new_run_id()
    with state.step(con, run, "extract", entity="VendorsV2", legal_entity="usmf") as step:
        step.rows = 10
        step.detail["execution_id"] = "EXE-1"
    with pytest.raises(ValueError, match="boom"), state.step(con, run, "land"):
        raise ValueError("boom")
    state.record_step(con, run, "snapshot", status="skipped", detail={"why": "not due"})
    steps = state.run_steps(con, run)
    assert [(s["step"], s["status"]) for s in steps] == [
        ("extract", "succeeded"),
        ("land", "failed"),
        ("snapshot", "skipped"),
    ]
    assert steps[0]["rows"] == 10
    assert json.loads(steps[0]["detail"]) == {"execution_id": "EXE-1"}
    assert steps[0]["entity"] == "VendorsV2"
    assert steps[0]["ended_at"] >= steps[0]["started_at"]
    assert steps[1]["error"] == "ValueError: boom"


def test_a_failed_step_is_recorded_even_when_its_work_rolls_back(
    con: duckdb.DuckDBPyConnection,
) -> None:
    con.execute("CREATE TABLE t (x INT)")
    with pytest.raises(RuntimeError), state.step(con, "run-1", "work"):
        insert_then_fail(con, RuntimeError("disk full"))
    assert rows(con, "SELECT count(*) FROM t") == [(0,)]
    assert rows(con, "SELECT status, error FROM ops.runs") == [
        ("failed", "RuntimeError: disk full")
    ]


def test_watermarks_keep_what_an_update_leaves_out(con: duckdb.DuckDBPyConnection) -> None:
    assert state.get_extract_state(con, "scm", "VendorsV2", "usmf") is None
    with db.transaction(con):
        state.advance(con, "scm", "VendorsV2", "USMF", state.Watermark("E1", "100"),
                      rows=5, run_id="r1")  # fmt: skip
    with db.transaction(con):
        state.advance(con, "scm", "VendorsV2", "usmf", state.Watermark("E2"), rows=3, run_id="r2")
    got = state.get_extract_state(con, "scm", "VendorsV2", "usmf")
    assert got is not None
    assert (got.last_execution_id, got.change_version, got.rows_landed, got.rows_total) == (
        "E2",
        "100",
        3,
        8,
    )
    assert got.last_run_id == "r2"
    assert got.legal_entity == "usmf"


def test_a_pending_execution_survives_until_that_execution_lands(
    con: duckdb.DuckDBPyConnection,
) -> None:
    state.set_pending(con, "scm", ["VendorsV2"], "usmf", "E5", run_id="r1")
    with db.transaction(con):
        state.advance(con, "scm", "VendorsV2", "usmf", state.Watermark("E4"), rows=1, run_id="r")
    still = state.get_extract_state(con, "scm", "VendorsV2", "usmf")
    assert still is not None
    assert still.pending_execution_id == "E5"
    state.clear_pending(con, "scm", "VendorsV2", "usmf")
    cleared = state.get_extract_state(con, "scm", "VendorsV2", "usmf")
    assert cleared is not None
    assert cleared.pending_execution_id is None
