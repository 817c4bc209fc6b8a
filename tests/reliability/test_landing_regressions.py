"""Landing faults found by the bad-input corpus, each pinned by a small test of its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from connectors import catalog
from connectors.errors import PackageFormatError
from warehouse import db, landing, relations

CONTRACTS = catalog.entity("CLMIntegrationContracts")


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = db.connect(tmp_path / "warehouse.duckdb")
    yield connection
    connection.close()


def contract_batch(numbers: list[int], content: list[int] | None = None) -> pa.RecordBatch:
    """Rows numbered ``numbers`` whose values derive from ``content`` (default: the numbers)."""
    columns = {f: [f"{f}-{n}" for n in content or numbers] for f in CONTRACTS.field_names}
    columns["LegalEntityId"] = ["usmf"] * len(numbers)
    columns["EffectiveDate"] = ["3/1/2025 12:00:00 AM"] * len(numbers)
    columns["ExpirationDate"] = ["2025-03-01"] * len(numbers)
    arrays = [pa.array(v, pa.string()) for v in columns.values()]
    arrays.append(pa.array(numbers, pa.int64()))
    return pa.RecordBatch.from_arrays(arrays, names=[*columns, landing.ROW_NUMBER])


def count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    return int(con.execute(sql).fetchall()[0][0])


def test_an_error_raised_inside_the_stream_reaches_the_caller_as_itself(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """A package found damaged half-way through its data file: the caller gets the reader's
    error naming package and file (not DuckDB's wrapper with a traceback inside), and nothing of
    the file lands."""

    def batches() -> Iterator[pa.RecordBatch]:
        yield contract_batch([1, 2, 3])
        raise PackageFormatError("export.zip", "data file is damaged (bad CRC)", entry="c.csv")

    with pytest.raises(PackageFormatError) as caught:
        landing.land_scm(
            con, CONTRACTS, batches(), run_id="r1", execution_id="e1", source_file="c.csv",
            legal_entity="usmf",
        )  # fmt: skip
    assert str(caught.value) == "package export.zip [c.csv]: data file is damaged (bad CRC)"
    assert count(con, f"SELECT count(*) FROM {relations.scm(CONTRACTS).raw}") == 0
    assert count(con, "SELECT count(*) FROM ops.landed_files") == 0


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[object, ...]]:
    return con.execute(sql).fetchall()


def test_rows_sharing_a_key_but_differing_go_to_the_quarantine(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """Which of two different rows for one contract is right cannot be told: both are
    quarantined, naming the key and the rows. Exact copies are harmless and land."""
    batch = contract_batch([1, 2, 3, 4, 5], content=[1, 2, 3, 4, 4])
    ids = ["C1", "C2", "C2", "C3", "C3"]
    names = ["a", "b", "changed", "c", "c"]
    batch = batch.set_column(CONTRACTS.field_names.index("ContractId"), "ContractId", pa.array(ids))
    batch = batch.set_column(
        CONTRACTS.field_names.index("ContractName"), "ContractName", pa.array(names)
    )
    result = landing.land_scm(
        con, CONTRACTS, [batch], run_id="r1", execution_id="e1", source_file="c.csv",
        legal_entity="usmf",
    )  # fmt: skip
    assert (result.rows_in, result.landed, result.quarantined) == (5, 3, 2)
    assert _rows(con, "SELECT row_number, reason FROM ops.quarantine ORDER BY 1") == [
        (2, "duplicate key (LegalEntityId, ContractId) = (usmf, C2): rows 2, 3 differ"),
        (3, "duplicate key (LegalEntityId, ContractId) = (usmf, C2): rows 2, 3 differ"),
    ]


def test_two_versions_of_a_clm_object_in_one_landing_both_land(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """An object updated while the CLM was read comes twice with two ``updated_at``: both are
    versions, not a conflict; the same version with two contents is one."""
    obj = catalog.clm_object("contract")
    values = {f: [f"{f}-{n}" for n in range(4)] for f in obj.field_names}
    values["id"] = ["K-1", "K-1", "K-2", "K-2"]
    values["updated_at"] = ["2025-01-01T00:00:00Z", "2025-01-02T00:00:00Z"] * 2
    values["updated_at"][3] = values["updated_at"][2]
    for name in ("effective_date", "expiration_date", "created_at"):
        values[name] = ["2025-01-01"] * 4
    values["amendment_number"] = ["1"] * 4
    arrays = [pa.array(v, pa.string()) for v in values.values()]
    batch = pa.RecordBatch.from_arrays(
        [*arrays, pa.array([1, 2, 3, 4], pa.int64())], names=[*values, landing.ROW_NUMBER]
    )
    result = landing.land_clm(con, obj, [batch], run_id="r1", cursor="c", source_file="api")
    assert (result.landed, result.quarantined) == (2, 2)
    assert [r[0] for r in _rows(con, "SELECT row_number FROM ops.quarantine ORDER BY 1")] == [3, 4]
