"""Build the SQL models and run their tests, as one step of a run.

Two phases, so bad data stops as early as possible: first ``staging`` and ``intermediate`` are
built and tested; only when every error-level test there passes are ``marts``, ``reports`` and
``deltas`` built and tested. The runner replaces each table whole (built under a temporary name
and swapped in), so a failure leaves every table either as the previous run left it or complete;
a failed phase raises (``ModelError`` or ``ModelTestFailed``) and the run stops before it plans,
pushes or publishes anything, so the analytics snapshot stays the previous one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from warehouse import runner
from warehouse.runner import ModelResult, TestResult

UPSTREAM_LAYERS: tuple[str, ...] = ("staging", "intermediate")
DOWNSTREAM_LAYERS: tuple[str, ...] = ("marts", "reports", "deltas")


@dataclass
class BuildReport:
    """What the build step did: every model built and every test run, in order."""

    models: list[ModelResult] = field(default_factory=list)
    tests: list[TestResult] = field(default_factory=list)

    @property
    def built(self) -> int:
        return sum(1 for m in self.models if m.status == "success")

    @property
    def warnings(self) -> list[TestResult]:
        return [t for t in self.tests if t.status == "warn"]

    def rows(self) -> dict[str, int]:
        """Rows written per relation (tables only; views have no count)."""
        return {m.relation: m.rows for m in self.models if m.rows is not None}


def _layers_present(project: runner.Project, layers: Sequence[str]) -> list[str]:
    present = {m.layer for m in project.models}
    return [layer for layer in layers if layer in present]


def build_and_test(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    full_refresh: bool = False,
    models_dir: Path | None = None,
    seeds_dir: Path | None = None,
) -> BuildReport:
    """Load changed seeds, build every model and run every test, upstream layers first.

    Raises :class:`ModelError` when a model fails to build and :class:`ModelTestFailed` when an
    error-level test fails; the downstream layers are then not built at all.
    """
    project = runner.load_project(
        models_dir or runner.DEFAULT_MODELS_DIR, seeds_dir or runner.DEFAULT_SEEDS_DIR
    )
    report = BuildReport()
    for layers in (UPSTREAM_LAYERS, DOWNSTREAM_LAYERS):
        chosen = _layers_present(project, layers)
        if not chosen:
            continue
        report.models += runner.build(
            con, project, selectors=chosen, run_id=run_id, full_refresh=full_refresh
        )
        report.tests += runner.run_tests(con, project, selectors=chosen, run_id=run_id)
    return report
