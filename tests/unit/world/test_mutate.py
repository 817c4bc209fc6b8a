"""Mutations change both sides and the next ground truth stays exactly right."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulator.store import Store
from emulator.world import WorldSummary, clm_upsert, generate, mutate
from emulator.world.mutation import mutate_with_result, refresh_ground_truth


def _key(entry: dict[str, Any]) -> str:
    return json.dumps(entry, sort_keys=True)


@pytest.fixture
def state(tmp_path: Path) -> Iterator[tuple[Store, WorldSummary]]:
    summary = generate(600, 9, tmp_path / "world")
    store = Store()
    store.load_world(summary.out_dir)
    yield store, summary
    store.close()


def test_the_loaded_store_reconciles_to_the_generated_ground_truth(
    state: tuple[Store, WorldSummary], tmp_path: Path
) -> None:
    store, summary = state
    fresh = json.loads(refresh_ground_truth(store, tmp_path / "now.json").read_text())
    planted = json.loads(summary.ground_truth.read_text())
    assert Counter(map(_key, fresh["discrepancies"])) == Counter(
        map(_key, planted["discrepancies"])
    )
    assert Counter(map(_key, fresh["noise"])) == Counter(map(_key, planted["noise"]))


def test_a_mutation_keeps_unresolved_entries_and_adds_new_ones(
    state: tuple[Store, WorldSummary],
) -> None:
    store, summary = state
    before = json.loads(summary.ground_truth.read_text())
    reader = store.reader()
    max_version = reader.execute('SELECT max(_version) FROM scm."VendorsV2"').fetchall()[0][0]
    max_updated = reader.execute("SELECT max(updated_at) FROM clm.contracts").fetchall()[0][0]
    path, result = mutate_with_result(store, 0.08, 4)
    assert path == summary.out_dir.parent / "ground_truth.json"
    after = json.loads(path.read_text())
    assert result.missing == []
    assert after["mutation"]["number"] == 1
    assert set(map(_key, before["discrepancies"])) <= set(map(_key, after["discrepancies"]))
    new = Counter(e["kind"] for e in after["discrepancies"]) - Counter(
        e["kind"] for e in before["discrepancies"]
    )
    assert {"new_contract", "amended_dates", "vendor_stale_in_clm"} <= set(new)
    assert result.counts["vendors_created"] >= 1
    assert result.counts["vendors_deleted"] >= 1
    changed = reader.execute(
        'SELECT count(*) FROM scm."VendorsV2" WHERE _version > ?', [max_version]
    ).fetchall()[0][0]
    assert changed >= result.counts["vendors_created"] + result.counts["vendors_updated"]
    touched = reader.execute(
        "SELECT count(*) FROM clm.contracts WHERE updated_at > ?", [max_updated]
    ).fetchall()[0][0]
    assert touched >= result.counts["new_contracts"]
    second, result2 = mutate_with_result(store, 0.05, 4)
    assert result2.number == 2
    assert result2.missing == []
    assert second == path


def test_applied_actions_drop_out_of_the_next_ground_truth(
    state: tuple[Store, WorldSummary], tmp_path: Path
) -> None:
    """What clmsync would push (a date update, a line delete, a CLM master-data refresh) is
    resolved; every other entry stays."""
    store, summary = state
    truth = json.loads(summary.ground_truth.read_text())
    by_kind: dict[str, dict[str, Any]] = {}
    for e in truth["discrepancies"]:
        by_kind.setdefault(e["kind"], e)
    dates = next(
        e
        for e in truth["discrepancies"]
        if e["kind"] == "amended_dates" and e["entity"] == "CLMIntegrationContracts"
    )
    removed = by_kind["line_removed"]
    stale = by_kind["vendor_stale_in_clm"]
    with store.transaction() as con:
        con.execute(
            f'UPDATE scm."CLMIntegrationContracts" SET "{dates["field"]}" = ?, '
            "_version = nextval('scm.row_version') "
            'WHERE "LegalEntityId" = ? AND "ContractId" = ?',
            [dates["clm_value"], dates["legal_entity"], dates["record_key"]],
        )
        pa, line = removed["record_key"].split("|")
        con.execute(
            'DELETE FROM scm."CLMIntegrationPurchaseAgreementLines" WHERE '
            '"PurchaseAgreementLegalEntityId" = ? AND "PurchaseAgreementId" = ? '
            'AND "LineNumber" = ?',
            [removed["legal_entity"], pa, int(line)],
        )
    field = {
        "VendorOrganizationName": "name",
        "AddressStreet": "address.street",
        "AddressCity": "address.city",
        "AddressZipCode": "address.zip",
    }
    if stale["field"] in field:
        item = {"id": stale["clm_id"], field[stale["field"]]: stale["scm_value"]}
        with store.transaction() as con:
            assert clm_upsert.upsert(con, [item])[0]["status"] == "updated"
    after = json.loads(refresh_ground_truth(store, tmp_path / "gt.json").read_text())
    gone = set(map(_key, truth["discrepancies"])) - set(map(_key, after["discrepancies"]))
    expected = {_key(dates), _key(removed)} | ({_key(stale)} if stale["field"] in field else set())
    assert gone == expected
    assert set(map(_key, after["discrepancies"])) <= set(map(_key, truth["discrepancies"]))


def test_a_fraction_out_of_range_is_refused(state: tuple[Store, WorldSummary]) -> None:
    store, _ = state
    with pytest.raises(ValueError, match="fraction must be greater than 0"):
        mutate(store, 0.0, 1)
