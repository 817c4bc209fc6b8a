"""Compare what a run found with a ground truth (the emulator's ``ground_truth.json`` format).

A ground truth lists the discrepancies planted in a synthetic world, each with the report kind a
run must find (``expected.report``) and the action it must take (``expected.action``). The demo
and the end-to-end tests use these checks to show that the figures a run prints are right.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

Key = tuple[str, str, str, str, str]  # kind, entity, legal_entity, record_key, field


def _key(kind: object, entity: object, le: object, record: object, fld: object) -> Key:
    return (str(kind), str(entity), str(le or "").lower(), str(record), str(fld or ""))


def expected_mismatches(truth: dict[str, Any]) -> set[Key]:
    """The report rows the ground truth says a run must produce."""
    return {
        _key(d["expected"]["report"], d["entity"], d["legal_entity"], d["record_key"], d["field"])
        for d in truth["discrepancies"]
        if d["expected"]["report"]
    }


def expected_actions(truth: dict[str, Any]) -> Counter[str]:
    """Actions the ground truth still expects, per action (create, update, close)."""
    return Counter(
        str(d["expected"]["action"]) for d in truth["discrepancies"] if d["expected"]["action"]
    )


def unresolved_actions(truth: dict[str, Any]) -> int:
    """How many actions the ground truth still expects (0 after a complete push)."""
    return sum(expected_actions(truth).values())


@dataclass
class TruthCheck:
    """Per kind: (in the ground truth, found by the run, found and in the ground truth)."""

    by_kind: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    missing: list[Key] = field(default_factory=list)  # first few expected and not found
    unexpected: list[Key] = field(default_factory=list)  # first few found and not expected

    @property
    def expected(self) -> int:
        return sum(v[0] for v in self.by_kind.values())

    @property
    def found(self) -> int:
        return sum(v[1] for v in self.by_kind.values())

    @property
    def matched(self) -> int:
        return sum(v[2] for v in self.by_kind.values())

    @property
    def exact(self) -> bool:
        return self.expected == self.found == self.matched

    def as_dict(self) -> dict[str, Any]:
        return {
            "expected": self.expected,
            "found": self.found,
            "matched": self.matched,
            "by_kind": {
                k: {"expected": e, "found": f, "matched": m}
                for k, (e, f, m) in sorted(self.by_kind.items())
            },
            "missing": [list(k) for k in self.missing],
            "unexpected": [list(k) for k in self.unexpected],
        }


def found_mismatches(con: duckdb.DuckDBPyConnection) -> set[Key]:
    rows = con.execute(
        "SELECT kind, entity, legal_entity, record_key, field FROM reports.rpt_mismatches"
    ).fetchall()
    return {_key(*row) for row in rows}


def compare(expected: set[Key], found: set[Key]) -> TruthCheck:
    check = TruthCheck()
    kinds = {k[0] for k in expected} | {k[0] for k in found}
    for kind in kinds:
        e = {k for k in expected if k[0] == kind}
        f = {k for k in found if k[0] == kind}
        check.by_kind[kind] = (len(e), len(f), len(e & f))
    check.missing = sorted(expected - found)[:20]
    check.unexpected = sorted(found - expected)[:20]
    return check


def check_reports(analytics: Path, truth: dict[str, Any]) -> TruthCheck:
    """Compare ``reports.rpt_mismatches`` in the snapshot ``analytics`` with ``truth``."""
    con = duckdb.connect(str(analytics), read_only=True)
    try:
        return compare(expected_mismatches(truth), found_mismatches(con))
    finally:
        con.close()
