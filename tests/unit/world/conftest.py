"""Worlds shared by the world tests: generated once per session (small, fast sizes)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from connectors import catalog
from emulator.world import WorldSummary, clm_store, generate

SIZE = 1500
SEED = 5


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> WorldSummary:
    return generate(SIZE, SEED, tmp_path_factory.mktemp("world") / "w")


@pytest.fixture(scope="session")
def truth(world: WorldSummary) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(world.ground_truth.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="session")
def loaded(world: WorldSummary) -> duckdb.DuckDBPyConnection:
    """The world's files read back into DuckDB: schema ``scm`` (one table per entity set, as
    written) and the CLM side as the emulator loads it (``clm``, ``world``)."""
    con = duckdb.connect(":memory:")
    con.execute("CREATE SCHEMA scm")
    for entity in catalog.synced_entities():
        path = world.out_dir / "scm" / f"{entity.name}.parquet"
        con.execute(
            f'CREATE TABLE scm."{entity.name}" AS SELECT * FROM read_parquet(?)', [str(path)]
        )
    clm_store.load(con, world.out_dir)
    return con


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[Any]:
    return con.execute(sql, params or []).fetchall()


def entries_of(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data
