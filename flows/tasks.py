"""The Prefect step runner: each step of a run as a Prefect task, inside a flow run.

:class:`PrefectRunner` is what the flows in ``flows/`` hand to :func:`flows.steps.run.run_pipeline`:
every step becomes a task run (one per entity or legal entity where a step fans out, never one
per row), network steps retry only transient errors, the warehouse is written under a global
concurrency slot, a large plan pauses the flow run for approval with a form, pushes update a
progress artifact, and the run's summary becomes table and markdown artifacts.

Logging: clmsync's own loggers (``connectors``, ``warehouse``, ``loader``, ``flows``) are sent to
the flow run's log in the UI, and every handler Prefect logs through gets the redaction filter,
so secrets are masked in the console, in the UI and in the API's log store alike.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from prefect import Task, get_client, get_run_logger
from prefect.cache_policies import NO_CACHE
from prefect.concurrency.sync import concurrency
from prefect.context import get_run_context
from prefect.exceptions import FlowPauseTimeout, MissingContextError
from prefect.flow_runs import pause_flow_run
from prefect.futures import PrefectFuture, as_completed
from prefect.input import RunInput
from prefect.logging.handlers import APILogHandler

from connectors.errors import ClmSyncError, is_transient
from connectors.logs import RedactingFilter, install_redaction
from flows import artifacts
from flows.params import Approval
from flows.settings import load_settings
from flows.steps.run import RunOptions, report_or_raise, run_pipeline
from flows.steps.runner import RETRY_DELAYS, Job, Progress

if TYPE_CHECKING:
    from prefect.client.schemas.objects import State, TaskRun

    from flows.steps.summary import RunReport

T = TypeVar("T")

WRITER_LIMIT = "clmsync-warehouse-writer"
"""The global concurrency limit (1 slot) every run takes before it writes the warehouse."""
WRITER_WAIT_SECONDS = 6 * 3600.0
"""How long a run waits for the writer slot before it fails (another run holds it)."""

OWN_LOGGERS = ("connectors", "warehouse", "loader", "flows", "clmsync")


class ApprovalInput(RunInput, Approval):
    """The approval form the Prefect UI shows while a large plan waits."""


def _transient_only(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Retry a task only when it failed with a transient error."""
    try:
        exc = state.result(raise_on_failure=False)
    except Exception:  # the result could not be read: do not retry blindly
        return False
    return isinstance(exc, BaseException) and is_transient(exc)


class _RunLogHandler(APILogHandler):
    """Sends clmsync's log records to the current flow run; records logged outside any run
    (a thread of a library, say) are left to the console instead of raising warnings."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            get_run_context()
        except MissingContextError:
            return
        super().emit(record)


def install_logging(level: str = "INFO") -> None:
    """Route clmsync's loggers to the flow run's log and mask secrets in every Prefect handler
    (idempotent; called at the start of each flow run)."""
    for name in OWN_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(level)
        if not any(isinstance(h, _RunLogHandler) for h in logger.handlers):
            logger.addHandler(_RunLogHandler())
        install_redaction(logger)
    names = [n for n in logging.root.manager.loggerDict if n.startswith("prefect")]
    for name in ("", *names):
        install_redaction(logging.getLogger(name))
    for handler in logging.getLogger("prefect.flow_runs").handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())


def ensure_writer_limit() -> None:
    """Create the writer's global concurrency limit (one slot) if the server lacks it."""
    with get_client(sync_client=True) as client:
        client.upsert_global_concurrency_limit_by_name(WRITER_LIMIT, 1)


class _ArtifactProgress:
    """A progress artifact updated at most every few seconds (each update is an API call)."""

    def __init__(self, name: str, total: int) -> None:
        from prefect.artifacts import create_progress_artifact

        self.name = name
        self.total = max(total, 1)
        self._last = 0.0
        self._id = cast(
            UUID,
            create_progress_artifact(
                progress=0.0, key=artifacts.artifact_key(name, "progress"), description=name
            ),
        )

    def update(self, done: int, total: int, description: str = "") -> None:
        from prefect.artifacts import update_progress_artifact

        now = time.monotonic()
        if done < total and now - self._last < 2.0:
            return
        self._last = now
        share = 100.0 * min(done, total) / max(total, 1)
        update_progress_artifact(self._id, share, description=description or None)

    def close(self) -> None:
        from prefect.artifacts import update_progress_artifact

        update_progress_artifact(self._id, 100.0)


class PrefectRunner:
    """Executes a run's steps as Prefect tasks of the current flow run."""

    def __init__(self, *, retry_delays: Sequence[float] = RETRY_DELAYS) -> None:
        self.log = get_run_logger()
        self.retry_delays = [float(d) for d in retry_delays]

    def _task(self, name: str, fn: Callable[[], T], label: str, network: bool) -> Task[[], T]:
        return Task(
            fn=fn,
            name=name,
            task_run_name=f"{name} {label}".strip(),
            retries=len(self.retry_delays) if network else 0,
            retry_delay_seconds=self.retry_delays if network else 0,
            retry_condition_fn=_transient_only if network else None,
            cache_policy=NO_CACHE,
            persist_result=False,
        )

    def call(self, name: str, fn: Callable[[], T], *, label: str = "", network: bool = False) -> T:
        return self._task(name, fn, label, network)()

    def each(
        self, name: str, jobs: Sequence[Job[T]], *, network: bool = False, limit: int = 1
    ) -> list[T]:
        """Submit the jobs as tasks, at most ``limit`` running at once. Every submitted task is
        waited for before a failure is raised: they share the run's warehouse connection."""
        results: dict[int, T] = {}
        queue = list(enumerate(jobs))
        running: dict[PrefectFuture[T], int] = {}
        failure: BaseException | None = None
        while queue or running:
            while queue and failure is None and len(running) < max(limit, 1):
                index, (label, fn) = queue.pop(0)
                running[self._task(name, fn, label, network).submit()] = index
            if not running:
                break
            future = next(as_completed(list(running)))
            index = running.pop(future)
            try:
                results[index] = future.result()
            except BaseException as exc:
                failure = failure or exc
        if failure is not None:
            raise failure
        return [results[i] for i in range(len(jobs))]

    @contextmanager
    def _slot(self) -> Iterator[None]:
        ensure_writer_limit()
        try:
            with concurrency(
                WRITER_LIMIT, occupy=1, timeout_seconds=WRITER_WAIT_SECONDS, strict=True
            ):
                yield
        except TimeoutError:
            from connectors.errors import WarehouseBusy

            raise WarehouseBusy(
                f"waited {WRITER_WAIT_SECONDS / 3600:.0f} h for the warehouse writer slot "
                f"({WRITER_LIMIT}) in vain",
                hint="Another run holds it; look for a stuck run in the Prefect UI.",
            ) from None

    def writer_slot(self) -> AbstractContextManager[None]:
        return self._slot()

    def approve(self, summary_markdown: str, timeout_seconds: float) -> Approval | None:
        from prefect.artifacts import create_markdown_artifact

        create_markdown_artifact(
            summary_markdown,
            key=artifacts.artifact_key("plan", "approval"),
            description="The plan waiting for approval",
        )
        form = ApprovalInput.with_initial_data(
            description=summary_markdown
            + "\n\nApprove to push, optionally only some entities; reject to push nothing.",
            approve=False,
        )
        self.log.info("the plan waits for approval (resume the flow run in the UI)")
        try:
            answer = pause_flow_run(
                wait_for_input=form, timeout=int(timeout_seconds), poll_interval=5
            )
        except FlowPauseTimeout:
            # Take the run out of Paused, so it can end with its own words (nothing pushed).
            self._resume_self()
            return None
        self.log.info(
            "plan %s: %s", "approved" if answer.approve else "rejected", answer.comment or ""
        )
        return Approval(approve=answer.approve, entities=answer.entities, comment=answer.comment)

    def _resume_self(self) -> None:
        from prefect.context import FlowRunContext
        from prefect.states import Running

        context = FlowRunContext.get()
        if context is None or context.flow_run is None:
            return
        with get_client(sync_client=True) as client:
            client.set_flow_run_state(
                context.flow_run.id,
                Running(message="nobody approved the plan in time"),
                force=True,
            )

    def progress(self, name: str, total: int) -> Progress:
        return _ArtifactProgress(name, total)

    def publish_report(self, report: RunReport, mismatches_markdown: str) -> None:
        artifacts.publish(report, mismatches_markdown)


def run_flow(config: str | None, options: RunOptions) -> dict[str, Any]:
    """The body of every clmsync flow: settings from ``config``, the pipeline with Prefect tasks,
    and one clear error when it fails (the flow run then ends Failed with that message)."""
    install_logging()
    settings = load_settings(Path(config) if config else None)
    install_logging(settings.log_level)
    report = run_pipeline(settings, options, PrefectRunner())
    report_or_raise(report)
    if report.status == "awaiting_approval":
        raise ClmSyncError(
            f"nobody approved the plan of run {report.run_id} in time; nothing was pushed",
            hint="Push it later with the push deployment (options.run_id = "
            f"{report.run_id}, approved = true), or let the next run plan again.",
        )
    return report.as_dict()
