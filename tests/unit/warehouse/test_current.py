from __future__ import annotations

import time
from datetime import timedelta

import duckdb
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.warehouse.helpers import T0, batch, rows
from warehouse import current, landing, relations, tombstones

LINES = relations.scm("CLMIntegrationPurchaseAgreementLines")
COLUMNS = '"PurchaseAgreementId", "LineNumber", "ItemNumber"'


def land(
    con: duckdb.DuckDBPyConnection,
    data: list[tuple[str, str, str]],
    execution: str,
    hours: int = 0,
) -> None:
    """Land lines (agreement, line number, item) extracted ``hours`` after T0."""
    columns = {
        "PurchaseAgreementLegalEntityId": ["usmf"] * len(data),
        "PurchaseAgreementId": [p for p, _, _ in data],
        "LineNumber": [n for _, n, _ in data],
        "ItemNumber": [item for _, _, item in data],
    }
    table = pa.table(
        {
            **{name: pa.array(values, pa.string()) for name, values in columns.items()},
            "_row_number": pa.array(range(1, len(data) + 1), pa.int64()),
        }
    )
    landing.land(
        con, LINES, table, run_id="r", batch_id=execution, source_file="lines.csv",
        legal_entity="usmf", extracted_at=T0 + timedelta(hours=hours),
    )  # fmt: skip


def current_rows(con: duckdb.DuckDBPyConnection) -> list[tuple[object, ...]]:
    return rows(con, f"SELECT {COLUMNS} FROM current_scm.purchase_agreement_lines ORDER BY ALL")


def test_latest_row_per_key_wins_by_extraction_time_then_landing(
    con: duckdb.DuckDBPyConnection,
) -> None:
    # Two different rows for one key in one file cannot be ordered: landing quarantines both.
    land(con, [("PA1", "1", "old"), ("PA1", "1", "later row")], "E1", hours=1)
    land(con, [("PA1", "1", "extracted earlier")], "E2", hours=0)
    land(con, [("PA1", "2", "first"), ("PA2", "1", "x")], "E3", hours=2)
    land(con, [("PA1", "2", "second landing, same time")], "E4", hours=2)
    result = current.refresh_current(con, LINES)
    assert (result.loads, result.changed, result.applied) == (4, 3, 3)
    assert current_rows(con) == [
        ("PA1", "1", "extracted earlier"),
        ("PA1", "2", "second landing, same time"),
        ("PA2", "1", "x"),
    ]


def test_one_line_spelled_two_ways_is_one_current_row(con: duckdb.DuckDBPyConnection) -> None:
    land(con, [("PA1", "1.000000", "a")], "E1", hours=0)
    land(con, [("PA1", "1", "b")], "E2", hours=1)
    current.refresh_current(con, LINES)
    assert current_rows(con) == [("PA1", "1", "b")]


def test_refresh_applies_each_landing_once_and_keeps_newer_rows(
    con: duckdb.DuckDBPyConnection,
) -> None:
    land(con, [("PA1", "1", "new")], "E1", hours=5)
    current.refresh_current(con, LINES)
    assert current.refresh_current(con, LINES).loads == 0
    land(con, [("PA1", "1", "an old package landed by hand")], "MANUAL", hours=1)
    result = current.refresh_current(con, LINES)
    assert (result.loads, result.applied, result.stale) == (1, 0, 1)
    assert current_rows(con) == [("PA1", "1", "new")]


def test_refresh_all_covers_every_relation_with_new_landings(
    con: duckdb.DuckDBPyConnection,
) -> None:
    land(con, [("PA1", "1", "a")], "E1")
    landing.land_clm(con, "contract", batch([{"id": "K-1"}]), run_id="r", cursor="c1",
                     source_file="contracts.jsonl")  # fmt: skip
    refreshed = {r.relation: r.applied for r in current.refresh_all(con)}
    assert refreshed == {"raw_scm.purchase_agreement_lines": 1, "raw_clm.contracts": 1}
    assert rows(con, "SELECT id FROM current_clm.contracts") == [("K-1",)]


def test_refresh_cost_follows_the_changed_rows_not_the_table(
    con: duckdb.DuckDBPyConnection,
) -> None:
    vendors = relations.scm("VendorsV2")
    n = 100_000

    def vendor_rows(count: int, step: int, tag: str) -> pa.Table:
        sql = (
            f"SELECT 'usmf' AS \"dataAreaId\", 'V' || (i * {step}) AS \"VendorAccountNumber\", "
            f"'{tag}' || i AS \"VendorOrganizationName\", i + 1 AS _row_number "
            f"FROM range({count}) r(i)"
        )
        return con.sql(sql).to_arrow_table()

    landing.land(con, vendors, vendor_rows(n, 1, "a"), run_id="r", batch_id="full",
                 source_file="v", legal_entity="usmf", extracted_at=T0)  # fmt: skip
    current.refresh_current(con, vendors)
    later = T0 + timedelta(hours=1)
    landing.land(con, vendors, vendor_rows(n // 100, 97, "b"), run_id="r", batch_id="inc",
                 source_file="v", legal_entity="usmf", extracted_at=later)  # fmt: skip
    start = time.perf_counter()
    assert current.refresh_current(con, vendors).applied == n // 100
    incremental = time.perf_counter() - start
    start = time.perf_counter()
    assert current.rebuild_current(con, vendors) == n
    full = time.perf_counter() - start
    assert incremental < full / 2, (incremental, full)


# --- incremental refresh equals a full recompute --------------------------------------------

KEYS = st.tuples(st.sampled_from(["PA1", "PA2"]), st.sampled_from(["1", "1.0", "2", "3.5"]))
LAND = st.tuples(
    st.just("land"),
    st.lists(st.tuples(KEYS, st.sampled_from(["10", "20", "30"])), max_size=5),
    st.integers(0, 4),
)
SNAPSHOT = st.tuples(st.just("snapshot"), st.lists(KEYS, max_size=4), st.integers(0, 4))
REFRESH = st.tuples(st.just("refresh"), st.just([]), st.just(0))


def reset(con: duckdb.DuckDBPyConnection) -> None:
    for table in (
        "raw_scm.purchase_agreement_lines",
        "current_scm.purchase_agreement_lines",
        "ops.landed_files",
        "ops.tombstones",
        "ops.quarantine",
        "ops.extract_state",
    ):
        con.execute(f"DELETE FROM {table}")  # fmt: skip


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(ops=st.lists(st.one_of(LAND, SNAPSHOT, REFRESH), min_size=1, max_size=7))
def test_incremental_refresh_equals_full_recompute(
    con: duckdb.DuckDBPyConnection, ops: list[tuple[str, list[object], int]]
) -> None:
    reset(con)  # one warehouse for every example: connecting is most of an example's cost
    for i, (kind, items, hours) in enumerate(ops):
        if kind == "land":
            data = [(p, n, price) for (p, n), price in items]  # type: ignore[misc]
            land(con, data, f"E{i}", hours=hours)
        elif kind == "snapshot":
            keys = pa.table(
                {
                    "PurchaseAgreementId": [k[0] for k in items],  # type: ignore[index]
                    "LineNumber": [k[1] for k in items],  # type: ignore[index]
                },
                schema=pa.schema([("PurchaseAgreementId", pa.string()),
                                  ("LineNumber", pa.string())]),
            )  # fmt: skip
            tombstones.apply_key_snapshot(
                con, LINES, keys, run_id=f"r{i}", legal_entity="usmf",
                taken_at=T0 + timedelta(hours=hours), allow_empty=True,
            )  # fmt: skip
        else:
            current.refresh_current(con, LINES)
    current.refresh_current(con, LINES)
    everything = "SELECT * EXCLUDE (_run_id) FROM current_scm.purchase_agreement_lines ORDER BY ALL"
    incremental = rows(con, everything)
    current.rebuild_current(con, LINES)
    assert incremental == rows(con, everything)
