"""Deletes: key snapshots turned into tombstones, and revivals.

Change-tracked exports never carry deletes. A key snapshot (every key SCM holds now for one entity
and legal entity, from an OData ``$select`` of the keys or a keys-only export) is compared with the
current relation: a current key missing from the snapshot becomes a tombstone in ``ops.tombstones``
recording the run that noticed it, and leaves the current relation. A tombstoned key that shows up
again (in a later snapshot, or as a row extracted after the tombstone was noticed) is revived: the
tombstone keeps its history and the key's latest row is current again.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import pyarrow as pa

from connectors.errors import LandingError
from warehouse import current, state
from warehouse.db import count, quote_ident, quote_literal, quoted_list, transaction
from warehouse.landing import Batches, as_reader
from warehouse.relations import SourceTable


@dataclass(frozen=True)
class SnapshotResult:
    relation: str
    legal_entity: str | None
    keys_seen: int
    tombstoned: int
    revived: int


def apply_key_snapshot(
    con: duckdb.DuckDBPyConnection,
    table: SourceTable,
    keys: Batches,
    *,
    run_id: str,
    legal_entity: str | None = None,
    taken_at: datetime | None = None,
    allow_empty: bool = False,
) -> SnapshotResult:
    """Compare a full key snapshot with the current relation, in one transaction.

    ``keys``: Arrow batches with the table's key columns (names case-insensitive; for a
    company-specific entity the company column may be left out when ``legal_entity`` is given).
    The snapshot covers ``legal_entity`` only (or everything for shared entities). Landings not
    applied yet are applied first, so the comparison sees every landed row. An empty snapshot of
    a non-empty relation is refused unless ``allow_empty`` (a wrong filter or a missing role
    would otherwise tombstone everything).
    """
    t = table
    le = legal_entity.lower() if legal_entity else None
    when = taken_at or state.utcnow()
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when
    reader = as_reader(keys, t.keys)
    stream = f"_clmsync_keys_{secrets.token_hex(4)}"
    snap = f"_clmsync_snapshot_{secrets.token_hex(4)}"
    with current.relation_lock(t), transaction(con):
        current.apply_pending(con, t, run_id=run_id)
        con.register(stream, reader)
        try:
            con.execute(
                f"CREATE TEMP TABLE {snap} AS SELECT DISTINCT "
                f"{_key_columns(t, reader.schema, le, stream)} FROM {stream}"
            )
        finally:
            con.unregister(stream)
        try:
            return _compare(con, t, snap, le, when, run_id, allow_empty)
        finally:
            con.execute(f"DROP TABLE IF EXISTS {snap}")


def count_rules_out_deletes(
    con: duckdb.DuckDBPyConnection, table: SourceTable, legal_entity: str | None, counted: int
) -> bool:
    """Whether ``counted``, the number of records SCM held in ``legal_entity`` before this run's
    export began, shows that none of the current rows was deleted, so the key read can be spared.

    Every record SCM held then has landed since (change tracking brings every insert, and a
    lost export is redone in full), so the current relation holds those records plus any added
    after the count plus any deleted without a tombstone yet. Holding exactly ``counted`` rows,
    it holds no deleted one. That reasoning fails for a record whose row was quarantined and
    never landed (one missing record would hide one deleted), so any quarantined row of the
    entity in that legal entity rules the count out, and the keys are read.
    """
    t = table
    le = legal_entity.lower() if legal_entity else None
    quarantined = count(
        con,
        "SELECT count(*) FROM ops.quarantine WHERE source = ? AND entity = ? "
        "AND coalesce(lower(legal_entity), '') = ?",
        [t.source, t.name, le or ""],
    )
    if quarantined:
        return False
    with current.relation_lock(t), transaction(con):
        current.apply_pending(con, t)  # every landed row counts
        held = count(con, f"SELECT count(*) FROM {t.current} c WHERE {_scope(t, 'c', le)}")
    return held == counted


def _key_columns(t: SourceTable, schema: pa.Schema, le: str | None, stream: str) -> str:
    by_lower = {n.lower(): n for n in schema.names}
    parts = []
    for key in t.keys:
        name = by_lower.get(key.lower())
        if name is not None:
            expr = t.key_expr(key, f"CAST({quote_ident(name)} AS VARCHAR)")
        elif key == t.company_field and le is not None:
            expr = quote_literal(le)
        else:
            raise LandingError(t.relation_name, "key snapshot", f"no {key} column in the snapshot")
        parts.append(f"{expr} AS {quote_ident(key)}")
    return ", ".join(parts)


def _scope(t: SourceTable, alias: str, le: str | None) -> str:
    """Rows of the legal entity the snapshot covers."""
    if t.company_field is None or le is None:
        return "true"
    return f"lower({alias}.{quote_ident(t.company_field)}) = {quote_literal(le)}"


def _compare(
    con: duckdb.DuckDBPyConnection,
    t: SourceTable,
    snap: str,
    le: str | None,
    when: datetime,
    run_id: str,
    allow_empty: bool,
) -> SnapshotResult:
    seen = count(con, f"SELECT count(*) FROM {snap}")
    if t.company_field is not None and le is not None:
        other = con.execute(
            f"SELECT {quote_ident(t.company_field)} FROM {snap} s WHERE NOT {_scope(t, 's', le)} "
            "LIMIT 1"
        ).fetchall()
        if other:
            raise LandingError(
                t.relation_name, "key snapshot", f"snapshot of {le} holds keys of {other[0][0]}"
            )
    held = count(con, f"SELECT count(*) FROM {t.current} c WHERE {_scope(t, 'c', le)}")
    if seen == 0 and held and not allow_empty:
        raise LandingError(
            t.relation_name,
            "key snapshot",
            f"the snapshot is empty but {held} records are current; refusing to tombstone them all",
        )
    gone = f"_clmsync_gone_{secrets.token_hex(4)}"
    con.execute(
        # A row extracted after the snapshot was taken is newer news than the snapshot.
        f"CREATE TEMP TABLE {gone} AS SELECT {quoted_list(t.keys, 'c')} FROM {t.current} c "
        f"WHERE {_scope(t, 'c', le)} AND c._extracted_at <= ? AND NOT EXISTS "
        f"(SELECT 1 FROM {snap} s WHERE {t.key_match('s', 'c')})",
        [when],
    )
    try:
        tombstoned = count(
            con,
            "INSERT INTO ops.tombstones (source, entity, relation, legal_entity, key_values, "
            "record_key, noticed_run_id, noticed_at) "
            f"SELECT ?, ?, ?, ?, {t.key_list('g')}, {t.record_key('g')}, ?, ? FROM {gone} g",
            [t.source, t.name, t.relation_name, le, run_id, when],
        )
        con.execute(f"DELETE FROM {t.current} c USING {gone} g WHERE {t.key_match('c', 'g')}")
    finally:
        con.execute(f"DROP TABLE IF EXISTS {gone}")
    revived = _revive(con, t, snap, when, run_id)
    return SnapshotResult(t.relation_name, le, seen, tombstoned, revived)


def _revive(
    con: duckdb.DuckDBPyConnection, t: SourceTable, snap: str, when: datetime, run_id: str
) -> int:
    """Active tombstones whose key is in the snapshot end; each key's latest row returns."""
    back = f"_clmsync_back_{secrets.token_hex(4)}"
    con.execute(
        f"CREATE TEMP TABLE {back} AS SELECT DISTINCT {quoted_list(t.keys, 's')} FROM {snap} s "
        "JOIN ops.tombstones tb ON tb.relation = ? AND tb.revived_at IS NULL "
        f"AND tb.key_values = {t.key_list('s')}",
        [t.relation_name],
    )
    try:
        revived = count(
            con,
            "UPDATE ops.tombstones tb SET revived_at = ?, revived_run_id = ?, "
            f"revived_by = 'snapshot' FROM {back} b WHERE tb.relation = ? "
            f"AND tb.revived_at IS NULL AND tb.key_values = {t.key_list('b')}",
            [when, run_id, t.relation_name],
        )
        if revived:
            match = " AND ".join(
                f"b.{quote_ident(k)} = {t.key_expr(k, 'r.' + quote_ident(k))}" for k in t.keys
            )
            restore = current.select_latest(t, f"EXISTS (SELECT 1 FROM {back} b WHERE {match})")
            con.execute(
                f"INSERT INTO {t.current} ({quoted_list(t.columns)}) SELECT n.* FROM "
                f"({restore}) n ANTI JOIN {t.current} c ON {t.key_match('c', 'n')}"
            )
    finally:
        con.execute(f"DROP TABLE IF EXISTS {back}")
    return revived


def active_tombstones(
    con: duckdb.DuckDBPyConnection, table: SourceTable, legal_entity: str | None = None
) -> list[tuple[str, str | None, datetime]]:
    """(record key, legal entity, noticed at) of the keys currently tombstoned."""
    sql = (
        "SELECT record_key, legal_entity, noticed_at FROM ops.tombstones "
        "WHERE relation = ? AND revived_at IS NULL"
    )
    params: list[object] = [table.relation_name]
    if legal_entity:
        sql += " AND legal_entity = ?"
        params.append(legal_entity.lower())
    return [(str(r[0]), r[1], r[2]) for r in con.execute(sql + " ORDER BY 1", params).fetchall()]
