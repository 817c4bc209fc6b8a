"""The emulator's one in-memory DuckDB database.

SCM entities live in schema ``scm``, one table per entity set named like the set, with the
catalog's fields as typed columns and four hidden columns (see ``sql.create_table_sql``). Every
insert or update of an SCM row takes ``_version = nextval('scm.row_version')``; record ids come
from ``scm.recid`` and are never reused. CLM data lives in schema ``clm`` (owned by the world
part). Internal bookkeeping (number sequences, change-tracking watermarks) lives in ``emu``.

Threads: writes are serialised by one lock and run on one writer cursor inside a transaction
(:meth:`Store.transaction`); reads use a cursor per thread (:meth:`Store.reader`), which sees
only committed data.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from connectors import catalog
from connectors.catalog import Entity
from emulator import sql


class Store:
    """SCM tables plus the CLM schema, in one in-memory DuckDB database."""

    def __init__(self) -> None:
        self._db = duckdb.connect(":memory:")
        self._db.execute("SET GLOBAL TimeZone = 'UTC'")
        self._lock = threading.RLock()
        self._writer = self._db.cursor()
        self._depth = 0
        self._local = threading.local()
        self._create()

    # --- connections -------------------------------------------------------------------------

    def reader(self) -> duckdb.DuckDBPyConnection:
        """This thread's read cursor (committed data only)."""
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._db.cursor()
            self._local.cursor = cursor
        return cursor

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Hold the write lock and run the block in one transaction (rolled back on error).

        Nested use in the same thread joins the outer transaction, so an OData operation can run
        alone or inside a ``$batch`` changeset with the same code.
        """
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._writer
                finally:
                    self._depth -= 1
                return
            self._writer.execute("BEGIN TRANSACTION")
            self._depth = 1
            try:
                yield self._writer
            except BaseException:
                self._writer.execute("ROLLBACK")
                raise
            else:
                self._writer.execute("COMMIT")
            finally:
                self._depth = 0

    # --- schema ------------------------------------------------------------------------------

    def _create(self) -> None:
        con = self._writer
        con.execute("CREATE SCHEMA IF NOT EXISTS scm")
        con.execute("CREATE SCHEMA IF NOT EXISTS clm")
        con.execute("CREATE SCHEMA IF NOT EXISTS emu")
        con.execute("CREATE SEQUENCE IF NOT EXISTS scm.row_version")
        con.execute("CREATE SEQUENCE IF NOT EXISTS scm.recid START 5637144576")
        for entity in catalog.ENTITIES:
            con.execute(sql.create_table_sql(entity))
        con.execute("CREATE TABLE emu.numseq (entity VARCHAR, company VARCHAR, last BIGINT)")
        # Change tracking: the last exported version per data project entity (detail record).
        con.execute("CREATE TABLE emu.watermarks (detail BIGINT, version BIGINT)")

    def reset(self) -> None:
        """Drop every table and sequence and start empty (record ids and versions go on)."""
        with self.transaction() as con:
            for entity in catalog.ENTITIES:
                con.execute(f"DELETE FROM {sql.table(entity)}")
            con.execute("DELETE FROM emu.numseq")
            con.execute("DELETE FROM emu.watermarks")
            for (name,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'clm'"
            ).fetchall():
                con.execute(f"DROP TABLE clm.{sql.ident(name)}")

    # --- loading -----------------------------------------------------------------------------

    def insert_rows(self, entity_name: str, rows: Sequence[Mapping[str, Any]]) -> int:
        """Insert ``rows`` as they are (no business validation): fixtures and test data.

        Values may be Python values or text SCM would accept (ISO dates, enum names). A value
        that cannot be read as its field's type raises ``ValueError`` naming row and field.
        """
        entity = catalog.entity(entity_name)
        if not rows:
            return 0
        unknown = sorted({k for r in rows for k in r} - set(entity.field_names))
        if unknown:
            raise ValueError(f"{entity.name} has no field(s) {unknown}")
        columns = {
            f.name: pa.array([catalog.scm_text(r.get(f.name)) for r in rows], pa.string())
            for f in entity.fields
        }
        columns["_row"] = pa.array(range(len(rows)), pa.int64())
        source = pa.table(columns)
        with self.transaction() as con:
            con.register("_insert_source", source)
            try:
                checks = [
                    (f, c)
                    for f in entity.fields
                    if (c := sql.type_error_expr(f, sql.ident(f.name)))
                ]
                any_bad = " OR ".join(c for _, c in checks) or "FALSE"
                found = con.execute(f"SELECT 1 FROM _insert_source WHERE {any_bad} LIMIT 1")
                for f, check in checks if found.fetchall() else []:
                    bad = con.execute(
                        f"SELECT _row, {sql.ident(f.name)} FROM _insert_source "
                        f"WHERE {check} LIMIT 1"
                    ).fetchall()
                    if bad:
                        raise ValueError(
                            f"{entity.name} row {bad[0][0]}: {f.name}={bad[0][1]!r} is not a "
                            f"valid {f.type}"
                        )
                typed = ", ".join(
                    f"{sql.typed_expr(f, sql.ident(f.name))} AS {sql.ident(f.name)}"
                    for f in entity.fields
                )
                self.insert_typed(con, entity, f"SELECT {typed} FROM _insert_source ORDER BY _row")
            finally:
                con.unregister("_insert_source")
        return len(rows)

    def insert_typed(self, con: duckdb.DuckDBPyConnection, entity: Entity, select: str) -> None:
        """Insert the rows of ``select`` (columns named like the entity's fields, any subset).

        Blank conventions are applied, and each row gets a new record id, version and keys.
        """
        names = {r[0] for r in con.execute(f"DESCRIBE {select}").fetchall()}
        values = []
        for f in entity.fields:
            source = (
                f"CAST(src.{sql.ident(f.name)} AS {sql.SQL_TYPES[f.type]})"
                if f.name in names
                else f"CAST(NULL AS {sql.SQL_TYPES[f.type]})"
            )
            values.append(f"{sql.normalized(entity, f, source)} AS {sql.ident(f.name)}")
        fields = ", ".join(sql.ident(f.name) for f in entity.fields)
        con.execute(
            f"INSERT INTO {sql.table(entity)} SELECT {fields}, nextval('scm.recid'), "
            f"nextval('scm.row_version'), {sql.key_expr(entity.keys, 'n')}, "
            f"{sql.nkey_sql(entity, 'n')} FROM (SELECT {', '.join(values)} FROM ({select}) src) n"
        )

    def load_parquet(self, entity_name: str, path: Path) -> int:
        """Append the rows of one parquet file (columns = catalog field names) to an entity."""
        entity = catalog.entity(entity_name)
        source = f"SELECT * FROM read_parquet({sql.quote_literal(str(path))})"
        with self.transaction() as con:
            names = [r[0] for r in con.execute(f"DESCRIBE {source}").fetchall()]
            unknown = sorted(set(names) - set(entity.field_names))
            if unknown:
                raise ValueError(f"{path}: {entity.name} has no field(s) {unknown}")
            before = self.count(entity.name, con)
            self.insert_typed(con, entity, source)
            return self.count(entity.name, con) - before

    def load_world(self, world_dir: Path) -> dict[str, int]:
        """Load ``world_dir/scm/<EntitySet>.parquet`` and the world's CLM tables."""
        loaded: dict[str, int] = {}
        for entity in catalog.ENTITIES:
            path = world_dir / "scm" / f"{entity.name}.parquet"
            if path.is_file():
                loaded[entity.name] = self.load_parquet(entity.name, path)
        # The world part owns the CLM tables (imported late: it builds on this module).
        clm_store = importlib.import_module("emulator.world.clm_store")
        with self.transaction() as con:
            clm_store.load(con, world_dir)
        return loaded

    # --- helpers -----------------------------------------------------------------------------

    def count(self, entity_name: str, con: duckdb.DuckDBPyConnection | None = None) -> int:
        entity = catalog.entity(entity_name)
        cursor = con or self.reader()
        row = cursor.execute(f"SELECT count(*) FROM {sql.table(entity)}").fetchall()
        return int(row[0][0])

    def close(self) -> None:
        self._db.close()
