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


def contract_batch(numbers: list[int]) -> pa.RecordBatch:
    columns = {f: [f"{f}-{n}" for n in numbers] for f in CONTRACTS.field_names}
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
