"""Crash safety: a push killed (SIGKILL) anywhere and pushed again ends exactly where an
uninterrupted push ends, and never creates a record twice."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from emulator.server import EmulatorInfo, running_emulator
from flows.clients import build_clients
from flows.steps import push as step
from tests.integration.loader import world_deltas
from tests.integration.loader.conftest import FAST, reset, settings_for, snapshot
from warehouse import db

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def emu(world_1k: Path) -> Iterator[EmulatorInfo]:
    with running_emulator(world_dir=world_1k, **FAST) as info:
        yield info


def _deltas(info: EmulatorInfo) -> tuple[dict[str, list[dict[str, Any]]], dict[str, Any]]:
    """Creates, closes and a few updates (every kind of write, quick to replay many times), one
    new line of which SCM refuses."""
    deltas = world_deltas.compute(info)
    for relation, rows in deltas.items():
        updates = [r for r in rows if r["action"] == "update"]
        deltas[relation] = [r for r in rows if r["action"] != "update"] + updates[:3]
    return deltas, world_deltas.refuse_one_line(deltas)


def _write(settings: Any, deltas: dict[str, list[dict[str, Any]]]) -> None:
    con = db.connect(settings.warehouse.path)
    try:
        world_deltas.write(con, deltas)
    finally:
        con.close()


def _push(settings: Any, run_id: str, route: str) -> step.PushSummary:
    con = db.connect(settings.warehouse.path)
    try:
        with build_clients(settings) as clients:
            step.plan(con, settings, run_id, route=route)  # type: ignore[arg-type]
            return step.push(con, clients, settings, run_id)
    finally:
        con.close()


def _ledger(settings: Any, run_id: str) -> list[tuple[Any, ...]]:
    con = db.connect(settings.warehouse.path)
    try:
        return con.execute(
            "SELECT seq, status, verify_status, coalesce(scm_message, '') || ' ' || "
            "coalesce(reason, '') FROM ops.push_ledger "
            "WHERE run_id = ? ORDER BY seq",
            [run_id],
        ).fetchall()
    finally:
        con.close()


@dataclass
class Reference:
    deltas: dict[str, list[dict[str, Any]]]
    victim: dict[str, Any]
    state: dict[str, set[tuple[Any, ...]]]
    ledger: list[tuple[Any, ...]]


@pytest.fixture(scope="module")
def reference(emu: EmulatorInfo, tmp_path_factory: pytest.TempPathFactory) -> Reference:
    reset(emu)
    deltas, victim = _deltas(emu)
    settings = settings_for(emu, tmp_path_factory.mktemp("reference"), changeset_size=10)
    _write(settings, deltas)
    summary = _push(settings, "uninterrupted", "auto")
    assert summary.push is not None
    assert summary.push.counts == {"succeeded": summary.plan.rows - 1, "failed": 1}
    return Reference(deltas, victim, snapshot(emu), _ledger(settings, "uninterrupted"))


@pytest.mark.parametrize(
    ("point", "route"),
    [
        ("after_plan", "auto"),
        ("mid_odata", "odata"),
        ("after_import", "package"),
        ("during_verify", "auto"),
    ],
)
def test_a_killed_push_pushed_again_ends_like_an_uninterrupted_one(
    emu: EmulatorInfo, reference: Reference, tmp_path: Path, point: str, route: str
) -> None:
    reset(emu)
    settings = settings_for(emu, tmp_path, changeset_size=10)
    _write(settings, reference.deltas)
    child = subprocess.run(
        [sys.executable, "-m", "tests.integration.loader.crash_child", str(emu.state_dir),
         str(tmp_path), "crashed", route, point],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert child.returncode == -9, child.stderr[-2000:]

    summary = _push(settings, "crashed", route)

    assert summary.push is not None
    assert summary.push.counts == {"succeeded": summary.plan.rows - 1, "failed": 1}
    assert snapshot(emu) == reference.state
    ledger = _ledger(settings, "crashed")
    assert [(s, st, v) for s, st, v, _ in ledger] == [
        (s, st, v) for s, st, v, _ in reference.ledger
    ]
    assert not [m for *_, m in ledger if "already exists" in m]
    # The one refused line failed with SCM's words, whichever channel carried it.
    (refused,) = [m for _, status, _, m in ledger if status == "failed"]
    assert "NOSUCHUNIT" in refused
    if point == "after_import":
        executions = emu.admin("GET", "executions")["executions"]
        ids = [e["id"] for e in executions if e["kind"] == "import"]
        # One import per batch: the one under way when the push died was not started again.
        assert len(ids) == len(set(ids)) == sum(g.batches for g in summary.plan.groups)
        assert summary.push.recovered > 0
    if point == "mid_odata":
        # The third request was applied but its answer never recorded: found, not re-created.
        assert summary.push.recovered > 0
        assert any("found in SCM by its natural key" in m for *_, m in ledger)


def test_an_answer_lost_on_the_wire_is_settled_in_the_same_push(
    emu: EmulatorInfo, reference: Reference, tmp_path: Path
) -> None:
    reset(emu)
    settings = settings_for(emu, tmp_path, changeset_size=10)
    _write(settings, reference.deltas)
    # The second $batch is applied by SCM, but its answer is cut off halfway.
    emu.set_fault(kind="drop", path="/scm/data/$batch", every_nth=2, count=1, fraction=0.3)

    summary = _push(settings, "dropped", "odata")

    assert summary.push is not None
    assert summary.push.counts == {"succeeded": summary.plan.rows - 1, "failed": 1}
    assert snapshot(emu) == reference.state
    ledger = _ledger(settings, "dropped")
    assert any("found in SCM by its natural key" in m for *_, m in ledger)
    assert not [m for *_, m in ledger if "already exists" in m]


def test_a_push_limited_to_some_entities_skips_the_others_with_the_reason(
    emu: EmulatorInfo, reference: Reference, tmp_path: Path
) -> None:
    reset(emu)
    settings = settings_for(emu, tmp_path)
    _write(settings, reference.deltas)
    con = db.connect(settings.warehouse.path)
    try:
        with build_clients(settings) as clients:
            step.plan(con, settings, "some")
            summary = step.push(
                con, clients, settings, "some", entities=["CLMIntegrationContracts"]
            )
        reasons = con.execute(
            "SELECT entity, status, reason FROM ops.push_ledger WHERE run_id = 'some' "
            "AND entity <> 'CLMIntegrationContracts' GROUP BY ALL"
        ).fetchall()
    finally:
        con.close()
    assert summary.push is not None
    contracts = sum(g.rows for g in summary.plan.groups if g.entity == "CLMIntegrationContracts")
    assert contracts > 0
    assert summary.push.counts == {"succeeded": contracts, "skipped": summary.plan.rows - contracts}
    assert {status for _, status, _ in reasons} == {"skipped"}
    assert {reason.split(" was")[0] for *_, reason in reasons} == {
        "not pushed: CLMIntegrationPurchaseAgreements",
        "not pushed: CLMIntegrationPurchaseAgreementLines",
        "not pushed: counterparty",
    }
