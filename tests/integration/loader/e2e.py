"""A generated world taken through the whole pipeline: extract → models → push → verify.

One run, then (optionally) the same deltas pushed again through a forced package route with one
line SCM must refuse, on the world as it was, then a second run of extract and models that must
find, plan and send nothing.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flows.steps import push as step
from flows.steps.extract import extract_all
from tests.integration.loader import world_deltas
from tests.integration.loader.checks import read_deltas
from tests.integration.loader.conftest import reset, snapshot, write_requests
from tests.integration.models.worlds import World, emulated_world
from warehouse import db, runner, state


@dataclass
class Forced:
    """The same deltas, with one refused line, through a forced package route."""

    victim: dict[str, Any]
    summary: step.PushSummary
    state: dict[str, set[tuple[Any, ...]]]
    trips: Counter[str]
    ledger: list[dict[str, Any]]


@dataclass
class Pushed:
    world: World
    expected: list[dict[str, Any]]
    deltas: dict[str, list[dict[str, Any]]]
    before: dict[str, set[tuple[Any, ...]]]
    after: dict[str, set[tuple[Any, ...]]]
    first: step.PushSummary
    trips: Counter[str]
    remaining: list[dict[str, Any]]
    second: step.PushSummary
    second_writes: dict[str, int]
    forced: Forced | None


def round_trips(world: World) -> Counter[str]:
    out: Counter[str] = Counter()
    for endpoint, count in world.info.stats()["requests"].items():
        out[endpoint.rsplit(".", 1)[-1] if "DataEntities." in endpoint else endpoint] += count
    return out


def reconcile(world: World) -> str:
    """One run up to the deltas (extract, models, model tests); returns its run id."""
    run_id = state.new_run_id()
    report = extract_all(world.settings, world.clients, world.con, run_id=run_id)
    assert report.ok, report.failures
    runner.build(world.con, world.project, run_id=run_id)
    runner.run_tests(world.con, world.project, run_id=run_id)
    return run_id


def _forced(world: World, deltas: dict[str, list[dict[str, Any]]], folder: Path) -> Forced:
    """The world as generated again, the first run's deltas (one line made wrong) in a warehouse
    of their own (this run's ledger knows nothing of the first), through packages."""
    reset(world.info)
    victim = world_deltas.refuse_one_line(deltas)
    settings = world.settings.model_copy(
        update={"warehouse": world.settings.warehouse.model_copy(
            update={"path": folder / "forced.duckdb", "landing_dir": folder / "forced"})}
    )  # fmt: skip
    con = db.connect(settings.warehouse.path)
    try:
        world_deltas.write(con, deltas)
        step.plan(con, settings, "forced-package", route="package")
        world.info.reset_stats()
        # No extract here, so the current tables are empty: the share rule is passed on purpose.
        summary = step.push(con, world.clients, settings, "forced-package", overrides={"share"})
        cur = con.execute("SELECT * FROM ops.push_ledger ORDER BY seq")
        names = [d[0] for d in cur.description or ()]
        ledger = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()
    return Forced(victim, summary, snapshot(world.info), round_trips(world), ledger)


@contextmanager
def pushed_world(folder: Path, size: int, seed: int, *, forced: bool) -> Iterator[Pushed]:
    with emulated_world(folder, size, seed) as world:
        expected = world_deltas.expected_actions(world.info)
        run_id = reconcile(world)
        deltas = read_deltas(world.con)
        before = snapshot(world.info)
        world.info.reset_stats()
        first = step.push(world.con, world.clients, world.settings, run_id)
        trips = round_trips(world)
        after = snapshot(world.info)
        remaining = world_deltas.expected_actions(world.info)
        again = reconcile(world)
        world.info.reset_stats()
        second = step.push(world.con, world.clients, world.settings, again)
        writes = write_requests(world.info)
        package = _forced(world, json.loads(json.dumps(deltas)), folder) if forced else None
        yield Pushed(world, expected, deltas, before, after, first, trips, remaining, second,
                     writes, package)  # fmt: skip
