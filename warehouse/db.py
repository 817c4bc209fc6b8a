"""The warehouse connection: one writer per run, schemas and operational tables on first use.

DuckDB lets one process hold a database file for writing and no other process open it at all
while it does. :func:`connect` turns that lock conflict into :class:`WarehouseBusy` naming the file
and the process holding it, so a second scheduled run fails fast with a clear message instead of a
DuckDB I/O error. Everything else in ``warehouse/`` takes the connection this returns (or a
``con.cursor()`` of it, one per thread).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

import duckdb
import pyarrow as pa

from connectors.errors import WarehouseBusy

SCHEMAS: tuple[str, ...] = (
    "raw_scm",
    "raw_clm",
    "current_scm",
    "current_clm",
    "ops",
    "seeds",
    "staging",
    "intermediate",
    "marts",
    "reports",
    "deltas",
)

# The operational tables the warehouse layer owns. ``ops.push_plan`` and ``ops.push_ledger`` belong
# to the loader, which creates them itself.
_OPS_DDL = """
CREATE SEQUENCE IF NOT EXISTS ops.step_id_seq;
CREATE SEQUENCE IF NOT EXISTS ops.load_id_seq;
CREATE TABLE IF NOT EXISTS ops.runs (
    step_id BIGINT PRIMARY KEY DEFAULT nextval('ops.step_id_seq'),
    run_id VARCHAR NOT NULL,
    step VARCHAR NOT NULL,
    entity VARCHAR,
    legal_entity VARCHAR,
    status VARCHAR NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    ended_at TIMESTAMPTZ,
    rows BIGINT,
    detail JSON,
    error VARCHAR
);
CREATE TABLE IF NOT EXISTS ops.extract_state (
    source VARCHAR NOT NULL,
    entity VARCHAR NOT NULL,
    legal_entity VARCHAR NOT NULL,
    last_execution_id VARCHAR,
    change_version VARCHAR,
    cursor VARCHAR,
    pending_execution_id VARCHAR,
    pending_at TIMESTAMPTZ,
    pending_run_id VARCHAR,
    rows_landed BIGINT,
    rows_total BIGINT NOT NULL DEFAULT 0,
    last_run_id VARCHAR,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (source, entity, legal_entity)
);
CREATE TABLE IF NOT EXISTS ops.landed_files (
    load_id BIGINT PRIMARY KEY,
    source VARCHAR NOT NULL,
    entity VARCHAR NOT NULL,
    relation VARCHAR NOT NULL,
    legal_entity VARCHAR NOT NULL,
    batch_id VARCHAR NOT NULL,
    source_file VARCHAR NOT NULL,
    run_id VARCHAR NOT NULL,
    extracted_at TIMESTAMPTZ NOT NULL,
    rows_in BIGINT NOT NULL,
    landed BIGINT NOT NULL,
    quarantined BIGINT NOT NULL,
    rejected_by_reader BIGINT NOT NULL,
    landed_at TIMESTAMPTZ NOT NULL,
    current_refreshed_at TIMESTAMPTZ,
    UNIQUE (relation, legal_entity, batch_id, source_file)
);
CREATE TABLE IF NOT EXISTS ops.quarantine (
    run_id VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    entity VARCHAR NOT NULL,
    legal_entity VARCHAR,
    batch_id VARCHAR,
    source_file VARCHAR NOT NULL,
    row_number BIGINT,
    reason VARCHAR NOT NULL,
    raw_text VARCHAR,
    quarantined_at TIMESTAMPTZ NOT NULL,
    load_id BIGINT
);
CREATE TABLE IF NOT EXISTS ops.tombstones (
    source VARCHAR NOT NULL,
    entity VARCHAR NOT NULL,
    relation VARCHAR NOT NULL,
    legal_entity VARCHAR,
    key_values VARCHAR[] NOT NULL,
    record_key VARCHAR NOT NULL,
    noticed_run_id VARCHAR NOT NULL,
    noticed_at TIMESTAMPTZ NOT NULL,
    revived_run_id VARCHAR,
    revived_at TIMESTAMPTZ,
    revived_by VARCHAR
);
CREATE TABLE IF NOT EXISTS ops.model_runs (
    run_id VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    relation VARCHAR NOT NULL,
    materialized VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    rows BIGINT,
    seconds DOUBLE,
    error VARCHAR,
    started_at TIMESTAMPTZ NOT NULL,
    ended_at TIMESTAMPTZ
);
CREATE TABLE IF NOT EXISTS ops.test_results (
    run_id VARCHAR NOT NULL,
    test_name VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    column_name VARCHAR,
    kind VARCHAR NOT NULL,
    severity VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    failures BIGINT,
    sample JSON,
    error VARCHAR,
    sql VARCHAR NOT NULL,
    seconds DOUBLE,
    tested_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS ops.model_state (
    relation VARCHAR PRIMARY KEY,
    fingerprint VARCHAR NOT NULL,
    built_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS ops.model_changes (
    relation VARCHAR PRIMARY KEY,
    build_seq BIGINT NOT NULL,
    is_full BOOLEAN NOT NULL,
    built_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS ops.model_feed_reads (
    reader VARCHAR NOT NULL,
    producer VARCHAR NOT NULL,
    build_seq BIGINT NOT NULL,
    read_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (reader, producer)
);
CREATE TABLE IF NOT EXISTS ops.seed_state (
    seed VARCHAR PRIMARY KEY,
    relation VARCHAR NOT NULL,
    checksum VARCHAR NOT NULL,
    rows BIGINT NOT NULL,
    loaded_at TIMESTAMPTZ NOT NULL
);
"""

_LOCK_PID = re.compile(r"\(PID (\d+)\)")


def quote_ident(name: str) -> str:
    """``name`` as a DuckDB identifier, always quoted (catalog names such as ``dataAreaId``
    keep their spelling and nothing user-supplied can break out of the quotes)."""
    return '"' + name.replace('"', '""') + '"'


def qualified(schema: str, name: str) -> str:
    """``schema.name``, both parts quoted."""
    return f"{quote_ident(schema)}.{quote_ident(name)}"


def quoted_list(names: Iterable[str], alias: str | None = None) -> str:
    """``"a", "b"`` (or ``t."a", t."b"`` with an alias), for column lists."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + quote_ident(n) for n in names)


def quote_literal(value: str) -> str:
    """``value`` as a SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def connect(
    path: Path | str,
    *,
    read_only: bool = False,
    memory_limit: str | None = None,
    threads: int | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse; as a writer, create the schemas, the ``ops`` tables and every catalog
    source relation (``raw_*``, ``current_*``) on first use, so models bind before a first
    extract and concurrent landings never race to create a table.

    ``path`` may be ``":memory:"`` (tests). Raises :class:`WarehouseBusy` when another process
    holds the file. Give each thread its own ``con.cursor()``; DuckDB connections are not shared
    between threads.
    """
    config: dict[str, str | bool | int | float | list[str]] = {}
    if memory_limit:
        config["memory_limit"] = memory_limit
    if threads:
        config["threads"] = threads
    target = str(path)
    if target != ":memory:" and not read_only:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(target, read_only=read_only, config=config)
    except duckdb.IOException as exc:
        text = str(exc)
        if "lock" not in text.lower():
            raise
        pid = _LOCK_PID.search(text)
        holder = f" (process {pid.group(1)})" if pid else ""
        raise WarehouseBusy(
            f"warehouse {target} is in use by another process{holder}",
            hint="Only one run may write the warehouse at a time; wait for the other to finish.",
        ) from None
    # Timestamps are stored and compared in UTC whatever the machine's zone is.
    con.execute("SET TimeZone = 'UTC'")
    if not read_only:
        ensure_schemas(con)
        # Imported here: relations builds on this module's quoting helpers.
        from warehouse import relations

        relations.ensure_all(con)
    return con


def ensure_schemas(con: duckdb.DuckDBPyConnection) -> None:
    """Create the warehouse schemas and the operational tables if they do not exist."""
    with transaction(con):
        for schema in SCHEMAS:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}")
        con.execute(_OPS_DDL)


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Run the block in one transaction: commit when it ends, roll back when it raises.

    DuckDB has no savepoints, so transactions do not nest: opening one inside another raises
    DuckDB's ``TransactionException``.
    """
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    try:
        con.execute("COMMIT")
    except duckdb.Error:
        # A failed commit (a write conflict) leaves the transaction aborted; end it cleanly.
        with suppress(duckdb.Error):
            con.execute("ROLLBACK")
        raise


def count(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object] | None = None) -> int:
    """The integer ``sql`` returns: a ``count(*)``, the rows an INSERT, UPDATE, DELETE or
    CREATE TABLE AS wrote, a sequence value."""
    rows = con.execute(sql, list(params or [])).fetchall()
    return int(rows[0][0]) if rows and rows[0][0] is not None else 0


def relation_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> str | None:
    """``"table"`` or ``"view"`` when ``schema.name`` exists, else None (case-insensitive)."""
    rows = con.execute(
        """
        SELECT 'table' FROM duckdb_tables()
        WHERE lower(schema_name) = lower(?) AND lower(table_name) = lower(?) AND NOT temporary
        UNION ALL
        SELECT 'view' FROM duckdb_views()
        WHERE lower(schema_name) = lower(?) AND lower(view_name) = lower(?) AND NOT temporary
        """,
        [schema, name, schema, name],
    ).fetchall()
    return str(rows[0][0]) if rows else None


def relation_kinds(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Every user table and view: lowercase ``schema.name`` → ``"table"`` or ``"view"``."""
    rows = con.execute(
        """
        SELECT schema_name, table_name, 'table' FROM duckdb_tables()
        WHERE NOT temporary AND NOT internal
        UNION ALL
        SELECT schema_name, view_name, 'view' FROM duckdb_views()
        WHERE NOT temporary AND NOT internal
        """
    ).fetchall()
    return {f"{schema}.{name}".lower(): str(kind) for schema, name, kind in rows}


def existing_relations(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Every user table and view as lowercase ``schema.name``."""
    return set(relation_kinds(con))


def append_rows(
    con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[Mapping[str, object]]
) -> None:
    """Insert ``rows`` (dicts keyed by column name) into ``table`` in one statement, through
    Arrow: one ``INSERT ... VALUES`` per row costs a few milliseconds each."""
    if not rows:
        return
    view = "_clmsync_append_rows"
    con.register(view, pa.Table.from_pylist(list(rows)))
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {view}")
    finally:
        con.unregister(view)
