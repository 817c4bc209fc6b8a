"""What a run did, per entity, read back from the warehouse.

The figures come from the records the steps themselves wrote (``ops.landed_files``,
``reports.rpt_mismatches``, ``ops.push_plan``, ``ops.push_ledger``), so the summary the CLI prints,
the ``--json`` object and the Prefect artifact all say the same thing and can be checked with a
query. ``entity`` is an SCM entity set (``VendorsV2``) or a CLM object type (``contract``), as in
the reports.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb

from warehouse import db


@dataclass
class EntityFigures:
    """One entity's row of the run summary."""

    entity: str
    extracted: int = 0
    landed: int = 0
    quarantined: int = 0
    mismatches: dict[str, int] = field(default_factory=dict)  # kind -> open mismatches
    planned: int = 0
    pushed: dict[str, int] = field(default_factory=dict)  # channel -> records applied
    failed: int = 0
    verified: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "extracted": self.extracted,
            "landed": self.landed,
            "quarantined": self.quarantined,
            "mismatches": dict(sorted(self.mismatches.items())),
            "planned": self.planned,
            "pushed": dict(sorted(self.pushed.items())),
            "failed": self.failed,
            "verified": self.verified,
        }


@dataclass
class StepOutcome:
    """One step of the run as the CLI and the artifacts show it."""

    step: str
    status: str  # succeeded | failed | skipped
    seconds: float = 0.0
    detail: str = ""


@dataclass
class RunReport:
    """The whole run: status, steps, per-entity figures, and the error that stopped it."""

    run_id: str
    flow: str
    status: str = "running"  # succeeded | failed | awaiting_approval | rejected
    started_at: datetime | None = None
    ended_at: datetime | None = None
    entities: dict[str, EntityFigures] = field(default_factory=dict)
    steps: list[StepOutcome] = field(default_factory=list)
    failed_step: str | None = None
    error: str | None = None
    hint: str | None = None
    snapshot: str | None = None
    notes: list[str] = field(default_factory=list)
    exception: BaseException | None = field(default=None, repr=False, compare=False)

    def figures(self, entity: str) -> EntityFigures:
        if entity not in self.entities:
            self.entities[entity] = EntityFigures(entity)
        return self.entities[entity]

    @property
    def seconds(self) -> float:
        if self.started_at is None or self.ended_at is None:
            return 0.0
        return (self.ended_at - self.started_at).total_seconds()

    def totals(self) -> EntityFigures:
        total = EntityFigures("total")
        for f in self.entities.values():
            total.extracted += f.extracted
            total.landed += f.landed
            total.quarantined += f.quarantined
            total.planned += f.planned
            total.failed += f.failed
            total.verified += f.verified
            for kind, n in f.mismatches.items():
                total.mismatches[kind] = total.mismatches.get(kind, 0) + n
            for channel, n in f.pushed.items():
                total.pushed[channel] = total.pushed.get(channel, 0) + n
        return total

    def as_dict(self) -> dict[str, Any]:
        """The one JSON object ``clmsync run --json`` prints."""
        return {
            "run_id": self.run_id,
            "flow": self.flow,
            "status": self.status,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "seconds": round(self.seconds, 3),
            "failed_step": self.failed_step,
            "error": self.error,
            "hint": self.hint,
            "snapshot": self.snapshot,
            "entities": {name: f.as_dict() for name, f in sorted(self.entities.items())},
            "totals": self.totals().as_dict(),
            "steps": [
                {
                    "step": s.step,
                    "status": s.status,
                    "seconds": round(s.seconds, 3),
                    "detail": s.detail,
                }
                for s in self.steps
            ],
            "notes": list(self.notes),
        }


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    return con.execute(sql, params).fetchall()


ExtractFigures = dict[str, tuple[int, int, int]]  # entity -> (extracted, landed, quarantined)


def collect(
    con: duckdb.DuckDBPyConnection, report: RunReport, extract: ExtractFigures | None = None
) -> RunReport:
    """Fill ``report.entities`` from what the run recorded in the warehouse.

    ``extract`` (the extract step's own counts) replaces the landing records when given: it
    also counts rows read and found unchanged (a reference set read again), which land nothing.
    """
    run_id = report.run_id
    report.entities.clear()
    if extract is not None:
        for entity, (extracted, landed, quarantined) in extract.items():
            f = report.figures(entity)
            f.extracted, f.landed, f.quarantined = extracted, landed, quarantined
    elif db.relation_exists(con, "ops", "landed_files"):
        for entity, rows_in, landed, quarantined in _rows(
            con,
            "SELECT entity, sum(rows_in), sum(landed), sum(quarantined) FROM ops.landed_files "
            "WHERE run_id = ? GROUP BY entity",
            [run_id],
        ):
            f = report.figures(str(entity))
            f.extracted, f.landed, f.quarantined = int(rows_in), int(landed), int(quarantined)
    if db.relation_exists(con, "reports", "rpt_mismatches"):
        for entity, kind, n in _rows(
            con,
            "SELECT entity, kind, count(*) FROM reports.rpt_mismatches GROUP BY ALL",
            [],
        ):
            report.figures(str(entity)).mismatches[str(kind)] = int(n)
    if db.relation_exists(con, "ops", "push_plan"):
        for entity, n in _rows(
            con,
            "SELECT entity, count(*) FROM ops.push_plan WHERE run_id = ? GROUP BY entity",
            [run_id],
        ):
            report.figures(str(entity)).planned = int(n)
    if db.relation_exists(con, "ops", "push_ledger"):
        _ledger(con, report)
    return report


def _ledger(con: duckdb.DuckDBPyConnection, report: RunReport) -> None:
    pushed: dict[str, dict[str, int]] = defaultdict(dict)
    for entity, channel, status, verify, n in _rows(
        con,
        "SELECT entity, coalesce(channel, 'none'), status, verify_status, count(*) "
        "FROM ops.push_ledger WHERE run_id = ? GROUP BY ALL",
        [report.run_id],
    ):
        f = report.figures(str(entity))
        if status == "succeeded":
            pushed[str(entity)][str(channel)] = pushed[str(entity)].get(str(channel), 0) + int(n)
        elif status == "failed":
            f.failed += int(n)
        if verify == "verified":
            f.verified += int(n)
    for entity, channels in pushed.items():
        report.figures(entity).pushed = channels
