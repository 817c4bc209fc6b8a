"""Scenario 6, end to end: ``clmsync run`` (reconcile) on a 1M-vendor world, wall time and RSS.

The emulator serves the world from a child process (``bench.extract.emulator``: execution
delays zero, as in the other scenarios); the pipeline runs as ``clmsync run --json --yes`` in a
second child process, pointed at the emulator by its ``clmsync.toml`` (the warehouse, landing
folder and snapshot moved into the scenario's folder by ``CLMSYNC__`` environment variables,
status polls from 0.1 s). Its wall time is measured around the process, its peak resident memory
is the kernel's high-water mark for that process alone (its ``VmHWM``, sampled every 0.5 s by
``harness.run_child``), so neither the emulator's memory nor this process's counts. The run is
the first one of a fresh warehouse: bootstrap, a full extract of both systems, the model build
and tests, the plan, the push (approved up front), the verification and the analytics snapshot,
as a user's first ``clmsync run``.

Each step's seconds come from the run's own report (the steps ``ops.runs`` records).

Targets (the issue): under 10 minutes, peak RSS under 3 GB.
"""

from __future__ import annotations

import json
import os
import sys
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from bench import harness
from bench.extract import emulator
from bench.scenarios import Options
from emulator.world import generate

SUMMARY = "clmsync run (reconcile) on a 1M-vendor world: wall time and peak RSS of the process"
VENDORS = 1_000_000
ROUNDS = 1
SEED = 0

WALL = "clmsync run, wall time"
RSS = "peak RSS of the clmsync process"
WALL_LIMIT_S = 600.0
RSS_LIMIT_GB = 3.0
REPO = Path(__file__).resolve().parents[2]


def run(options: Options) -> harness.Result:
    size = options.size or VENDORS
    rounds = options.rounds or ROUNDS
    work = options.workdir
    started = time.perf_counter()
    generate(size, SEED, work / "world")
    generated = time.perf_counter() - started
    walls: list[float] = []
    peaks: list[float] = []
    report: dict[str, Any] = {}
    started = time.perf_counter()
    with emulator(work / "world", work / "emulator") as info:
        emulator_start = time.perf_counter() - started
        for index in range(rounds):
            if index:  # each round on the world as generated: the first run of a warehouse
                _reset(info)
            wall, peak, report = run_clmsync(
                work / "emulator" / "clmsync.toml", work / f"run-{index}"
            )
            walls.append(wall)
            peaks.append(peak)
    figures = {
        WALL: harness.Stats(tuple(walls)),
        RSS: harness.Stats(tuple(p / 2**30 for p in peaks), unit="GiB"),
    }
    totals = report.get("totals", {})
    return harness.Result(
        scenario="6 end to end",
        parameters={
            "vendors (world size)": size,
            "rounds": rounds,
            "generate s": round(generated, 1),
            "emulator start s": round(emulator_start, 1),
            "run": f"clmsync run --json --yes, first run of a fresh warehouse, status "
            f"{report.get('status', '-')}",
            "rows (last round)": f"extracted {totals.get('extracted', 0):,}, landed "
            f"{totals.get('landed', 0):,}, planned {totals.get('planned', 0):,}",
        },
        figures=figures,
        targets=[
            harness.Target("wall time s", figures[WALL].median, "<", WALL_LIMIT_S),
            harness.Target("peak RSS GiB", figures[RSS].median, "<", RSS_LIMIT_GB),
        ],
        notes=[
            "steps (last round): " + steps_text(report),
            f"highest RSS sample during: {report.get('peak_step', '-')}",
            f"ops.runs: {report.get('recorded_steps', '-')}",
        ],
    )


def steps_text(report: dict[str, Any]) -> str:
    """The run's steps with their seconds, in order: ``extract 120 s, build 40.1 s, …``."""
    steps = report.get("steps") or []
    if not steps:
        return "-"
    parts = []
    for step in steps:
        status = "" if step.get("status") == "succeeded" else f" ({step.get('status')})"
        parts.append(f"{step['step']} {harness.number(float(step['seconds']))} s{status}")
    return ", ".join(parts)


def step_at(report: dict[str, Any], moment: datetime) -> str:
    """The step of the run that was going on at ``moment`` (steps run one after the other)."""
    begin = report.get("started_at")
    if not begin:
        return "-"
    start = datetime.fromisoformat(begin)
    if moment < start:
        return "start-up"
    for step in report.get("steps") or []:
        start += timedelta(seconds=float(step["seconds"]))
        if moment <= start:
            return str(step["step"])
    return "after the last step"


def recorded_steps(warehouse: Path, run_id: str) -> str:
    """The run's steps as ``ops.runs`` recorded them, grouped by step name in order of first
    start: how many, their longest, their sum (units run side by side, so sums overlap)."""
    with closing(duckdb.connect(str(warehouse), read_only=True)) as con:
        rows = con.execute(
            "SELECT step, count(*), max(epoch(ended_at - started_at)), "
            "sum(epoch(ended_at - started_at)), sum(rows) FROM ops.runs WHERE run_id = ? "
            "GROUP BY step ORDER BY min(started_at)",
            [run_id],
        ).fetchall()
    parts = []
    for name, count, longest, total, rows_done in rows:
        figure = f"{harness.number(float(longest or 0))} s"
        if count > 1:
            figure = f"{count}× (longest {figure}, sum {harness.number(float(total or 0))} s)"
        rows_text = f" [{int(rows_done):,} rows]" if rows_done else ""
        parts.append(f"{name} {figure}{rows_text}")
    return ", ".join(parts) or "-"


def run_clmsync(config: Path, folder: Path) -> tuple[float, float, dict[str, Any]]:
    """Run ``clmsync run --json --yes`` in a child process: (wall seconds, peak RSS bytes, the
    run's JSON report with ``peak_step``, the step during the highest RSS sample, added).
    Raises when the run did not succeed, with the end of its error output."""
    folder.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "CLMSYNC__WAREHOUSE__PATH": str(folder / "warehouse.duckdb"),
        "CLMSYNC__WAREHOUSE__ANALYTICS_PATH": str(folder / "analytics.duckdb"),
        "CLMSYNC__WAREHOUSE__LANDING_DIR": str(folder / "landing"),
        "CLMSYNC__SCM__PACKAGE_POLL_SECONDS": "0.1",
        "CLMSYNC__SCM__PACKAGE_MAX_POLL_SECONDS": "1.0",
        "PREFECT_HOME": str(folder / "prefect"),
    }
    command = [sys.executable, "-m", "flows.cli", "run", "--config", str(config), "--json",
               "--yes"]  # fmt: skip
    out, err = folder / "run.json", folder / "run.err"
    launched = datetime.now(UTC)
    with out.open("wb") as stdout, err.open("wb") as stderr:
        child = harness.run_child(command, cwd=REPO, env=env, stdout=stdout, stderr=stderr)
    text = out.read_text(encoding="utf-8").strip()
    report: dict[str, Any] = json.loads(text.splitlines()[-1]) if text else {}
    if child.returncode != 0 or report.get("status") != "succeeded":
        tail = err.read_text(encoding="utf-8", errors="replace")[-2000:]
        raise RuntimeError(
            f"clmsync run ended with exit code {child.returncode}, status "
            f"{report.get('status')!r}, failed step {report.get('failed_step')!r}: "
            f"{report.get('error')}\n{tail}"
        )
    report["recorded_steps"] = recorded_steps(folder / "warehouse.duckdb", report["run_id"])
    peak = child.peak_sample()
    if peak is not None:
        report["peak_step"] = step_at(report, launched + timedelta(seconds=peak[0]))
    return child.seconds, float(child.peak_rss_bytes), report


def _reset(info: dict[str, Any]) -> None:
    from bench.extract import _admin

    _admin(info, "reset", {})
