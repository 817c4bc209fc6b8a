from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from connectors.errors import ModelTestFailed
from tests.unit.warehouse.helpers import rows, write_project
from warehouse.runner import Project, build, run_tests

PARENTS = "select * from (values ('p1'), ('p2')) t(id)"
CLEAN = """
    select * from (values (1, 'a', 'p1', 'Open'), (2, 'b', 'p2', 'Closed'),
                          (0, 'c', null, null)) t(id, code, parent_id, status)
"""
DIRTY = """
    select * from (values (1, 'a', 'p1', 'Open'), (1, 'b', 'p9', 'Opne'),
                          (null, 'c', null, null)) t(id, code, parent_id, status)
"""


def project(tmp_path: Path, body: str, severity: str = "error") -> Project:
    return write_project(
        tmp_path,
        {
            "models/marts/parents.sql": PARENTS,
            "models/marts/things.sql": body,
            "models/marts/_marts.yml": f"""
                models:
                  - name: things
                    tests:
                      - unique: [code, status]
                      - sql: select * from marts.things where id > 2 and parent_id is null
                        name: late_things_have_parents
                        severity: {severity}
                    columns:
                      - name: id
                        tests: [unique, not_null]
                      - name: parent_id
                        tests:
                          - relationships: {{to: marts.parents, field: id, severity: {severity}}}
                      - name: status
                        tests:
                          - accepted_values: {{values: [Open, Closed], severity: {severity}}}
            """,
        },
    )


def test_every_kind_passes_on_clean_data(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    p = project(tmp_path, CLEAN)
    build(con, p)
    results = run_tests(con, p, run_id="run-1")
    assert {r.kind: r.status for r in results} == {
        "unique": "pass",
        "not_null": "pass",
        "relationships": "pass",
        "accepted_values": "pass",
        "sql": "pass",
    }
    assert rows(con, "SELECT count(*), count(DISTINCT status) FROM ops.test_results") == [(6, 1)]


def test_every_kind_fails_on_dirty_data_and_stops_the_run(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    more = "(null, 'c', null, null), (3, 'd', null, 'Open'), (4, 'd', null, 'Open')"
    p = project(tmp_path, DIRTY.replace("(null, 'c', null, null)", more))
    build(con, p)
    with pytest.raises(ModelTestFailed) as err:
        run_tests(con, p, run_id="run-1")
    failures = {r[0]: r[1] for r in rows(con, "SELECT test_name, failures FROM ops.test_results "
                                              "WHERE status = 'fail'")}  # fmt: skip
    assert failures == {
        "unique__things__id": 1,  # id 1 twice (NULL is not a duplicate)
        "not_null__things__id": 1,
        "relationships__things__parent_id": 1,  # p9
        "accepted_values__things__status": 1,  # one distinct bad value: Opne
        "unique__things__code__status": 1,  # (d, Open) twice
        "late_things_have_parents": 2,
    }
    assert len(err.value.failures) == 6
    sample = rows(con, "SELECT sample FROM ops.test_results "
                       "WHERE test_name = 'accepted_values__things__status'")[0][0]  # fmt: skip
    assert json.loads(str(sample)) == [{"value": "Opne", "n_rows": 1}]


def test_warn_tests_report_without_stopping(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    p = project(tmp_path, DIRTY.replace("(1, 'b'", "(2, 'b'").replace("null, 'c'", "5, 'c'"),
                severity="warn")  # fmt: skip
    build(con, p)
    results = run_tests(con, p)
    assert {r.name: r.status for r in results if r.status != "pass"} == {
        "relationships__things__parent_id": "warn",
        "accepted_values__things__status": "warn",
        "late_things_have_parents": "warn",
    }


def test_a_test_that_cannot_run_fails_the_run(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    p = write_project(
        tmp_path,
        {
            "models/marts/m.sql": "select 1 as id",
            "models/marts/_marts.yml": """
                models:
                  - name: m
                    tests:
                      - sql: select * from marts.m where no_such_column = 1
                        severity: warn
            """,
        },
    )
    build(con, p)
    with pytest.raises(ModelTestFailed, match=r"sql__m \(m\): error: .*no_such_column"):
        run_tests(con, p)
    assert rows(con, "SELECT status FROM ops.test_results") == [("error",)]


def test_only_the_selected_models_are_tested(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    p = project(tmp_path, DIRTY)
    build(con, p)
    assert run_tests(con, p, selectors=["parents"]) == []
