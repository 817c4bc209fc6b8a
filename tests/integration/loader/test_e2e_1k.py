"""End to end on a 1,000-vendor world: extract → models → push → verify.

One run applies every action the ground truth expects, reads it back as intended and changes
nothing else; a second run sends nothing; the same deltas through forced packages (with one line
SCM refuses) give the same state as the row-count routing, that line failed with SCM's words.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest

from tests.integration.loader.checks import assert_only_planned_changes
from tests.integration.loader.e2e import Pushed, pushed_world
from tests.integration.loader.world_deltas import CLM_RELATION


@pytest.fixture(scope="module")
def pushed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pushed]:
    with pushed_world(tmp_path_factory.mktemp("e2e-1k"), 1000, 11, forced=True) as run:
        yield run


def test_every_expected_action_is_applied_and_verified(pushed: Pushed) -> None:
    assert len(pushed.expected) > 50
    assert pushed.first.push is not None
    assert pushed.first.push.counts == {"succeeded": pushed.first.plan.rows}
    assert pushed.first.verify is not None
    assert pushed.first.verify.rate == 1.0
    assert pushed.first.verify.checked == pushed.first.plan.rows - len(pushed.deltas[CLM_RELATION])
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


def test_a_refused_record_fails_alone_with_scms_message(pushed: Pushed) -> None:
    forced = pushed.forced
    assert forced is not None
    assert forced.summary.push is not None
    assert forced.summary.push.counts == {"succeeded": forced.summary.plan.rows - 1, "failed": 1}
    (row,) = [r for r in forced.ledger if r["status"] == "failed"]
    assert row["record_key"] == forced.victim["record_key"]
    assert row["channel"] == "package"
    assert row["execution_id"].startswith("CLMSYNC-PUSH-forced-package-")
    assert "NOSUCHUNIT" in row["scm_message"]
    assert "UnitSymbol" in row["scm_message"]


def test_forced_packages_give_the_state_of_the_row_count_routing(pushed: Pushed) -> None:
    forced = pushed.forced
    assert forced is not None
    assert {d.channel for d in pushed.first.plan.decisions} == {"odata", "clm_api"}
    victim = forced.victim["record_key"]
    lines = "CLMIntegrationPurchaseAgreementLines"
    expected = dict(pushed.after)
    expected[lines] = {r for r in pushed.after[lines] if victim not in r}
    assert forced.state == expected


def test_round_trips_per_channel(pushed: Pushed) -> None:
    # OData: at most one $batch request per changeset of rows, per entity and legal entity.
    size = pushed.world.settings.sync.changeset_size
    groups = [g for g in pushed.first.plan.groups if g.target == "scm"]
    assert (
        0 < pushed.trips["POST /scm/data/$batch"] <= sum(math.ceil(g.rows / size) for g in groups)
    )
    assert pushed.trips["ImportFromPackage"] == 0
    # Package: a constant number of calls per batch; errors are read only where there are some.
    forced = pushed.forced
    assert forced is not None
    batches = sum(g.batches for g in forced.summary.plan.groups)
    for action in ("GetAzureWriteUrl", "ImportFromPackage", "PUT /blob/dmf"):
        assert forced.trips[action] == batches
    assert forced.trips["GetExecutionErrors"] == 1  # the batch holding the refused line
