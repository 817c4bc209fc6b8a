"""End to end on a 10,000-vendor world: extract → models → push → verify, then a second run.

Every action the ground truth expects is applied and read back as intended, nothing else changes,
routing follows the row threshold, and a second run (no mutation) sends nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.loader.checks import assert_only_planned_changes
from tests.integration.loader.e2e import Pushed, pushed_world


@pytest.fixture(scope="module")
def pushed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pushed]:
    with pushed_world(tmp_path_factory.mktemp("e2e-10k"), 10000, 12, forced=False) as run:
        yield run


def test_every_expected_action_is_applied_and_verified(pushed: Pushed) -> None:
    assert len(pushed.expected) > 500
    assert pushed.first.push is not None
    assert pushed.first.push.counts == {"succeeded": pushed.first.plan.rows}
    assert pushed.first.verify is not None
    assert pushed.first.verify.rate == 1.0
    assert pushed.first.clm_verify is not None
    assert pushed.first.clm_verify.rate == 1.0
    assert pushed.remaining == []


def test_nothing_else_changed(pushed: Pushed) -> None:
    assert_only_planned_changes(pushed.world.info, pushed.before, pushed.after, pushed.deltas)


def test_routing_follows_the_row_threshold(pushed: Pushed) -> None:
    threshold = pushed.world.settings.sync.odata_row_threshold
    decisions = [d for d in pushed.first.plan.decisions if d.channel in ("odata", "package")]
    assert decisions
    for decision in decisions:
        assert (decision.channel == "package") == (decision.rows > threshold), decision


def test_a_second_run_pushes_nothing(pushed: Pushed) -> None:
    assert pushed.second.plan.rows == 0
    assert pushed.second.push is not None
    assert pushed.second.push.counts == {}
    assert pushed.second_writes == {}
