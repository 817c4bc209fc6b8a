"""Fixtures for the warehouse tests."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from warehouse import db


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    """A fresh in-memory warehouse with its schemas and ops tables."""
    connection = db.connect(":memory:")
    yield connection
    connection.close()
