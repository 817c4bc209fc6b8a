"""Progress bars and the run summary on the terminal (rich), for ``clmsync run|reload|demo``.

:class:`ConsoleRunner` is the plain step runner with a progress bar per fanned-out step (one tick
per unit: a legal entity's package downloaded and landed, a reference set, a CLM object) and per
push (one tick per record), all on standard error so ``--json`` output stays clean.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from flows import artifacts
from flows.steps.runner import Job, PlainRunner
from flows.steps.summary import RunReport

T = TypeVar("T")


class _Bar:
    def __init__(self, progress: Progress, task: TaskID) -> None:
        self.progress = progress
        self.task = task

    def update(self, done: int, total: int, description: str = "") -> None:
        fields: dict[str, Any] = {"completed": done, "total": max(total, 1)}
        if description:
            fields["description"] = description
        self.progress.update(self.task, **fields)

    def close(self) -> None:
        self.progress.stop_task(self.task)


class ConsoleRunner(PlainRunner):
    """A :class:`PlainRunner` that draws progress bars while the run goes."""

    def __init__(self, console: Console, *, approved: bool = False, quiet: bool = False) -> None:
        super().__init__(approved=approved)
        self.console = console
        self.quiet = quiet
        self._progress: Progress | None = None
        self._lock = threading.Lock()

    @contextmanager
    def live(self) -> Iterator[None]:
        """Show the bars for the duration of the block."""
        if self.quiet:
            yield
            return
        progress = Progress(
            TextColumn("{task.description:<34}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
        )
        self._progress = progress
        with progress:
            yield
        self._progress = None

    def each(
        self, name: str, jobs: Sequence[Job[T]], *, network: bool = False, limit: int = 1
    ) -> list[T]:
        if self._progress is None:
            return super().each(name, jobs, network=network, limit=limit)
        progress = self._progress
        task = progress.add_task(name, total=len(jobs))

        def ticking(label: str, fn: Callable[[], T]) -> Job[T]:
            def run() -> T:
                try:
                    return fn()
                finally:
                    with self._lock:
                        progress.advance(task)

            return label, run

        return super().each(
            name, [ticking(label, fn) for label, fn in jobs], network=network, limit=limit
        )

    def progress(self, name: str, total: int) -> _Bar | Any:
        if self._progress is None:
            return super().progress(name, total)
        return _Bar(self._progress, self._progress.add_task(name, total=max(total, 1)))


def summary_table(report: RunReport, title: str | None = None) -> Table:
    """The per-entity summary as a rich table."""
    table = Table(title=title or f"run {report.run_id} ({report.flow}): {report.status}")
    columns = ["entity", "extracted", "landed", "quarantined", "mismatches", "by_kind",
               "planned", "pushed", "by_channel", "failed", "verified"]  # fmt: skip
    for column in columns:
        justify = "right" if column not in ("entity", "by_kind", "by_channel") else "left"
        table.add_column(column.replace("_", " "), justify=justify, overflow="fold")  # type: ignore[arg-type]
    rows = artifacts.summary_rows(report)
    for row in rows:
        cells = [f"{row[c]:,}" if isinstance(row[c], int) else str(row[c] or "") for c in columns]
        style = "bold" if row["entity"] == "total" else None
        table.add_row(*cells, style=style)
    return table


def steps_table(report: RunReport) -> Table:
    table = Table("step", "status", "seconds", "detail", title="steps")
    colours = {"succeeded": "green", "failed": "red", "skipped": "yellow"}
    for s in report.steps:
        colour = colours.get(s.status, "white")
        table.add_row(s.step, f"[{colour}]{s.status}[/{colour}]", f"{s.seconds:.1f}", s.detail)
    return table
