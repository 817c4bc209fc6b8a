"""``clmsync run`` from a terminal (or cron): no Prefect server, one JSON object with ``--json``,
one clear line when it fails, and a failed run leaves the previous snapshot as it was."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from emulator.server import EmulatorInfo
from flows.params import PushParameters
from flows.settings import Settings
from flows.steps.run import RunOptions, run_pipeline
from flows.steps.runner import PlainRunner
from flows.truth import unresolved_actions
from tests.e2e.conftest import ROOT, child_env, emulator_settings
from warehouse import runner as model_runner

FIGURES = {"extracted", "landed", "quarantined", "mismatches", "planned", "pushed", "failed",
           "verified"}  # fmt: skip


def clmsync(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args],
        capture_output=True, text=True, cwd=ROOT, timeout=timeout, env=child_env(),
    )  # fmt: skip


@pytest.fixture(scope="module")
def first_run(small_emulator: EmulatorInfo) -> dict[str, object]:
    """``clmsync run --json`` on the emulator's settings (warehouse in its state dir)."""
    config = Path(small_emulator.state_dir) / "clmsync.toml"
    result = clmsync("run", "--config", str(config), "--json", "--full")
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, result.stdout[-2000:]
    data: dict[str, object] = json.loads(lines[0])
    return data


def test_run_prints_one_json_object_with_every_figure(first_run: dict[str, object]) -> None:
    assert first_run["status"] == "succeeded"
    assert isinstance(first_run["run_id"], str)
    entities = first_run["entities"]
    assert isinstance(entities, dict)
    assert set(entities["VendorsV2"]) == FIGURES
    assert entities["VendorsV2"]["landed"] > 0
    assert isinstance(entities["contract"]["mismatches"], dict)


def test_a_run_that_fails_in_the_build_publishes_nothing(
    first_run: dict[str, object],
    small_emulator: EmulatorInfo,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings: Settings = emulator_settings(small_emulator, Path(small_emulator.state_dir))
    snapshot = settings.warehouse.analytics_path
    before = snapshot.read_bytes()
    # A model whose error-level test fails: the run must stop before it plans or publishes.
    models = tmp_path / "models"
    shutil.copytree(model_runner.DEFAULT_MODELS_DIR, models)
    folder = models / "staging" / "zz_broken"
    folder.mkdir()
    (folder / "stg_zz__probe.sql").write_text("select 1 as x\n")
    (folder / "_zz_broken.yml").write_text(
        "models:\n  - name: stg_zz__probe\n    tests:\n"
        "      - sql: select x from staging.stg_zz__probe\n        name: always_fails\n"
    )
    monkeypatch.setattr(model_runner, "DEFAULT_MODELS_DIR", models)
    # Nothing to extract again: the build on what the first run landed is what fails.
    options = RunOptions(bootstrap=False, extract=False)
    report = run_pipeline(settings, options, PlainRunner(retry_delays=()))
    assert report.status == "failed"
    assert report.failed_step == "build"
    assert report.error is not None
    assert "failed at step 'build'" in report.error
    assert "always_fails" in report.error
    assert [s.step for s in report.steps] == ["build"]
    assert snapshot.read_bytes() == before
    con = duckdb.connect(str(settings.warehouse.path), read_only=True)
    try:
        recorded = con.execute(
            "SELECT status, error FROM ops.runs WHERE run_id = ? AND step = 'run'",
            [report.run_id],
        ).fetchall()
    finally:
        con.close()
    assert recorded[0][0] == "failed"


def test_a_second_writer_gets_one_line_and_a_hint(
    first_run: dict[str, object], small_emulator: EmulatorInfo
) -> None:
    config = Path(small_emulator.state_dir) / "clmsync.toml"
    holder = duckdb.connect(str(Path(small_emulator.state_dir) / "warehouse.duckdb"))
    try:
        result = clmsync("run", "--config", str(config))
    finally:
        holder.close()
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert "failed at step 'open warehouse'" in errors[0]
    assert "in use by another process" in errors[0]
    assert "hint:" in result.stderr


def test_report_and_status_read_the_snapshot(
    first_run: dict[str, object], small_emulator: EmulatorInfo
) -> None:
    config = str(Path(small_emulator.state_dir) / "clmsync.toml")
    report = clmsync("report", "--config", config, "--json", timeout=60)
    assert report.returncode == 0, report.stderr
    data = json.loads(report.stdout)
    assert data["total"] == sum(row["open"] for row in data["by_kind"])
    status = clmsync("status", "--config", config, "--json", timeout=60)
    assert status.returncode == 0, status.stderr
    state = json.loads(status.stdout)
    assert [r["run_id"] for r in state["runs"]] == [first_run["run_id"]]
    assert any(w["entity"] == "VendorsV2" for w in state["watermarks"])


def test_a_large_plan_waits_and_the_push_flow_pushes_it_later(
    first_run: dict[str, object], small_emulator: EmulatorInfo
) -> None:
    small_emulator.admin("POST", "mutate", {"fraction": 0.05, "seed": 9})
    settings = emulator_settings(small_emulator, Path(small_emulator.state_dir))
    strict = settings.model_copy(
        update={"sync": settings.sync.model_copy(update={"approval_threshold": 0})}
    )
    waiting = run_pipeline(strict, RunOptions(), PlainRunner(retry_delays=()))
    assert waiting.status == "awaiting_approval"
    assert waiting.totals().planned > 0
    assert sum(waiting.totals().pushed.values()) == 0
    assert any("nothing was pushed" in note for note in waiting.notes)
    assert small_emulator.admin("GET", "ground_truth?refresh=true")["discrepancies"]

    pushed = run_pipeline(
        strict,
        RunOptions.push_plan(PushParameters(run_id=waiting.run_id, approved=True)),
        PlainRunner(retry_delays=()),
    )
    assert pushed.status == "succeeded", pushed.error
    assert pushed.run_id == waiting.run_id
    assert [s.step for s in pushed.steps][:2] == ["find plan", "plan"]
    totals = pushed.totals()
    assert sum(totals.pushed.values()) == totals.planned == waiting.totals().planned
    assert unresolved_actions(small_emulator.admin("GET", "ground_truth?refresh=true")) == 0
