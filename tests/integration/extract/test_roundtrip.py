"""First run, a run with no change, a mutation, a delete and a revival, against the emulator:
after each, the warehouse's current views equal the emulator's data row for row."""

from __future__ import annotations

from typing import Any

import pytest

from connectors import catalog
from flows.steps.extract import extract_complete
from flows.steps.extract_types import ExtractReport
from tests.integration.extract.harness import Harness, assert_same_as_emulator, checksums

PACKAGE = catalog.package_entities()


@pytest.fixture(scope="module")
def primed(make_harness: Any) -> tuple[Harness, ExtractReport]:
    harness = make_harness()
    return harness, harness.extract()


def _landed(report: ExtractReport, entity: str) -> int:
    return sum(r.landed for r in report.results if r.entity == entity)


def test_first_run_lands_every_row_of_both_systems(primed: tuple[Harness, ExtractReport]) -> None:
    h, report = primed
    assert report.ok, report.failures
    assert extract_complete(h.con, report.run_id)
    assert_same_as_emulator(h)
    assert report.total("quarantined") == 0
    for result in report.results:
        assert result.landed == result.extracted
        if result.via != "clm_api":  # packages, $count: the source stated its count
            assert result.expected == result.extracted, result
    for entity in catalog.synced_entities():
        count = h.store.execute(f'SELECT count(*) FROM scm."{entity.name}"').fetchall()[0][0]
        assert _landed(report, entity.name) == count, entity.name
    # Every landed row carries its lineage.
    lineage = h.rows(
        "SELECT DISTINCT _run_id, _execution_id IS NOT NULL, _source_file FROM raw_scm.vendors"
    )
    assert {(r[0], r[1]) for r in lineage} == {(report.run_id, True)}
    assert {r[2] for r in lineage} == {"Vendors V2.csv"}


def test_a_run_without_change_lands_nothing(primed: tuple[Harness, ExtractReport]) -> None:
    h, _ = primed
    before = checksums(h)
    report = h.extract()
    assert report.ok, report.failures
    assert report.total("landed") == 0
    assert {r.status for r in report.results} == {"unchanged"}
    after = checksums(h)
    # Data and landing records are untouched; only the watermarks name the newer executions.
    assert {k: v for k, v in after.items() if k != "ops.extract_state"} == {
        k: v for k, v in before.items() if k != "ops.extract_state"
    }
    assert not report.project_changes


def test_after_a_mutation_only_the_changed_rows_are_extracted(
    primed: tuple[Harness, ExtractReport],
) -> None:
    h, _ = primed
    versions = {
        e.name: h.store.execute(f'SELECT max(_version) FROM scm."{e.name}"').fetchall()[0][0]
        for e in PACKAGE
    }
    stamps = {
        o.name: h.store.execute(f"SELECT max(updated_at) FROM clm.{o.table}").fetchall()[0][0]
        for o in catalog.CLM_OBJECTS
    }
    h.info.admin("POST", "mutate", {"fraction": 0.02, "seed": 11})
    changed = {
        name: h.store.execute(
            f'SELECT count(*) FROM scm."{name}" WHERE _version > ?', [version]
        ).fetchall()[0][0]
        for name, version in versions.items()
    }
    assert changed["VendorsV2"] > 0
    report = h.extract()
    assert report.ok, report.failures
    for name, rows in changed.items():
        assert _landed(report, name) == rows, name
    for obj in catalog.CLM_OBJECTS:
        rows = h.store.execute(
            f"SELECT count(*) FROM clm.{obj.table} WHERE updated_at > ?", [stamps[obj.name]]
        ).fetchall()[0][0]
        assert _landed(report, obj.name) == rows, obj.name
    # The mutation deleted vendors too: the key snapshot turned them into tombstones.
    assert sum(s.tombstoned for s in report.snapshots) > 0
    assert_same_as_emulator(h)


def test_a_deleted_vendor_becomes_a_tombstone_and_a_recreated_one_comes_back(
    primed: tuple[Harness, ExtractReport],
) -> None:
    h, _ = primed
    vendors = catalog.entity("VendorsV2")
    account = h.store.execute(
        'SELECT "VendorAccountNumber" FROM scm."VendorsV2" WHERE "dataAreaId" = \'usmf\' '
        "ORDER BY 1 LIMIT 1 OFFSET 7"
    ).fetchall()[0][0]
    keys = {"dataAreaId": "usmf", "VendorAccountNumber": account}
    record = h.clients.odata.get("VendorsV2", keys)
    assert record is not None
    h.clients.odata.delete("VendorsV2", keys)
    only_usmf: dict[str, Any] = {"legal_entities": ["usmf"], "entities": ["VendorsV2"]}

    noticed = h.extract(key_snapshot=True, **only_usmf)
    assert noticed.ok, noticed.failures
    tombstones = h.rows(
        "SELECT noticed_run_id, revived_at FROM ops.tombstones WHERE entity = 'VendorsV2' "
        "AND record_key = ?",
        [account],
    )
    assert tombstones == [(noticed.run_id, None)]
    held = 'SELECT count(*) FROM current_scm.vendors WHERE "VendorAccountNumber" = ?'
    assert h.scalar(held, [account]) == 0

    h.clients.odata.create("VendorsV2", {f: record[f] for f in vendors.field_names})
    revived = h.extract(key_snapshot=False, **only_usmf)
    assert revived.ok, revived.failures
    assert _landed(revived, "VendorsV2") == 1
    assert h.scalar(held, [account]) == 1
    assert h.rows(
        "SELECT revived_run_id, revived_by FROM ops.tombstones WHERE record_key = ?", [account]
    ) == [(revived.run_id, "row")]
    assert_same_as_emulator(h)
