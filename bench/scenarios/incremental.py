"""Scenario 4, incremental: a full reconcile-like run against one after a 1% mutation, 100k vendors.

A run here is what reconciliation does before it pushes: extract both systems
(``flows.steps.extract.extract_all`` with the emulator's settings: bootstrap of the data
projects, packages, OData reference sets, the CLM API, key snapshots as the settings say, i.e.
every run) and build every model (``warehouse.runner.build``). The emulator serves the world
from a child process (``bench.extract.emulator``), so client and server do not share one
interpreter.

Each round, in a fresh warehouse:

1. **full**: a full extract and the first build of every model;
2. ``POST /_emulator/mutate`` of 1% (untimed), then **incremental**: the next run, extract (only
   what changed, plus the key snapshots that find deletes) and build (incremental models merge
   what landed);
3. another 1% mutation, then the same without the key snapshots (**incremental, no key
   snapshot**): what the delete check costs, when it is run every N runs instead of every run.

The rounds cannot alternate the three (each needs the one before), so every round runs them in
this order and the ratio is taken per round as well as of the medians.

Target: incremental ≤ 15% of full.
"""

from __future__ import annotations

import itertools
import shutil
import time
from contextlib import closing
from typing import Any

import duckdb

from bench import harness
from bench.extract import _admin, _extract, _settings, emulator
from bench.scenarios import Options
from emulator.world import generate
from flows.settings import Settings
from warehouse import db, runner
from warehouse.runner import DEFAULT_MODELS_DIR, DEFAULT_SEEDS_DIR

SUMMARY = "full extract + models vs the next run after a 1% mutation, 100k vendors"
VENDORS = 100_000
ROUNDS = 3
SEED = 0
FRACTION = 0.01

FULL = "full run (extract + models)"
INCREMENTAL = "incremental run after 1% mutation"
NO_SNAPSHOT = "incremental run, no key snapshot"


def run(options: Options) -> harness.Result:
    size = options.size or VENDORS
    rounds = options.rounds or ROUNDS
    work = options.workdir
    started = time.perf_counter()
    generate(size, SEED, work / "world")
    generated = time.perf_counter() - started
    samples: dict[str, list[float]] = {FULL: [], INCREMENTAL: [], NO_SNAPSHOT: []}
    builds: dict[str, list[float]] = {name: [] for name in samples}
    extracted: dict[str, int] = {}
    seeds = itertools.count(SEED + 1)
    with emulator(work / "world", work / "emulator") as info:
        for index in range(rounds):
            folder = work / f"warehouse-{index}"
            settings = _settings(work / "emulator", folder)
            with closing(db.connect(settings.warehouse.path)) as con:
                con.execute("SET enable_progress_bar = false")
                for name, mutate, extra in (
                    (FULL, False, {"full": True}),
                    (INCREMENTAL, True, {}),
                    (NO_SNAPSHOT, True, {"key_snapshot": False}),
                ):
                    if mutate:
                        _admin(info, "mutate", {"fraction": FRACTION, "seed": next(seeds)})
                    seconds, build, rows = _timed_run(settings, con, extra)
                    samples[name].append(seconds)
                    builds[name].append(build)
                    extracted[name] = rows
            shutil.rmtree(folder, ignore_errors=True)
    figures = {name: harness.Stats(tuple(values)) for name, values in samples.items()}
    share = harness.ratio("incremental / full", figures[INCREMENTAL], figures[FULL])
    bare = harness.ratio("incremental without key snapshot / full", figures[NO_SNAPSHOT],
                         figures[FULL])  # fmt: skip
    return harness.Result(
        scenario="4 incremental",
        parameters={
            "vendors (world size)": size,
            "mutation": f"{FRACTION:.0%} per run",
            "rounds": rounds,
            "generate s": round(generated, 1),
            "rows extracted (last round)": "; ".join(
                f"{name} {rows:,}" for name, rows in extracted.items()
            ),
        },
        figures=figures,
        ratios=[share, bare],
        targets=[harness.Target("incremental / full", share.value, "<=", 0.15)],
        notes=[
            "of which the model build: "
            + "; ".join(f"{name} {harness.Stats(tuple(b)).text()}" for name, b in builds.items())
        ],
    )


def _timed_run(
    settings: Settings, con: duckdb.DuckDBPyConnection, extra: dict[str, Any]
) -> tuple[float, float, int]:
    """Seconds of one extract + build, seconds of the build alone, rows the extract read."""
    started = time.perf_counter()
    report = _extract(settings, con, **extra)
    built = time.perf_counter()
    runner.build(con, runner.load_project(DEFAULT_MODELS_DIR, DEFAULT_SEEDS_DIR))
    ended = time.perf_counter()
    return ended - started, ended - built, report.total("extracted")
