"""The analytics snapshot: a read-only copy of what analysts query, published atomically.

DuckDB lets no other process open a database file while one process writes it, so analysts never
query the warehouse itself. At the end of a successful run the writer copies ``reports``,
``marts``, ``ops`` and ``seeds`` (views become tables) with their comments into a new file next
to the published one, checkpoints it, marks it read-only and renames it over the previous
snapshot. A rename is atomic: a reader sees the old file or the new one, never a half-written one,
and a reader that already has the old file open keeps reading it. A run that fails before
publishing leaves the previous snapshot exactly as it was.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from warehouse.db import qualified, quote_ident, quote_literal

PUBLISHED_SCHEMAS: tuple[str, ...] = ("reports", "marts", "ops", "seeds")
_ALIAS = "analytics_snapshot"


@dataclass(frozen=True)
class SnapshotResult:
    """What a publication copied: relations per schema, rows, size and time."""

    path: Path
    relations: dict[str, int] = field(default_factory=dict)  # "schema.name" -> rows
    bytes: int = 0
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(self.relations.values())


def publish_snapshot(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    schemas: Sequence[str] = PUBLISHED_SCHEMAS,
) -> SnapshotResult:
    """Copy ``schemas`` from the warehouse ``con`` into a new file and replace ``path`` with it."""
    started = time.perf_counter()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    _remove(tmp)
    copied: dict[str, int] = {}
    con.execute(f"ATTACH {quote_literal(str(tmp))} AS {_ALIAS}")
    try:
        for schema in schemas:
            copied.update(_copy_schema(con, schema))
        con.execute(f"CHECKPOINT {_ALIAS}")
    except BaseException:
        con.execute(f"DETACH {_ALIAS}")
        _remove(tmp)
        raise
    con.execute(f"DETACH {_ALIAS}")
    _remove(Path(f"{tmp}.wal"))
    os.chmod(tmp, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    os.replace(tmp, path)
    return SnapshotResult(
        path=path,
        relations=copied,
        bytes=path.stat().st_size,
        seconds=time.perf_counter() - started,
    )


def _copy_schema(con: duckdb.DuckDBPyConnection, schema: str) -> dict[str, int]:
    relations = con.execute(
        """
        select table_name, comment from duckdb_tables()
        where database_name = current_database() and schema_name = ?
        union all
        select view_name, comment from duckdb_views()
        where database_name = current_database() and schema_name = ? and not internal
        order by 1
        """,
        [schema, schema],
    ).fetchall()
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {_ALIAS}.{quote_ident(schema)}")
    copied: dict[str, int] = {}
    for name, comment in relations:
        target = f"{_ALIAS}.{qualified(schema, name)}"
        con.execute(f"CREATE TABLE {target} AS SELECT * FROM {qualified(schema, name)}")
        if comment:
            con.execute(f"COMMENT ON TABLE {target} IS {quote_literal(comment)}")
        for column, column_comment in con.execute(
            """
            select column_name, comment from duckdb_columns()
            where database_name = current_database() and schema_name = ? and table_name = ?
              and comment is not null
            """,
            [schema, name],
        ).fetchall():
            con.execute(
                f"COMMENT ON COLUMN {target}.{quote_ident(column)} "
                f"IS {quote_literal(column_comment)}"
            )
        rows = con.execute(f"SELECT count(*) FROM {target}").fetchall()[0][0]
        copied[f"{schema}.{name}"] = int(rows)
    return copied


def _remove(path: Path) -> None:
    try:
        path.chmod(stat.S_IWUSR | stat.S_IRUSR)
        path.unlink()
    except FileNotFoundError:
        pass
