"""Helpers for the warehouse tests: Arrow batches from plain rows, one-value queries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from textwrap import dedent

import duckdb
import pyarrow as pa

from warehouse.runner import Project, load_project

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def batch(rows: Sequence[Mapping[str, str | None]], *, first_row: int = 1) -> pa.Table:
    """An all-string Arrow table of ``rows`` (the union of their keys) with ``_row_number``."""
    names: list[str] = []
    for row in rows:
        names.extend(n for n in row if n not in names)
    columns = {n: pa.array([row.get(n) for row in rows], pa.string()) for n in names}
    columns["_row_number"] = pa.array(range(first_row, first_row + len(rows)), pa.int64())
    return pa.table(columns)


def scalar(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    return con.execute(sql).fetchall()[0][0]


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[object, ...]]:
    return [tuple(r) for r in con.execute(sql).fetchall()]


def write_project(root: Path, files: Mapping[str, str]) -> Project:
    """Write ``files`` (path under ``root`` → text) and load the project in ``root/models``."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dedent(text).lstrip("\n"), encoding="utf-8")
    (root / "models").mkdir(exist_ok=True)
    return load_project(root / "models", root / "seeds")
