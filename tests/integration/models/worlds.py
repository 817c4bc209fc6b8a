"""A generated world served by the emulator, extracted into a warehouse the real way
(``flows.steps.extract.extract_all``: data projects, packages, OData, the CLM API), and the models
built and tested on it."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from emulator.server import EmulatorInfo, running_emulator
from flows.clients import Clients, build_clients
from flows.settings import Settings, load_settings
from flows.steps.extract import extract_all
from warehouse import db, runner, state
from warehouse.runner import DEFAULT_MODELS_DIR, DEFAULT_SEEDS_DIR, Project

# Executions finish at once in tests; the pipeline still polls and downloads like against SCM.
FAST: dict[str, Any] = {
    "execution_queue_seconds": 0.0,
    "execution_fixed_seconds": 0.0,
    "execution_row_seconds": 0.0,
    "error_file_seconds": 0.0,
}


def settings_for(info: EmulatorInfo, folder: Path) -> Settings:
    """The emulator's settings with a warehouse in ``folder`` and test-speed package polling."""
    base = load_settings(Path(info.state_dir) / "clmsync.toml")
    return base.model_copy(
        update={
            "scm": base.scm.model_copy(
                update={"package_poll_seconds": 0.02, "package_max_poll_seconds": 0.1}
            ),
            "warehouse": base.warehouse.model_copy(
                update={"path": folder / "warehouse.duckdb", "landing_dir": folder / "landing"}
            ),
        }
    )


@dataclass
class World:
    """One emulated world, its warehouse and the models built on it."""

    info: EmulatorInfo
    settings: Settings
    clients: Clients
    con: duckdb.DuckDBPyConnection
    project: Project

    def extract_and_build(self) -> list[runner.TestResult]:
        """One reconciliation up to the deltas: extract, build every model, run the model tests
        (raising when an error-level one fails, as a run would before the loader)."""
        run_id = state.new_run_id()
        report = extract_all(self.settings, self.clients, self.con, run_id=run_id)
        assert report.ok, report.failures
        runner.build(self.con, self.project, run_id=run_id)
        return runner.run_tests(self.con, self.project, run_id=run_id)

    def truth_path(self) -> Path:
        return Path(self.info.state_dir) / "ground_truth.json"

    def mutate(self, fraction: float, seed: int) -> Path:
        """Change both systems in the emulator; the next run's ground truth path."""
        answer: Any = self.info.admin("POST", "/mutate", {"fraction": fraction, "seed": seed})
        path = answer.get("ground_truth") if isinstance(answer, dict) else None
        return Path(path) if path else self.truth_path()

    def truth(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.truth_path().read_text(encoding="utf-8"))
        return data


@functools.cache
def models_project() -> Project:
    """The project's models, parsed once per test session (parsing is not free)."""
    return runner.load_project(DEFAULT_MODELS_DIR, DEFAULT_SEEDS_DIR)


@contextmanager
def emulated_world(folder: Path, size: int, seed: int) -> Iterator[World]:
    """Generate the world of ``size`` vendors from ``seed``, serve it, connect a warehouse."""
    with running_emulator(folder / "emulator", size=size, seed=seed, **FAST) as info:
        settings = settings_for(info, folder)
        clients = build_clients(settings)
        con = db.connect(settings.warehouse.path)
        try:
            yield World(info, settings, clients, con, models_project())
        finally:
            con.close()
            clients.close()
