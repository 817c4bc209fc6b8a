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

from rich import box
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


_HEADERS = {"quarantined": "quarant.", "mismatches": "mismatch"}


def summary_table(report: RunReport, title: str | None = None) -> Table:
    """The per-entity summary as a rich table (mismatches by kind: :func:`kinds_table`)."""
    table = Table(
        title=title or f"run {report.run_id} ({report.flow}): {report.status}",
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
        pad_edge=False,
    )
    columns = ["entity", "extracted", "landed", "quarantined", "mismatches", "planned",
               "pushed", "failed", "verified"]  # fmt: skip
    for column in columns:
        if column == "entity":
            table.add_column(column, overflow="fold")
        else:
            header = _HEADERS.get(column, column)
            table.add_column(header, justify="right", min_width=len(header), no_wrap=True)
    for row in artifacts.summary_rows(report):
        cells = [f"{row[c]:,}" if isinstance(row[c], int) else str(row[c]) for c in columns]
        table.add_row(*cells, style="bold" if row["entity"] == "total" else None)
    return table


def kinds_table(report: RunReport) -> Table:
    """Open mismatches per kind and entity."""
    table = Table("kind", "entity", "open", title="open mismatches by kind")
    for entity, figures in sorted(report.entities.items()):
        for kind, count in sorted(figures.mismatches.items()):
            table.add_row(kind, entity, f"{count:,}")
    return table


def steps_table(report: RunReport) -> Table:
    table = Table("step", "status", "seconds", "detail", title="steps")
    colours = {"succeeded": "green", "failed": "red", "skipped": "yellow"}
    for s in report.steps:
        colour = colours.get(s.status, "white")
        table.add_row(s.step, f"[{colour}]{s.status}[/{colour}]", f"{s.seconds:.1f}", s.detail)
    return table
