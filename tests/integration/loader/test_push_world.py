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
from tests.integration.loader.conftest import (
    column_names,
    prepare_warehouse,
    reset,
    settings_for,
    snapshot,
    write_requests,
)
from warehouse import db

L = "CLMIntegrationPurchaseAgreementLines"
NATURAL = {
    "CLMIntegrationContracts": ("LegalEntityId", "ExternalContractId"),
    "CLMIntegrationPurchaseAgreements": ("BuyingLegalEntityId", "ExternalContractId"),
    L: ("PurchaseAgreementLegalEntityId", "ExternalContractLineId"),
}


def _text(value: object) -> str:
    """Key text as the record key convention writes it (``3``, not ``3.000000``)."""
    from connectors.catalog import canonical_key_value

    return canonical_key_value(value).lower()


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


def _changed(before: set[tuple[Any, ...]], after: set[tuple[Any, ...]]) -> set[tuple[Any, ...]]:
    return (before - after) | (after - before)


def test_one_push_applies_every_expected_action_and_nothing_else(
    emu: EmulatorInfo, tmp_path: Path
) -> None:
    reset(emu)
    settings = settings_for(emu, tmp_path)
    expected = world_deltas.expected_actions(emu)
    assert expected, "the world plants discrepancies with actions"
    deltas = prepare_warehouse(emu, settings)
    before = snapshot(emu)

    summary = _push(settings, "run-1")

    assert summary.push is not None
    assert summary.verify is not None
    assert summary.push.counts == {"succeeded": summary.plan.rows}
    assert summary.verify.rate == 1.0
    assert summary.verify.checked > 0
    assert summary.clm_verify is not None
    assert summary.clm_verify.verified > 0
    assert world_deltas.expected_actions(emu) == []  # the oracle finds nothing left to do

    # Nothing else changed: the records that differ are exactly those the plan names, and an
    # updated record differs only in the fields its delta sets.
    after = snapshot(emu)
    for entity, relation in world_deltas.RELATIONS.items():
        columns = column_names(emu, entity)
        natural, keys = NATURAL[entity], world_deltas.KEYS[entity]

        def by(
            fields: tuple[str, ...], rows: set[tuple[Any, ...]], names: list[str] = columns
        ) -> dict[tuple[str, ...], dict[str, Any]]:
            out = {}
            for row in rows:
                record = dict(zip(names, row, strict=True))
                out[tuple(_text(record[f]) for f in fields)] = record
            return out

        old, new = by(natural, before[entity]), by(natural, after[entity])
        old_by_key = by(keys, before[entity])
        changed = {k for k in old.keys() | new.keys() if old.get(k) != new.get(k)}
        expected: set[tuple[str, ...]] = set()
        for delta in deltas[relation]:
            delta_keys = json.loads(delta["keys"])
            if delta["action"] == "create":
                expected.add(tuple(_text(delta_keys[f]) for f in natural))
                continue
            record = old_by_key[tuple(_text(delta_keys[f]) for f in keys)]
            nk = tuple(_text(record[f]) for f in natural)
            expected.add(nk)
            if nk in new:
                differs = {c for c in columns if record[c] != new[nk][c]}
                assert differs <= set(json.loads(delta["payload"])), (entity, nk, differs)
        assert changed == expected, entity
    for entity in ("VendorsV2", "ContactPersons", "CLMIntegrationReleasedProducts"):
        assert before[entity] == after[entity]
    fed = {r["clm_id"] for r in deltas[world_deltas.CLM_RELATION]}
    changed_cp = {r[0] for r in _changed(before["clm.counterparties"], after["clm.counterparties"])}
    assert changed_cp == fed

    # A second run of the same deltas sends nothing: every change is known as applied.
    emu.reset_stats()
    again = _push(settings, "run-2")
    assert again.push is not None
    assert again.push.counts == {"skipped": again.plan.rows}
    assert write_requests(emu) == {}
    reasons = {r["reason"].split(" (")[0] for r in _ledger(settings, "run-2")}
    assert reasons == {"already applied by run run-1"}

    # And deltas made from the world as it now is are empty: nothing to plan.
    assert all(rows == [] for rows in world_deltas.compute(emu).values())


def _round_trips(info: EmulatorInfo) -> Counter[str]:
    out: Counter[str] = Counter()
    for endpoint, count in info.stats()["requests"].items():
        out[endpoint.rsplit(".", 1)[-1] if "DataEntities." in endpoint else endpoint] += count
    return out


@dataclass
class Routed:
    """One push of the same deltas through a forced route."""

    deltas: dict[str, list[dict[str, Any]]]
    victim: dict[str, Any]
    settings: Settings
    summary: step.PushSummary
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


def _routed(info: EmulatorInfo, folder: Path, route: str) -> Routed:
    reset(info)
    settings = settings_for(info, folder)
    deltas, victim = _with_victim(info)
    con = db.connect(settings.warehouse.path)
    try:
        world_deltas.write(con, deltas)
    finally:
        con.close()
    info.reset_stats()
    summary = _push(settings, f"forced-{route}", route)
    trips = _round_trips(info)
    return Routed(deltas, victim, settings, summary, snapshot(info), trips,
                  world_deltas.expected_actions(info))  # fmt: skip


@pytest.fixture(scope="module")
def through_odata(emu: EmulatorInfo, tmp_path_factory: pytest.TempPathFactory) -> Routed:
    return _routed(emu, tmp_path_factory.mktemp("odata"), "odata")


@pytest.fixture(scope="module")
def through_package(
    emu: EmulatorInfo, tmp_path_factory: pytest.TempPathFactory, through_odata: Routed
) -> Routed:
    return _routed(emu, tmp_path_factory.mktemp("package"), "package")


@pytest.mark.parametrize("route", ["odata", "package"])
def test_a_business_rule_failure_fails_that_record_alone(
    route: str, through_odata: Routed, through_package: Routed
) -> None:
    run = through_odata if route == "odata" else through_package
    assert run.summary.push is not None
    assert run.summary.push.counts == {"succeeded": run.summary.plan.rows - 1, "failed": 1}
    (failure,) = run.summary.push.failures
    assert failure.record_key == run.victim["record_key"]
    row = next(r for r in _ledger(run.settings, f"forced-{route}") if r["status"] == "failed")
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
