"""Guardrails: reasons to refuse a push before anything is sent.

Three rules, each overridable on purpose by name (``--override <rule>`` on the command line,
``overrides={"<rule>"}`` in code):

* ``extract``: a step of this run's extract failed (its completeness guard, or anything else):
  the warehouse may be missing rows, so deltas computed from it may be wrong.
* ``model_tests``: an error-level model test failed in this run.
* ``share``: the plan changes more than ``share`` of an entity's records in one legal entity
  (counted against the current table). Groups of at most ``floor`` rows are never stopped, so a
  small entity (or a first sync of a few records) is not blocked by a percentage of nothing.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import duckdb

from connectors import catalog
from connectors.errors import GuardrailError
from loader.schema import PLAN
from warehouse.db import quote_ident, relation_exists

RULES = ("extract", "model_tests", "share")
SHARE_FLOOR = 50  # a group of at most this many rows is never stopped by the share rule


@dataclass(frozen=True)
class Check:
    """One rule's verdict."""

    rule: str
    passed: bool
    detail: str
    overridden: bool = False

    def as_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "passed": self.passed,
            "overridden": self.overridden,
            "detail": self.detail,
        }


def _override(rule: str) -> str:
    return (
        f"If this is deliberate, push with --override {rule} "
        f"(push(..., overrides={{'{rule}'}}) in code)."
    )


def _extract(con: duckdb.DuckDBPyConnection, run_id: str) -> Check:
    failed = con.execute(
        "SELECT step, coalesce(entity, ''), coalesce(legal_entity, ''), coalesce(error, '') "
        "FROM ops.runs WHERE run_id = ? AND lower(step) LIKE 'extract%' AND status = 'failed' "
        "ORDER BY step_id",
        [run_id],
    ).fetchall()
    if not failed:
        return Check("extract", True, "no extract step of this run failed")
    shown = "; ".join(f"{s} {e} {le}: {err}".strip() for s, e, le, err in failed[:3])
    return Check("extract", False, f"{len(failed)} extract step(s) of run {run_id} failed: {shown}")


def _model_tests(con: duckdb.DuckDBPyConnection, run_id: str) -> Check:
    failed = con.execute(
        "SELECT test_name, model, status, coalesce(failures, 0) FROM ops.test_results "
        "WHERE run_id = ? AND severity = 'error' AND status IN ('fail', 'error') "
        "ORDER BY test_name",
        [run_id],
    ).fetchall()
    if not failed:
        return Check("model_tests", True, "no error-level model test failed in this run")
    shown = "; ".join(f"{t} on {m}: {s} ({n} rows)" for t, m, s, n in failed[:3])
    return Check("model_tests", False, f"{len(failed)} error-level model test(s) failed: {shown}")


def _current_count(con: duckdb.DuckDBPyConnection, target: str, entity: str, le: str | None) -> int:
    if target == "clm":
        obj = catalog.clm_object(entity)
        if relation_exists(con, "current_clm", obj.table) is None:
            return 0
        return int(
            con.execute(f"SELECT count(*) FROM current_clm.{quote_ident(obj.table)}").fetchall()[0][
                0
            ]
        )
    spec = catalog.entity(entity)
    if relation_exists(con, "current_scm", spec.table) is None:
        return 0
    sql = f"SELECT count(*) FROM current_scm.{quote_ident(spec.table)}"
    params: list[object] = []
    if spec.company_field and le:
        sql += f" WHERE lower({quote_ident(spec.company_field)}) = ?"
        params.append(le.lower())
    return int(con.execute(sql, params).fetchall()[0][0])


def _share(con: duckdb.DuckDBPyConnection, run_id: str, share: float, floor: int) -> Check:
    groups = con.execute(
        f"SELECT target, entity, legal_entity, count(*) FROM {PLAN} "
        "WHERE run_id = ? AND problem IS NULL GROUP BY ALL ORDER BY ALL",
        [run_id],
    ).fetchall()
    worst: list[str] = []
    for target, entity, le, rows in groups:
        if rows <= floor:
            continue
        try:
            current = _current_count(con, target, entity, le)
        except KeyError:
            continue
        if rows > share * current:
            ratio = f"{rows / current:.1%}" if current else "all of an empty table"
            worst.append(
                f"{entity} in {le or 'all legal entities'}: {rows} changes for {current} "
                f"current records ({ratio} > {share:.0%}; groups of up to {floor} rows pass)"
            )
    if not worst:
        return Check("share", True, f"no entity changes more than {share:.0%} of its records")
    return Check("share", False, "; ".join(worst[:5]) + (" ..." if len(worst) > 5 else ""))


def check(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    *,
    share: float,
    floor: int = SHARE_FLOOR,
    overrides: Collection[str] = (),
) -> list[Check]:
    """Run every rule; raise :class:`GuardrailError` for the first that fails and is not
    overridden. Returns the verdicts (overridden failures marked) for the run's record."""
    unknown = sorted(set(overrides) - set(RULES))
    if unknown:
        raise ValueError(f"unknown guardrail(s) {unknown}; known: {', '.join(RULES)}")
    checks = [_extract(con, run_id), _model_tests(con, run_id), _share(con, run_id, share, floor)]
    verdicts: list[Check] = []
    for item in checks:
        if not item.passed and item.rule in overrides:
            item = Check(item.rule, False, item.detail, overridden=True)
        elif not item.passed:
            raise GuardrailError(item.rule, item.detail, override=_override(item.rule))
        verdicts.append(item)
    return verdicts
