"""Model tests: each declared test is a query returning the failing rows.

``unique`` (a column, or a combination at model level), ``not_null``, ``accepted_values``
(compared as text), ``relationships`` (every non-NULL value is found in ``to.field``) and ``sql``
(your own query returning failing rows). A test passes when its query returns nothing. Failing
``warn`` tests are reported; failing ``error`` tests, and tests whose SQL cannot run, raise
:class:`ModelTestFailed` after every selected test has run, so the pipeline stops before anything
is pushed. Every result, with up to five failing rows, goes to ``ops.test_results``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import duckdb

from connectors.errors import ModelTestFailed
from warehouse import db, state
from warehouse.db import count, quote_ident, quote_literal
from warehouse.runner.build import plan
from warehouse.runner.project import Model, Project
from warehouse.runner.properties import TestSpec

SAMPLE_ROWS = 5


@dataclass(frozen=True)
class TestResult:
    __test__ = False  # not a pytest test class

    name: str
    model: str
    column: str | None
    kind: str
    severity: str
    status: str  # pass | fail | warn | error
    failures: int | None
    sql: str
    seconds: float
    error: str | None = None


def failing_rows_sql(model: Model, spec: TestSpec) -> str:
    """The query returning the rows that fail ``spec``."""
    rel = f"{quote_ident(model.layer)}.{quote_ident(model.name)}"
    cols = [quote_ident(c) for c in spec.columns]
    if spec.kind == "unique":
        listed = ", ".join(cols)
        present = " AND ".join(f"{c} IS NOT NULL" for c in cols)
        return (
            f"SELECT {listed}, count(*) AS n_rows FROM {rel} WHERE {present} "
            f"GROUP BY {listed} HAVING count(*) > 1"
        )
    if spec.kind == "not_null":
        return f"SELECT * FROM {rel} WHERE {cols[0]} IS NULL"
    if spec.kind == "accepted_values":
        values = ", ".join(quote_literal(v) for v in spec.args["values"])
        col = cols[0]
        return (
            f"SELECT CAST({col} AS VARCHAR) AS value, count(*) AS n_rows FROM {rel} "
            f"WHERE {col} IS NOT NULL AND CAST({col} AS VARCHAR) NOT IN ({values}) GROUP BY 1"
        )
    if spec.kind == "relationships":
        schema, _, name = str(spec.args["to"]).rpartition(".")
        other = f"{quote_ident(schema)}.{quote_ident(name)}" if schema else quote_ident(name)
        field = quote_ident(str(spec.args["field"]))
        col = cols[0]
        return (
            f"SELECT c.{col} FROM {rel} c WHERE c.{col} IS NOT NULL AND NOT EXISTS "
            f"(SELECT 1 FROM {other} p WHERE p.{field} = c.{col})"
        )
    if spec.kind == "sql":
        return str(spec.args["query"])
    raise ValueError(f"unknown test kind {spec.kind}")


def run_tests(
    con: duckdb.DuckDBPyConnection,
    project: Project,
    *,
    selectors: Sequence[str] = (),
    exclude: Sequence[str] = (),
    run_id: str | None = None,
    raise_on_error: bool = True,
) -> list[TestResult]:
    """Run the tests of the selected models; record them; raise if an error-level one failed."""
    run_id = run_id or state.new_run_id()
    _, chosen = plan(con, project, selectors, exclude)
    done: list[tuple[TestResult, str | None, datetime]] = []
    for model in chosen:
        for spec in _unique_names(model.tests):
            result, sample = _run_one(con, model, spec)
            done.append((result, sample, state.utcnow()))
    _record(con, run_id, done)
    results = [result for result, _, _ in done]
    failed = [r for r in results if r.status in ("fail", "error")]
    if failed and raise_on_error:
        raise ModelTestFailed(
            [
                f"{r.name} ({r.model}): "
                + (f"{r.failures} failing row(s)" if r.status == "fail" else f"error: {r.error}")
                for r in failed
            ]
        )
    return results


def _unique_names(specs: Sequence[TestSpec]) -> list[TestSpec]:
    seen: dict[str, int] = {}
    out = []
    for spec in specs:
        n = seen.get(spec.name, 0) + 1
        seen[spec.name] = n
        if n > 1:
            spec = replace(spec, name=f"{spec.name}_{n}")
        out.append(spec)
    return out


def _run_one(
    con: duckdb.DuckDBPyConnection, model: Model, spec: TestSpec
) -> tuple[TestResult, str | None]:
    sql = failing_rows_sql(model, spec)
    column = spec.columns[0] if len(spec.columns) == 1 else None
    clock = time.perf_counter()
    try:
        failures = count(con, f"SELECT count(*) FROM (\n{sql}\n)")
        sample = None
        if failures:
            cur = con.execute(f"SELECT * FROM (\n{sql}\n) LIMIT {SAMPLE_ROWS}")
            names = [d[0] for d in cur.description or ()]
            rows = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
            sample = json.dumps(rows, default=str)
    except duckdb.Error as exc:
        result = TestResult(
            spec.name, model.name, column, spec.kind, spec.severity, "error", None, sql,
            state.elapsed(clock), str(exc),
        )  # fmt: skip
        return result, None
    status = "pass" if not failures else ("fail" if spec.severity == "error" else "warn")
    result = TestResult(
        spec.name, model.name, column, spec.kind, spec.severity, status, failures, sql,
        state.elapsed(clock),
    )  # fmt: skip
    return result, sample


def _record(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    done: Sequence[tuple[TestResult, str | None, datetime]],
) -> None:
    """Every result in ``ops.test_results`` in one insert (one statement per test cost ~5 ms
    each: a second per run of the project's ~220 tests)."""
    db.append_rows(
        con,
        "ops.test_results",
        [
            {
                "run_id": run_id,
                "test_name": r.name,
                "model": r.model,
                "column_name": r.column,
                "kind": r.kind,
                "severity": r.severity,
                "status": r.status,
                "failures": r.failures,
                "sample": sample,
                "error": r.error,
                "sql": r.sql,
                "seconds": r.seconds,
                "tested_at": tested_at,
            }
            for r, sample, tested_at in done
        ],
    )
