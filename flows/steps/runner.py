"""How the steps of a run are executed: directly (this module) or as Prefect tasks.

The order of a run's steps is written once, in :mod:`flows.steps.run`; what differs between a run
from the command line and a Prefect flow run is only *how* each step is executed. A step runner
calls a step (``call``), runs independent jobs side by side (``each``: one job per entity, never
per row), holds the warehouse writer slot, asks for approval of a large plan, reports progress
and publishes the summary. :class:`PlainRunner` does all of that without Prefect, so
``clmsync run`` from cron starts at once; ``flows/tasks.py`` has the Prefect one.

Only network steps are retried, and only on transient errors (``connectors.errors.is_transient``):
the connectors already retry single requests within their deadline, so a retry here covers a
whole step that ran out of it (an execution still running, a download cut short).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from connectors.errors import is_transient
from flows.params import Approval

if TYPE_CHECKING:
    from flows.steps.summary import RunReport

T = TypeVar("T")

# Retries of a whole network step after a transient failure, and the waits before them (s).
RETRY_DELAYS: tuple[float, ...] = (10.0, 60.0)

Job = tuple[str, Callable[[], T]]  # (label, work)


class Progress(Protocol):
    """Progress of one long operation (a push): ``done`` out of ``total`` records."""

    def update(self, done: int, total: int, description: str = "") -> None: ...

    def close(self) -> None: ...


class ProgressFactory(Protocol):
    def __call__(self, name: str, total: int) -> Progress: ...


class Runner(Protocol):
    """What :func:`flows.steps.run.run_pipeline` needs to execute a run."""

    @property
    def log(self) -> logging.Logger | logging.LoggerAdapter[Any]:
        """Where the run logs (the flow run's logger under Prefect)."""
        ...

    def call(self, name: str, fn: Callable[[], T], *, label: str = "", network: bool = False) -> T:
        """Run one step and return its result (raising what it raised)."""
        ...

    def each(
        self, name: str, jobs: Sequence[Job[T]], *, network: bool = False, limit: int = 1
    ) -> list[T]:
        """Run independent jobs, at most ``limit`` at once; results in the jobs' order."""
        ...

    def writer_slot(self) -> AbstractContextManager[None]:
        """Held while the run writes the warehouse (a Prefect global concurrency slot)."""
        ...

    def approve(self, summary_markdown: str, timeout_seconds: float) -> Approval | None:
        """Ask for approval of a large plan; None when nobody answered in time."""
        ...

    def progress(self, name: str, total: int) -> Progress:
        """A progress reporter for a long operation (progress bar, progress artifact)."""
        ...

    def publish_report(self, report: RunReport, mismatches_markdown: str) -> None:
        """Show the run's summary where this runner's users look (artifacts, nothing)."""
        ...


def retrying(fn: Callable[[], T], *, name: str, log: logging.Logger, delays: Sequence[float]) -> T:
    """Call ``fn``; after a transient error wait and call again, up to ``len(delays)`` times."""
    for attempt, delay in enumerate((*delays, None), start=1):
        try:
            return fn()
        except Exception as exc:
            if delay is None or not is_transient(exc):
                raise
            log.warning(
                "%s failed (attempt %d, transient): %s; trying again in %.0f s",
                name, attempt, exc, delay,
            )  # fmt: skip
            time.sleep(delay)
    raise AssertionError("unreachable")  # the loop returns or raises


class _NoProgress:
    def update(self, done: int, total: int, description: str = "") -> None:
        pass

    def close(self) -> None:
        pass


class PlainRunner:
    """Runs the steps in this process, without Prefect.

    ``approved``: what to answer when a plan needs approval (the command line's ``--yes``);
    ``progress_factory``: progress bars (the CLI passes rich ones); ``retry_delays`` may be
    shortened in tests.
    """

    def __init__(
        self,
        *,
        approved: bool = False,
        progress_factory: ProgressFactory | None = None,
        log: logging.Logger | None = None,
        retry_delays: Sequence[float] = RETRY_DELAYS,
    ) -> None:
        self.approved = approved
        self.progress_factory = progress_factory
        self.log = log or logging.getLogger("clmsync.run")
        self.retry_delays = tuple(retry_delays)

    def call(self, name: str, fn: Callable[[], T], *, label: str = "", network: bool = False) -> T:
        title = f"{name} {label}".strip()
        if not network:
            return fn()
        return retrying(fn, name=title, log=self.log, delays=self.retry_delays)

    def each(
        self, name: str, jobs: Sequence[Job[T]], *, network: bool = False, limit: int = 1
    ) -> list[T]:
        if limit <= 1 or len(jobs) <= 1:
            return [self.call(name, fn, label=label, network=network) for label, fn in jobs]
        with ThreadPoolExecutor(max_workers=min(limit, len(jobs)), thread_name_prefix=name) as ex:
            futures = [
                ex.submit(self.call, name, fn, label=label, network=network) for label, fn in jobs
            ]
            try:
                return [f.result() for f in futures]
            except BaseException:
                # Jobs not started yet are dropped; running ones finish before this raises
                # (leaving the pool waits for them): they share the run's connection.
                for future in futures:
                    future.cancel()
                raise

    @contextmanager
    def _nothing(self) -> Iterator[None]:
        yield

    def writer_slot(self) -> AbstractContextManager[None]:
        # Outside Prefect the warehouse's own lock is the guard (flows.steps.writer).
        return self._nothing()

    def approve(self, summary_markdown: str, timeout_seconds: float) -> Approval | None:
        if self.approved:
            return Approval(approve=True, comment="approved on the command line (--yes)")
        return None

    def progress(self, name: str, total: int) -> Progress:
        if self.progress_factory is None:
            return _NoProgress()
        return self.progress_factory(name, total)

    def publish_report(self, report: RunReport, mismatches_markdown: str) -> None:
        pass
