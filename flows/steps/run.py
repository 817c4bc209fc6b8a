"""A whole run as plain functions: the order of the steps, written once.

``reconcile`` (the scheduled run) and ``reload`` (ad hoc) are the same pipeline with different
options: bootstrap → extract SCM and CLM → build models → test → plan → guard → approve if needed →
push → verify → publish the analytics snapshot. ``push`` takes an existing plan from "plan" on.
How each step executes (directly, or as a Prefect task) is the :class:`~flows.steps.runner.Runner`'s
business; the Prefect flows in ``flows/`` and the command line both call :func:`run_pipeline`.

A run that fails anywhere stops there: it records the failed step in ``ops.runs``, does not
publish (the previous analytics snapshot stays), and its report names the step and the cause in
one line (:class:`~connectors.errors.RunFailed`). When a plan needs approval, the run lets go of the
warehouse while it waits (analysts get the fresh reports at once, other runs are not blocked),
and takes it again to push.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

import duckdb

from connectors.errors import ClmSyncError, PlanError, RunFailed
from flows import artifacts
from flows.clients import Clients, build_clients
from flows.params import Approval, PushParameters, ReconcileParameters, ReloadParameters
from flows.settings import Settings
from flows.steps import stages
from flows.steps.build import build_and_test
from flows.steps.publish import publish
from flows.steps.runner import Runner
from flows.steps.summary import RunReport, StepOutcome, collect
from flows.steps.writer import open_writer
from warehouse import state

T = TypeVar("T")


@dataclass(frozen=True)
class RunOptions:
    """What one run does. Empty ``entities`` / ``legal_entities`` mean all in the settings."""

    flow: str = "reconcile"
    bootstrap: bool = True
    extract: bool = True
    full: bool = False
    entities: tuple[str, ...] = ()
    legal_entities: tuple[str, ...] = ()
    clm: bool = True
    build: bool = True
    push: bool = True
    dry_run: bool = False
    approved: bool = False  # the plan is approved up front (CLI --yes, push flow "approved")
    push_entities: tuple[str, ...] = ()  # push only these entities of the plan
    plan_run_id: str | None = None  # push an existing plan instead of planning
    approval_timeout_seconds: float = 3600.0

    @classmethod
    def reconcile(cls, p: ReconcileParameters, *, approved: bool = False) -> RunOptions:
        return cls(
            flow="reconcile",
            full=p.full,
            push=p.push,
            dry_run=p.dry_run,
            approved=approved,
            approval_timeout_seconds=p.approval_timeout_minutes * 60.0,
        )

    @classmethod
    def reload(cls, p: ReloadParameters, *, approved: bool = False) -> RunOptions:
        return cls(
            flow="reload",
            full=p.full,
            entities=tuple(p.entities),
            legal_entities=tuple(p.legal_entities),
            clm=p.clm,
            push=p.push,
            dry_run=p.dry_run,
            approved=approved,
            approval_timeout_seconds=p.approval_timeout_minutes * 60.0,
        )

    @classmethod
    def push_plan(cls, p: PushParameters) -> RunOptions:
        return cls(
            flow="push",
            bootstrap=False,
            extract=False,
            build=False,
            approved=p.approved,
            push_entities=tuple(p.entities),
            plan_run_id=p.run_id or "",
            approval_timeout_seconds=p.approval_timeout_minutes * 60.0,
        )


class _Run:
    """The state of one run while it goes: the open warehouse, the report, the step records."""

    def __init__(
        self, settings: Settings, options: RunOptions, runner: Runner, clients: Clients, run_id: str
    ) -> None:
        self.settings = settings
        self.options = options
        self.runner = runner
        self.clients = clients
        self.report = RunReport(run_id=run_id, flow=options.flow, started_at=state.utcnow())
        self.extracted: dict[str, tuple[int, int, int]] | None = None
        self._con: duckdb.DuckDBPyConnection | None = None

    @property
    def run_id(self) -> str:
        return self.report.run_id

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        assert self._con is not None, "the warehouse is not open"
        return self._con

    @contextmanager
    def warehouse(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Hold the writer slot and the warehouse for a stretch of steps."""
        with (
            self.runner.writer_slot(),
            self.step_context("open warehouse"),
            open_writer(self.settings) as con,
        ):
            self._con = con
            try:
                yield con
            except RunFailed as exc:
                self._record_failure(exc)
                raise
            finally:
                self._con = None

    def _record_failure(self, exc: RunFailed) -> None:
        """Fill the report and record the failed run while the warehouse is still ours (best
        effort: the warehouse itself may be what failed)."""
        report = self.report
        report.status = "failed"
        report.failed_step = exc.step
        report.error = str(exc)
        report.hint = exc.hint
        report.exception = exc
        try:
            collect(self.con, report, self.extracted)
            state.record_step(
                self.con, self.run_id, "run", status="failed", detail=report.as_dict(),
                error=report.error,
            )  # fmt: skip
        except (duckdb.Error, ClmSyncError) as problem:
            self.runner.log.warning("could not record the failed run: %s", problem)
            return
        _show(self)

    @contextmanager
    def step_context(self, name: str) -> Iterator[None]:
        try:
            yield
        except RunFailed:
            raise
        except Exception as exc:  # Ctrl+C and cancellation go through as they are
            self.report.failed_step = self.report.failed_step or name
            raise RunFailed(self.run_id, name, exc) from exc

    def step(
        self,
        name: str,
        fn: Callable[[duckdb.DuckDBPyConnection], T],
        *,
        record: bool = True,
        task: bool = True,
        network: bool = False,
    ) -> T:
        """Run one step, timed; a failure becomes :class:`RunFailed` naming the step.

        ``task``: the runner executes it as one task (retried on transient errors when
        ``network``); a step that fans out into tasks itself passes False. ``record``: the step
        is written to ``ops.runs`` here (steps of the other layers that record themselves pass
        False)."""
        clock = time.perf_counter()
        con = self.con

        def work() -> T:
            if not record:
                return fn(con)
            with state.step(con, self.run_id, name) as entry:
                done = fn(con)
                entry.detail["summary"] = stages.describe(done)
            return done

        with self.step_context(name):
            try:
                result = self.runner.call(name, work, network=network) if task else work()
            except BaseException as exc:
                self.report.steps.append(
                    StepOutcome(name, "failed", time.perf_counter() - clock, _one_line(exc))
                )
                raise
        self.report.steps.append(
            StepOutcome(name, "succeeded", time.perf_counter() - clock, stages.describe(result))
        )
        return result

    def skip(self, name: str, why: str) -> None:
        self.report.steps.append(StepOutcome(name, "skipped", 0.0, why))


def _one_line(exc: BaseException) -> str:
    text = str(exc) if isinstance(exc, ClmSyncError) else f"{type(exc).__name__}: {exc}"
    return text.splitlines()[0] if text else type(exc).__name__


def run_pipeline(
    settings: Settings,
    options: RunOptions,
    runner: Runner,
    *,
    run_id: str | None = None,
    clients: Clients | None = None,
) -> RunReport:
    """Run the pipeline; return its report (``status`` failed, with the step, when it failed).

    Call ``report_or_raise`` on the result, or look at ``report.status``: this function does not
    raise for a failed step, so a caller can still show what the run did before it stopped.
    """
    own_clients = clients is None
    active = clients or build_clients(settings)
    run = _Run(settings, options, runner, active, run_id or state.new_run_id())
    runner.log.info("run %s (%s) starting", run.run_id, options.flow)
    try:
        _stages(run)
    except RunFailed as exc:
        if run.report.exception is None:  # failed before the warehouse was open
            run.report.status = "failed"
            run.report.failed_step = exc.step
            run.report.error = str(exc)
            run.report.hint = exc.hint
            run.report.exception = exc
        runner.log.error("%s", exc)
    finally:
        run.report.ended_at = state.utcnow()
        if own_clients:
            active.close()
    return run.report


def _stages(run: _Run) -> None:
    options, settings, runner = run.options, run.settings, run.runner
    ctx = run_ctx(run)
    approval: Approval | None = None
    with run.warehouse():
        if options.plan_run_id is not None:
            ctx.run_id = run.report.run_id = run.step(
                "find plan", lambda con: _plan_run(con, options.plan_run_id), record=False
            )
        if options.extract:
            # The extract records itself in ops.runs, with the data project bootstrap.
            extracted = run.step(
                "extract", lambda con: stages.extract(ctx, con), record=False, task=False
            )  # one task per unit (a legal entity's package, a reference set, a CLM object)
            run.extracted = stages.extract_figures(extracted)
        if options.build:
            run.step(
                "build",
                lambda con: build_and_test(con, run_id=run.run_id, full_refresh=options.full),
            )
        if not options.push:
            run.skip("push", "push is off")
            _publish(run, status="succeeded")
            return
        plan = run.step("plan", lambda con: stages.plan(ctx, con), record=False)
        if plan.rows == 0:
            run.skip("push", "nothing to push")
            _publish(run, status="succeeded")
            return
        run.step("guard", lambda con: stages.guard(ctx, con, plan), record=False)
        if options.dry_run:
            run.skip("push", "dry run: the plan is in ops.push_plan; nothing was sent")
            _publish(run, status="succeeded")
            return
        if options.approved or plan.rows <= settings.sync.approval_threshold:
            approval = Approval(approve=True, entities=list(options.push_entities))
        else:
            # Analysts see the fresh reports while the plan waits.
            _publish(run, status="awaiting_approval")
    if approval is None:
        approval = runner.approve(
            stages.plan_markdown(plan, settings), options.approval_timeout_seconds
        )
        if approval is None or not approval.approve:
            run.report.status = "awaiting_approval" if approval is None else "rejected"
            note = (
                "nobody approved the plan in time; nothing was pushed"
                if approval is None
                else f"the plan was rejected; nothing was pushed. {approval.comment}".strip()
            )
            run.report.notes.append(note)
            run.skip("push", note)
            with run.warehouse() as con:  # the run's record says how it ended
                state.record_step(
                    con, run.run_id, "run", status=run.report.status,
                    detail={"note": note, "plan_rows": plan.rows},
                )  # fmt: skip
            return
    # An approval naming no entities leaves the run's own choice (the push flow's entities).
    chosen = (
        approval
        if approval.entities
        else approval.model_copy(update={"entities": list(options.push_entities)})
    )
    with run.warehouse():
        run.step(
            "push", lambda con: stages.push(ctx, con, plan, chosen), record=False, network=True
        )  # a push stopped by a transient failure resumes where it stopped
        _publish(run, status="succeeded")


def run_ctx(run: _Run) -> stages.Context:
    return stages.Context(
        settings=run.settings,
        clients=run.clients,
        runner=run.runner,
        run_id=run.run_id,
        options=run.options,
    )


def _plan_run(con: duckdb.DuckDBPyConnection, wanted: str | None) -> str:
    """The run whose existing plan the push flow pushes: ``wanted``, or the latest plan's."""
    from loader.plan import latest_run

    chosen = wanted or latest_run(con)
    if chosen is None:
        raise PlanError("there is no push plan yet", hint="Run a reconciliation (or clmsync plan).")
    return chosen


def _publish(run: _Run, *, status: str) -> None:
    """Record the run as ``status``, publish the analytics snapshot (the run's last write) and
    show the summary where the runner's users look."""
    run.report.status = status
    collect(run.con, run.report, run.extracted)
    record_id = state.record_step(
        run.con, run.run_id, "run", status=status, detail=run.report.as_dict()
    )
    try:
        result = run.step("publish", lambda con: publish(con, run.settings))
    except RunFailed:
        run.con.execute("UPDATE ops.runs SET status = 'failed' WHERE step_id = ?", [record_id])
        raise
    run.report.snapshot = str(result.path)
    _show(run)


def _show(run: _Run) -> None:
    kinds, rows = artifacts.top_mismatches(run.con)
    markdown = artifacts.mismatches_markdown(kinds, rows, run.settings.warehouse.analytics_path)
    try:
        run.runner.publish_report(run.report, markdown)
    except Exception as exc:  # the run's work is done; a lost artifact must not fail it
        run.runner.log.warning("could not publish the run's summary: %s", exc)


def report_or_raise(report: RunReport) -> RunReport:
    """Return the report, or raise the :class:`RunFailed` that stopped the run."""
    if report.exception is not None:
        raise report.exception
    return report
