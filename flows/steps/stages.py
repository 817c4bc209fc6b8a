"""The run's steps as calls into the other layers: extract, loader, their one-line summaries.

:mod:`flows.steps.run` decides the order; these functions make each call with the run's context,
hand fanned-out work (the extract's units: one per legal entity's package, reference set, CLM
object) to the step runner, and turn push progress into the runner's progress reporters.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import duckdb

from flows import artifacts
from flows.clients import Clients
from flows.params import CLM_OBJECT_NAMES, Approval
from flows.settings import Settings
from flows.steps import extract as extract_steps
from flows.steps import push as push_steps
from flows.steps.build import BuildReport
from flows.steps.extract_types import EntityResult, ExtractReport, Unit
from flows.steps.runner import Progress, Runner
from loader import guard as guardrails
from loader.model import PlanSummary, PushProgress
from warehouse.snapshot import SnapshotResult

if TYPE_CHECKING:
    from flows.steps.run import RunOptions


@dataclass
class Context:
    """What every step of one run gets."""

    settings: Settings
    clients: Clients
    runner: Runner
    run_id: str
    options: RunOptions
    added_entities: frozenset[tuple[str, str]] = field(default_factory=frozenset)


def _unit_job(unit: Unit) -> Callable[[], list[EntityResult]]:
    """A unit as a job that raises its first failure, so the job (task) fails visibly and a
    transient failure is retried; the unit itself resumes where it stopped (pending
    executions, files landed once)."""

    def job() -> list[EntityResult]:
        results = unit()
        for result in results:
            if result.exception is not None:
                raise result.exception
        return results

    return job


def extract(ctx: Context, con: duckdb.DuckDBPyConnection) -> ExtractReport:
    """Bootstrap the data projects (if asked) and extract SCM and the CLM, one job per unit."""
    options = ctx.options

    def units_runner(units: Sequence[Unit], workers: int) -> list[EntityResult]:
        jobs = [(unit.name, _unit_job(unit)) for unit in units]
        done = ctx.runner.each("extract", jobs, network=True, limit=workers)
        return [r for results in done for r in results]

    entities: list[str] | None = None
    if options.entities:
        entities = list(options.entities) + (list(CLM_OBJECT_NAMES) if options.clm else [])
    report = extract_steps.extract_all(
        ctx.settings,
        ctx.clients,
        con,
        run_id=ctx.run_id,
        entities=entities,
        legal_entities=list(options.legal_entities) or None,
        full=True if options.full else frozenset(),
        bootstrap=options.bootstrap,
        clm=options.clm,
        runner=units_runner,
    )
    report.raise_for_failures()
    return report


def extract_figures(report: ExtractReport) -> dict[str, tuple[int, int, int]]:
    """Per entity: rows read from the source, landed and quarantined."""
    figures: dict[str, tuple[int, int, int]] = {}
    for r in report.results:
        extracted, landed, quarantined = figures.get(r.entity, (0, 0, 0))
        figures[r.entity] = (
            extracted + r.extracted,
            landed + r.landed,
            quarantined + r.quarantined,
        )
    return figures


def plan(ctx: Context, con: duckdb.DuckDBPyConnection) -> PlanSummary:
    """The run's push plan (an existing plan is kept as it is)."""
    return push_steps.plan(con, ctx.settings, ctx.run_id)


def guard(ctx: Context, con: duckdb.DuckDBPyConnection, summary: PlanSummary) -> list[Any]:
    """The guardrails, before anyone is asked to approve (raises GuardrailError)."""
    return guardrails.check(con, ctx.run_id, share=ctx.settings.sync.guardrail_share)


class _PushProgress:
    """Loader progress (per entity and legal entity) → one reporter per phase."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.bars: dict[str, Progress] = {}
        self.groups: dict[str, dict[tuple[str, str | None, str], tuple[int, int]]] = {}
        self.lock = threading.Lock()

    def __call__(self, event: PushProgress) -> None:
        with self.lock:
            groups = self.groups.setdefault(event.phase, {})
            # The verify phase counts across the whole run; a package report is one finished
            # batch (several per entity and legal entity); the rest count per entity and legal
            # entity.
            key: tuple[str, str | None, str] = (event.entity, event.legal_entity, event.channel)
            if event.phase == "verify":
                key = ("", None, "")
            elif event.channel == "package":
                key = (event.entity, event.legal_entity, f"package {len(groups)}")
            groups[key] = (event.done, event.total)
            done = sum(d for d, _ in groups.values())
            total = sum(t for _, t in groups.values())
            if event.phase not in self.bars:
                self.bars[event.phase] = self.runner.progress(event.phase, total)
            where = f"{event.entity} {event.legal_entity or ''}".strip()
            self.bars[event.phase].update(done, total, f"{event.phase} {where} ({event.channel})")

    def complete(self) -> None:
        """The push returned: every phase it reported on is complete."""
        for phase, bar in self.bars.items():
            total = sum(t for _, t in self.groups[phase].values())
            bar.update(total, total, phase)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


def push(
    ctx: Context, con: duckdb.DuckDBPyConnection, summary: PlanSummary, approval: Approval
) -> push_steps.PushSummary:
    """Push the approved part of the plan, verify it and feed the CLM."""
    progress = _PushProgress(ctx.runner)
    try:
        result = push_steps.push(
            con,
            ctx.clients,
            ctx.settings,
            ctx.run_id,
            entities=list(approval.entities) or None,
            progress=progress,
        )
        progress.complete()
        return result
    finally:
        progress.close()


def plan_markdown(summary: PlanSummary, settings: Settings) -> str:
    """The plan as an approver reads it."""
    rows = [
        {
            "entity": g.entity,
            "legal_entity": g.legal_entity or "",
            "creates": g.creates,
            "updates": g.updates,
            "closes": g.closes,
            "invalid": g.invalid,
            "channels": ", ".join(g.channels),
        }
        for g in summary.groups
    ]
    head = (
        f"# Plan of run `{summary.run_id}`: {summary.rows:,} changes\n\n"
        f"It is above the approval threshold ({settings.sync.approval_threshold:,}). "
        "The full plan, field by field, is in `ops.push_plan`."
    )
    columns = ["entity", "legal_entity", "creates", "updates", "closes", "invalid", "channels"]
    return head + "\n\n" + artifacts.markdown_table(rows, columns)


def describe(result: object) -> str:
    """One line about a step's result, for the run's steps table."""
    if isinstance(result, ExtractReport):
        return (
            f"{result.total('extracted'):,} extracted, {result.total('landed'):,} landed, "
            f"{result.total('quarantined'):,} quarantined"
        )
    if isinstance(result, BuildReport):
        tests = len(result.tests)
        return f"{result.built} models built, {tests} tests, {len(result.warnings)} warnings"
    if isinstance(result, PlanSummary):
        return f"{result.rows:,} changes planned in {len(result.groups)} groups"
    if isinstance(result, push_steps.PushSummary) and result.push is not None:
        counts = artifacts.format_counts(result.push.counts)
        return f"{counts or 'nothing sent'}; applied as intended {result.applied_as_intended:.1%}"
    if isinstance(result, SnapshotResult):
        return f"{len(result.relations)} relations, {result.rows:,} rows, {result.bytes:,} bytes"
    if isinstance(result, list):
        return f"{len(result)} checks passed"
    return ""
