"""Scenario 3, model build: every model on a 1M-vendor world against one hand-written SQL diff.

The world and its landing are :mod:`bench.models`'s (the models' own benchmark): the world is
generated, loaded into an emulator store in this process and landed straight into
``raw_*``/``current_*`` through the warehouse landing API (as text, the way packages, OData and
the CLM API deliver it), so the scenario times the models alone, not the network.

Then, in turn for ``rounds`` rounds (the order rotating):

* **full build**: every model, ``full_refresh`` (incremental models rebuilt from scratch, as on
  the first run; the first round is the cold build of a fresh warehouse);
* **floor**: :data:`bench.models.FLOOR_SQL` materialised, one hand-written diff of the same
  two sides: the least any reconciliation of these tables does.

Then, ``rounds`` times, **writing the model tables** (:func:`bench.models.run_write_floor`): the
rows every model table holds, written again from in-memory copies as the runner writes them, no
computing. No target; it shows how much of the full build is the writing any build that keeps
these tables (the incremental models' state, the reports) pays, next to the floor, which writes
a few hundred thousand two-column rows.

And ``rounds`` times: a 1% mutation (``emulator.world.mutate``) landed as an incremental extract
lands it (changed rows, a key snapshot of vendors for the deletes; untimed), then the
**rebuild** (timed): incremental models merge only what landed.

Targets (the models issue): full build ≤ 3× the floor and under 60 s; rebuild ≤ 50% of the full
build.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import duckdb

from bench import harness
from bench.models import land_mutation, land_store, run_floor, run_write_floor
from bench.scenarios import Options
from emulator.store import Store
from emulator.world import generate
from warehouse import db, runner, state
from warehouse.runner import DEFAULT_MODELS_DIR, DEFAULT_SEEDS_DIR

SUMMARY = "every SQL model on a 1M-vendor world vs one hand-written SQL diff (the floor)"
VENDORS = 1_000_000
ROUNDS = 3
SEED = 7
FRACTION = 0.01

FULL = "full build, every model"
FLOOR = "floor: one hand-written SQL diff"
WRITE = "writing the model tables, no computing"
REBUILD = "rebuild after a 1% mutation"
BUILD_LIMIT_S = 60.0
FLOOR_LIMIT = 3.0
REBUILD_LIMIT = 0.5


def _seconds(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def run(options: Options) -> harness.Result:
    size = options.size or VENDORS
    rounds = options.rounds or ROUNDS
    work = options.workdir
    setup: dict[str, float] = {}
    setup["generate s"] = _seconds(lambda: generate(size, SEED, work / "world"))
    store = Store()
    setup["emulator store load s"] = _seconds(lambda: store.load_world(work / "world"))
    project = runner.load_project(DEFAULT_MODELS_DIR, DEFAULT_SEEDS_DIR)
    slowest: list[runner.ModelResult] = []
    with closing(db.connect(work / "warehouse.duckdb")) as con:
        con.execute("SET enable_progress_bar = false")
        setup["landing s"] = _seconds(
            lambda: land_store(con, store.reader(), run_id=state.new_run_id())
        )

        def full() -> None:
            results = runner.build(con, project, full_refresh=True)
            slowest[:] = sorted(results, key=lambda r: r.seconds, reverse=True)[:5]

        figures = harness.run_rounds({FULL: full, FLOOR: lambda: run_floor(con)}, rounds)
        writes = [run_write_floor(con, project) for _ in range(rounds)]
        rebuilds = [
            _rebuild(con, store, project, seed=SEED + 1 + index, folder=work)
            for index in range(rounds)
        ]
    figures[WRITE] = harness.Stats(tuple(writes))
    figures[REBUILD] = harness.Stats(tuple(rebuilds))
    vs_floor = harness.ratio("full build / floor", figures[FULL], figures[FLOOR])
    write_share = harness.ratio("writing the tables / floor", figures[WRITE], figures[FLOOR])
    share = harness.ratio("rebuild / full build", figures[REBUILD], figures[FULL])
    return harness.Result(
        scenario="3 model build",
        parameters={
            "vendors (world size)": size,
            "models": len(project.models),
            "rounds": rounds,
            "mutation": f"{FRACTION:.0%} per rebuild",
            **{name: round(value, 1) for name, value in setup.items()},
        },
        figures=figures,
        ratios=[vs_floor, share, write_share],
        targets=[
            harness.Target("full build / floor", vs_floor.value, "<=", FLOOR_LIMIT),
            harness.Target("full build s", figures[FULL].median, "<", BUILD_LIMIT_S),
            harness.Target("rebuild / full build", share.value, "<=", REBUILD_LIMIT),
        ],
        notes=[
            "slowest models (last full build): "
            + ", ".join(f"{r.model} {r.seconds:.1f} s" for r in slowest)
        ],
    )


def _rebuild(
    con: duckdb.DuckDBPyConnection,
    store: Store,
    project: runner.Project,
    *,
    seed: int,
    folder: Path,
) -> float:
    """Mutate 1% and land it (untimed), then time the build that follows."""
    land_mutation(con, store, FRACTION, seed, folder)
    return _seconds(lambda: runner.build(con, project))
