"""Pushing a world's deltas: everything expected is applied and verified, nothing else changes,
a second push sends nothing, both channels end in the same state, one bad record fails alone."""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from emulator.server import EmulatorInfo
from flows.clients import build_clients
from flows.settings import Settings
from flows.steps import push as step
from tests.integration.loader import world_deltas
from tests.integration.loader.checks import assert_only_planned_changes
from tests.integration.loader.conftest import (
    reset,
    settings_for,
    snapshot,
    write_requests,
)
from warehouse import db

L = "CLMIntegrationPurchaseAgreementLines"


def _push(settings: Settings, run_id: str, route: str = "auto") -> step.PushSummary:
    con = db.connect(settings.warehouse.path)
    try:
        with build_clients(settings) as clients:
            step.plan(con, settings, run_id, route=route)  # type: ignore[arg-type]
            return step.push(con, clients, settings, run_id)
    finally:
        con.close()


def _ledger(settings: Settings, run_id: str) -> list[dict[str, Any]]:
    con = db.connect(settings.warehouse.path)
    try:
        cur = con.execute("SELECT * FROM ops.push_ledger WHERE run_id = ? ORDER BY seq", [run_id])
        names = [d[0] for d in cur.description or ()]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()


def _round_trips(info: EmulatorInfo) -> Counter[str]:
    out: Counter[str] = Counter()
    for endpoint, count in info.stats()["requests"].items():
        out[endpoint.rsplit(".", 1)[-1] if "DataEntities." in endpoint else endpoint] += count
    return out


@dataclass
class Routed:
    """One push of the world's deltas (with one line SCM refuses) through a route."""

    deltas: dict[str, list[dict[str, Any]]]
    victim: dict[str, Any]
    settings: Settings
    summary: step.PushSummary
    before: dict[str, set[tuple[Any, ...]]]
    state: dict[str, set[tuple[Any, ...]]]
    trips: Counter[str]
    remaining: list[dict[str, Any]]


def _with_victim(info: EmulatorInfo) -> tuple[dict[str, list[dict[str, Any]]], dict[str, Any]]:
    """The world's deltas with one line create SCM refuses (a unit it does not know): the last
    new line of its agreement, so line numbers come out alike on both channels."""
    deltas = world_deltas.compute(info)
    creates = [r for r in deltas[world_deltas.RELATIONS[L]] if r["action"] == "create"]
    last: dict[str, dict[str, Any]] = {}
    for row in sorted(creates, key=lambda r: r["record_key"]):
        last[json.loads(row["payload"])["ExternalContractId"]] = row
    victim = sorted(last.values(), key=lambda r: r["record_key"])[len(last) // 2]
    payload = json.loads(victim["payload"])
    payload["UnitSymbol"] = "NOSUCHUNIT"
    victim["payload"] = json.dumps(payload)
    return deltas, victim


def _routed(info: EmulatorInfo, folder: Path, route: str, run_id: str) -> Routed:
    reset(info)
    settings = settings_for(info, folder)
    deltas, victim = _with_victim(info)
    con = db.connect(settings.warehouse.path)
    try:
        world_deltas.write(con, deltas)
    finally:
        con.close()
    before = snapshot(info)
    info.reset_stats()
    summary = _push(settings, run_id, route)
    trips = _round_trips(info)
    return Routed(deltas, victim, settings, summary, before, snapshot(info), trips,
                  world_deltas.expected_actions(info))  # fmt: skip


@pytest.fixture(scope="module")
def through_odata(emu: EmulatorInfo, tmp_path_factory: pytest.TempPathFactory) -> Routed:
    """The routing by row count (a 1,000-vendor world's groups all go through OData)."""
    routed = _routed(emu, tmp_path_factory.mktemp("odata"), "auto", "run-1")
    assert routed.summary.plan.decisions
    assert {d.channel for d in routed.summary.plan.decisions} <= {"odata", "clm_api"}
    return routed


@pytest.fixture(scope="module")
def through_package(
    emu: EmulatorInfo, tmp_path_factory: pytest.TempPathFactory, through_odata: Routed
) -> Routed:
    return _routed(emu, tmp_path_factory.mktemp("package"), "package", "forced-package")


def test_one_push_applies_every_expected_action_and_nothing_else(
    emu: EmulatorInfo, through_odata: Routed
) -> None:
    run = through_odata
    assert run.summary.push is not None
    assert run.summary.push.succeeded == run.summary.plan.rows - 1
    assert run.summary.verify is not None
    assert run.summary.verify.rate == 1.0
    assert run.summary.verify.checked == run.summary.push.succeeded - len(
        run.deltas[world_deltas.CLM_RELATION]
    )
    assert run.summary.clm_verify is not None
    assert run.summary.clm_verify.rate == 1.0
    # The oracle finds nothing left to do but the line SCM refused.
    assert [(d["entity"], d["record_key"]) for d in run.remaining] == [
        ("agreement_line", run.victim["record_key"])
    ]
    assert_only_planned_changes(
        emu, run.before, run.state, run.deltas, refused=frozenset({run.victim["record_key"]})
    )


def test_a_second_run_sends_nothing_already_applied(
    emu: EmulatorInfo, through_odata: Routed
) -> None:
    emu.reset_stats()
    again = _push(through_odata.settings, "run-2")
    assert again.push is not None
    # Only the change that failed is tried again (and refused again); the rest is known applied.
    assert again.push.counts == {"skipped": again.plan.rows - 1, "failed": 1}
    assert write_requests(emu) == {"POST /scm/data/$batch": 1}
    reasons = {r["reason"].split(" (")[0] for r in _ledger(through_odata.settings, "run-2")}
    assert reasons == {"already applied by run run-1", "SCM refused"}


@pytest.mark.parametrize("route", ["odata", "package"])
def test_a_business_rule_failure_fails_that_record_alone(
    route: str, through_odata: Routed, through_package: Routed
) -> None:
    run = through_odata if route == "odata" else through_package
    assert run.summary.push is not None
    assert run.summary.push.counts == {"succeeded": run.summary.plan.rows - 1, "failed": 1}
    (failure,) = run.summary.push.failures
    assert failure.record_key == run.victim["record_key"]
    run_id = "run-1" if route == "odata" else "forced-package"
    row = next(r for r in _ledger(run.settings, run_id) if r["status"] == "failed")
    assert row["channel"] == route
    assert "NOSUCHUNIT" in row["scm_message"]
    assert "UnitSymbol" in row["scm_message"]
    # Everything else went in: only the refused line is still to be created.
    assert [(d["entity"], d["record_key"]) for d in run.remaining] == [
        ("agreement_line", run.victim["record_key"])
    ]
    assert run.summary.verify is not None
    assert run.summary.verify.rate == 1.0


def test_forced_odata_and_forced_package_give_the_same_state(
    through_odata: Routed, through_package: Routed
) -> None:
    assert through_odata.state == through_package.state


def test_round_trips_per_channel(through_odata: Routed, through_package: Routed) -> None:
    # OData: at most one $batch request per changeset of rows, per entity and legal entity
    # (plus one for the changeset the refused line was taken out of).
    size = through_odata.settings.sync.changeset_size
    groups = [g for g in through_odata.summary.plan.groups if g.target == "scm"]
    bound = sum(math.ceil(g.rows / size) for g in groups) + 1
    assert 0 < through_odata.trips["POST /scm/data/$batch"] <= bound
    assert through_odata.trips["ImportFromPackage"] == 0
    # Package: a constant number of calls per batch; errors are read only where there are some.
    batches = sum(g.batches for g in through_package.summary.plan.groups)
    assert batches > 0
    for action in ("GetAzureWriteUrl", "ImportFromPackage", "PUT /blob/dmf"):
        assert through_package.trips[action] == batches
    assert through_package.trips["GetExecutionErrors"] == 1  # the batch holding the bad line
