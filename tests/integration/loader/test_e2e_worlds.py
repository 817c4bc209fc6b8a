"""End to end on generated worlds of 1,000 and 10,000 vendors: extract → models → push → verify.

After one run every action the ground truth expects is applied in the emulator and read back as
intended, and nothing else changed there; a second run (extract and models again, no mutation)
plans and sends nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from flows.steps import push as step
from flows.steps.extract import extract_all
from tests.integration.loader import world_deltas
from tests.integration.loader.checks import assert_only_planned_changes, read_deltas
from tests.integration.loader.conftest import snapshot, write_requests
from tests.integration.models.worlds import World, emulated_world
from warehouse import runner, state

WORLDS = [(1000, 11), (10000, 12)]


@dataclass
class Pushed:
    world: World
    expected: list[dict[str, Any]]
    deltas: dict[str, list[dict[str, Any]]]
    before: dict[str, set[tuple[Any, ...]]]
    after: dict[str, set[tuple[Any, ...]]]
    first: step.PushSummary
    remaining: list[dict[str, Any]]
    second: step.PushSummary
    second_writes: dict[str, int]


def _run(world: World) -> str:
    """One reconciliation up to the deltas (extract, models, model tests); its run id."""
    run_id = state.new_run_id()
    report = extract_all(world.settings, world.clients, world.con, run_id=run_id)
    assert report.ok, report.failures
    runner.build(world.con, world.project, run_id=run_id)
    runner.run_tests(world.con, world.project, run_id=run_id)
    return run_id


@pytest.fixture(scope="module", params=WORLDS, ids=[f"{s}-vendors" for s, _ in WORLDS])
def pushed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pushed]:
    size, seed = request.param
    with emulated_world(tmp_path_factory.mktemp(f"e2e{size}"), size, seed) as world:
        expected = world_deltas.expected_actions(world.info)
        run_id = _run(world)
        deltas = read_deltas(world.con)
        before = snapshot(world.info)
        first = step.push(world.con, world.clients, world.settings, run_id)
        after = snapshot(world.info)
        remaining = world_deltas.expected_actions(world.info)
        again = _run(world)
        world.info.reset_stats()
        second = step.push(world.con, world.clients, world.settings, again)
        writes = write_requests(world.info)
        yield Pushed(world, expected, deltas, before, after, first, remaining, second, writes)


def test_every_expected_action_is_applied_and_verified(pushed: Pushed) -> None:
    assert len(pushed.expected) > 50
    assert pushed.first.push is not None
    assert pushed.first.push.counts == {"succeeded": pushed.first.plan.rows}
    assert pushed.first.verify is not None
    assert pushed.first.verify.rate == 1.0
    assert pushed.first.verify.drift == []
    assert pushed.first.clm_verify is not None
    assert pushed.first.clm_verify.rate == 1.0
    assert pushed.remaining == []  # the ground truth, recomputed, expects nothing more


def test_nothing_else_changed(pushed: Pushed) -> None:
    assert_only_planned_changes(pushed.world.info, pushed.before, pushed.after, pushed.deltas)


def test_a_second_run_pushes_nothing(pushed: Pushed) -> None:
    assert pushed.second.plan.rows == 0
    assert pushed.second.push is not None
    assert pushed.second.push.counts == {}
    assert pushed.second_writes == {}


def test_routing_follows_the_row_threshold(pushed: Pushed) -> None:
    threshold = pushed.world.settings.sync.odata_row_threshold
    for decision in pushed.first.plan.decisions:
        if decision.channel in ("odata", "package") and decision.rows:
            assert (decision.channel == "package") == (decision.rows > threshold), decision
