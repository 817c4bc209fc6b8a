from __future__ import annotations

from datetime import timedelta

import duckdb
import pyarrow as pa
import pytest

from connectors.errors import LandingError
from tests.unit.warehouse.helpers import T0, batch, rows
from warehouse import current, landing, relations, tombstones

VENDORS = relations.scm("VendorsV2")


def land(
    con: duckdb.DuckDBPyConnection,
    accounts: list[str],
    execution: str,
    hours: int,
    le: str = "usmf",
) -> None:
    data = batch([{"dataAreaId": le, "VendorAccountNumber": a, "VendorOrganizationName": execution}
                  for a in accounts])  # fmt: skip
    landing.land(con, VENDORS, data, run_id=f"run-{execution}", batch_id=execution,
                 source_file="Vendors V2.csv", legal_entity=le,
                 extracted_at=T0 + timedelta(hours=hours))  # fmt: skip
    current.refresh_current(con, VENDORS, run_id=f"run-{execution}")


def snapshot(
    con: duckdb.DuckDBPyConnection, accounts: list[str], run: str, hours: int, le: str = "usmf"
) -> tombstones.SnapshotResult:
    keys = pa.table({"VendorAccountNumber": pa.array(accounts, pa.string())})
    return tombstones.apply_key_snapshot(
        con, VENDORS, keys, run_id=run, legal_entity=le, taken_at=T0 + timedelta(hours=hours)
    )


def current_vendors(con: duckdb.DuckDBPyConnection) -> list[tuple[object, ...]]:
    return rows(con, 'SELECT "dataAreaId", "VendorAccountNumber", "VendorOrganizationName" '
                     "FROM current_scm.vendors ORDER BY ALL")  # fmt: skip


def test_a_vanished_key_becomes_a_tombstone_naming_the_run(
    con: duckdb.DuckDBPyConnection,
) -> None:
    land(con, ["US-V1", "US-O'HARA-1", "US-V3"], "E1", hours=0)
    result = snapshot(con, ["US-V1", "US-V3"], "run-2", hours=1)
    assert (result.keys_seen, result.tombstoned, result.revived) == (2, 1, 0)
    assert [r[1] for r in current_vendors(con)] == ["US-V1", "US-V3"]
    assert rows(
        con, "SELECT record_key, legal_entity, key_values, noticed_run_id FROM ops.tombstones"
    ) == [("US-O'HARA-1", "usmf", ["usmf", "US-O'HARA-1"], "run-2")]
    assert [t[0] for t in tombstones.active_tombstones(con, VENDORS, "usmf")] == ["US-O'HARA-1"]


def test_a_key_back_in_a_later_snapshot_is_revived_with_its_row(
    con: duckdb.DuckDBPyConnection,
) -> None:
    land(con, ["US-V1", "US-V2"], "E1", hours=0)
    snapshot(con, ["US-V1"], "run-2", hours=1)
    result = snapshot(con, ["US-V1", "US-V2"], "run-3", hours=2)
    assert result.revived == 1
    assert current_vendors(con) == [("usmf", "US-V1", "E1"), ("usmf", "US-V2", "E1")]
    assert rows(con, "SELECT revived_run_id, revived_by FROM ops.tombstones") == [
        ("run-3", "snapshot")
    ]
    assert tombstones.active_tombstones(con, VENDORS) == []


def test_a_row_extracted_after_the_tombstone_revives_it_an_older_one_does_not(
    con: duckdb.DuckDBPyConnection,
) -> None:
    land(con, ["US-V1", "US-V2"], "E1", hours=0)
    snapshot(con, ["US-V1"], "run-2", hours=2)
    land(con, ["US-V2"], "OLD-PACKAGE", hours=1)
    assert [r[1] for r in current_vendors(con)] == ["US-V1"]
    land(con, ["US-V2"], "E3", hours=3)
    assert current_vendors(con) == [("usmf", "US-V1", "E1"), ("usmf", "US-V2", "E3")]
    assert rows(con, "SELECT revived_run_id, revived_by FROM ops.tombstones") == [("run-E3", "row")]


def test_a_snapshot_covers_only_its_legal_entity(con: duckdb.DuckDBPyConnection) -> None:
    land(con, ["US-V1"], "E1", hours=0)
    land(con, ["DE-V1"], "E2", hours=0, le="demf")
    assert snapshot(con, ["US-V1"], "run-2", hours=1).tombstoned == 0
    assert snapshot(con, ["DE-V9"], "run-2", hours=1, le="demf").tombstoned == 1
    assert [r[1] for r in current_vendors(con)] == ["US-V1"]
    wrong = pa.table({"dataAreaId": ["demf"], "VendorAccountNumber": ["DE-V1"]})
    with pytest.raises(LandingError, match="snapshot of usmf holds keys of demf"):
        tombstones.apply_key_snapshot(con, VENDORS, wrong, run_id="r", legal_entity="usmf")


def test_an_empty_snapshot_is_refused_and_changes_nothing(
    con: duckdb.DuckDBPyConnection,
) -> None:
    land(con, ["US-V1"], "E1", hours=0)
    with pytest.raises(LandingError, match="snapshot is empty but 1 records are current"):
        snapshot(con, [], "run-2", hours=1)
    assert len(current_vendors(con)) == 1
    assert rows(con, "SELECT count(*) FROM ops.tombstones") == [(0,)]


def test_a_row_newer_than_the_snapshot_is_not_tombstoned(
    con: duckdb.DuckDBPyConnection,
) -> None:
    land(con, ["US-V1", "US-V2"], "E1", hours=5)
    assert snapshot(con, ["US-V1"], "run-2", hours=4).tombstoned == 0
    assert len(current_vendors(con)) == 2


def test_a_count_equal_to_the_current_rows_rules_out_deletes(
    con: duckdb.DuckDBPyConnection,
) -> None:
    land(con, ["US-V1", "US-V2", "US-V3"], "E1", hours=0)
    land(con, ["DE-V1", "DE-V2"], "E2", hours=0, le="demf")
    assert tombstones.count_rules_out_deletes(con, VENDORS, "usmf", 3)
    assert tombstones.count_rules_out_deletes(con, VENDORS, "USMF", 3)  # any spelling
    assert tombstones.count_rules_out_deletes(con, VENDORS, "demf", 2)
    # SCM holding fewer: something current is gone; more: added since the count. Keys are read.
    assert not tombstones.count_rules_out_deletes(con, VENDORS, "usmf", 2)
    assert not tombstones.count_rules_out_deletes(con, VENDORS, "usmf", 4)
    # The spared key read leaves everything as it was.
    assert rows(con, "SELECT count(*) FROM ops.tombstones") == [(0,)]
    assert len(current_vendors(con)) == 5


def test_a_quarantined_row_rules_the_count_out(con: duckdb.DuckDBPyConnection) -> None:
    # The record of the quarantined row is in SCM but not current: one record missing here
    # would hide one deleted, so the count can no longer vouch for anything in usmf.
    land(con, ["US-V1", "US-V2", ""], "E1", hours=0)
    land(con, ["DE-V1"], "E2", hours=0, le="demf")
    assert rows(con, "SELECT legal_entity, count(*) FROM ops.quarantine GROUP BY 1") == [
        ("usmf", 1)
    ]
    assert not tombstones.count_rules_out_deletes(con, VENDORS, "usmf", 2)
    assert not tombstones.count_rules_out_deletes(con, VENDORS, "usmf", 3)
    assert tombstones.count_rules_out_deletes(con, VENDORS, "demf", 1)


def test_the_count_sees_landings_not_applied_yet(con: duckdb.DuckDBPyConnection) -> None:
    land(con, ["US-V1"], "E1", hours=0)
    data = batch([{"dataAreaId": "usmf", "VendorAccountNumber": "US-V2"}])
    landing.land(con, VENDORS, data, run_id="run-E2", batch_id="E2",
                 source_file="Vendors V2.csv", legal_entity="usmf",
                 extracted_at=T0 + timedelta(hours=1))  # fmt: skip
    assert tombstones.count_rules_out_deletes(con, VENDORS, "usmf", 2)
