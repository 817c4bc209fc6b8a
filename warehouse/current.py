"""Current state: ``current_scm.<table>`` / ``current_clm.<table>``, one row per key.

The current row of a key is its latest landed row, ordered by (``_extracted_at``, ``_load_id``,
``_row_number``), unless an active tombstone noticed after that row was extracted says the record
is gone. Numeric key fields hold their canonical text (``1``, not ``1.000000``) so one record is one
row whichever source spelled its key.

:func:`refresh_current` applies only the landings not yet applied (``ops.landed_files`` rows with
no ``current_refreshed_at``): it reads those rows by ``_load_id`` (zone maps skip the rest of the
raw table), keeps the latest per key, and replaces older current rows with a delete + insert on
those keys, so its cost follows the rows that changed rather than the size of the table.
:func:`rebuild_current` recomputes everything from raw; both give the same table.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb

from warehouse import relations, state
from warehouse.db import count, quote_ident, quoted_list, transaction
from warehouse.relations import SourceTable


@dataclass(frozen=True)
class RefreshResult:
    """What a refresh did: ``changed`` distinct keys among the new rows, ``applied`` of them
    written to the current table, ``stale`` older than what it held or than a tombstone,
    ``revived`` tombstones a newer row brought back."""

    relation: str
    loads: int
    changed: int
    applied: int
    stale: int
    revived: int


_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


@contextmanager
def relation_lock(table: SourceTable) -> Iterator[None]:
    """Serialise changes to one current relation between threads of this process.

    Extracts land concurrently (each thread on its own cursor); two refreshes of one relation at
    once would both take the same landings and one would fail on a write conflict, so they wait
    for each other instead. Different relations still refresh in parallel.
    """
    with _LOCKS_GUARD:
        lock = _LOCKS.setdefault(table.relation_name, threading.Lock())
    with lock:
        yield


def select_latest(t: SourceTable, where: str, *, unique: bool = False) -> str:
    """The latest raw row per comparable key among the raw rows matching ``where``.

    ``unique``: the caller knows those rows hold each key once, so no window is needed (it is
    half the cost of a first full load).
    """
    keys = set(t.keys)
    cols = [
        f"{t.key_expr(c)} AS {quote_ident(c)}" if c in keys else quote_ident(c) for c in t.columns
    ]
    sql = f"SELECT {', '.join(cols)} FROM {t.raw} r WHERE {where}"
    if unique:
        return sql
    part = ", ".join(t.key_expr(k) for k in t.keys)
    return (
        f"{sql} QUALIFY row_number() OVER (PARTITION BY {part} "
        "ORDER BY _extracted_at DESC, _load_id DESC, _row_number DESC) = 1"
    )


def _newer(a: str, b: str) -> str:
    """Row ``a`` comes after row ``b`` in landing order."""
    return (
        f"({a}._extracted_at > {b}._extracted_at OR ({a}._extracted_at = {b}._extracted_at AND "
        f"({a}._load_id > {b}._load_id OR ({a}._load_id = {b}._load_id AND "
        f"{a}._row_number > {b}._row_number))))"
    )


def _active_tombstone(t: SourceTable, alias: str) -> str:
    """An active tombstone noticed at or after row ``alias`` was extracted hides that row."""
    return (
        "EXISTS (SELECT 1 FROM ops.tombstones tb WHERE tb.relation = "
        f"'{t.relation_name}' AND tb.revived_at IS NULL AND tb.key_values = {t.key_list(alias)} "
        f"AND tb.noticed_at >= {alias}._extracted_at)"
    )


def refresh_current(
    con: duckdb.DuckDBPyConnection, table: SourceTable, *, run_id: str | None = None
) -> RefreshResult:
    """Apply the landings of ``table`` not applied yet, in one transaction."""
    with relation_lock(table), transaction(con):
        return apply_pending(con, table, run_id=run_id)


def apply_pending(
    con: duckdb.DuckDBPyConnection, table: SourceTable, *, run_id: str | None = None
) -> RefreshResult:
    """:func:`refresh_current` inside the caller's transaction (holding :func:`relation_lock`)."""
    t = table
    loads = [
        int(r[0])
        for r in con.execute(
            "SELECT load_id FROM ops.landed_files WHERE relation = ? "
            "AND current_refreshed_at IS NULL ORDER BY load_id",
            [t.relation_name],
        ).fetchall()
    ]
    if not loads:
        return RefreshResult(t.relation_name, 0, 0, 0, 0, 0)
    ids = ", ".join(str(i) for i in loads)
    # The range lets zone maps skip old row groups; the list drops loads applied already.
    where = f"_load_id BETWEEN {loads[0]} AND {loads[-1]} AND _load_id IN ({ids})"
    keys = ", ".join(t.key_expr(k) for k in t.keys)
    repeated = count(con, f"SELECT count(*) - count(DISTINCT ({keys})) FROM {t.raw} WHERE {where}")
    chg = f"_clmsync_changed_{secrets.token_hex(4)}"
    con.execute(f"CREATE TEMP TABLE {chg} AS {select_latest(t, where, unique=not repeated)}")
    try:
        changed = count(con, f"SELECT count(*) FROM {chg}")
        # Rows a tombstone noticed after their extraction hides; they change nothing.
        con.execute(f"DELETE FROM {chg} n WHERE {_active_tombstone(t, 'n')}")
        revived = count(
            con,
            f"UPDATE ops.tombstones tb SET revived_at = n._extracted_at, revived_run_id = ?, "
            f"revived_by = 'row' FROM {chg} n WHERE tb.relation = '{t.relation_name}' "
            f"AND tb.revived_at IS NULL AND tb.key_values = {t.key_list('n')}",
            [run_id],
        )
        con.execute(
            f"DELETE FROM {t.current} c USING {chg} n WHERE {t.key_match('c', 'n')} "
            f"AND {_newer('n', 'c')}"
        )
        applied = count(
            con,
            f"INSERT INTO {t.current} ({quoted_list(t.columns)}) "
            f"SELECT {quoted_list(t.columns, 'n')} FROM {chg} n ANTI JOIN {t.current} c "
            f"ON {t.key_match('c', 'n')}",
        )
    finally:
        con.execute(f"DROP TABLE IF EXISTS {chg}")
    con.execute(
        f"UPDATE ops.landed_files SET current_refreshed_at = ? WHERE load_id IN ({ids})",
        [state.utcnow()],
    )
    return RefreshResult(t.relation_name, len(loads), changed, applied, changed - applied, revived)


def rebuild_current(con: duckdb.DuckDBPyConnection, table: SourceTable) -> int:
    """Recompute ``table``'s current relation from all of raw (recovery; the reference the
    incremental refresh is tested against). Returns its row count."""
    t = table
    with relation_lock(t), transaction(con):
        con.execute(f"DELETE FROM {t.current}")
        rows = count(
            con,
            f"INSERT INTO {t.current} ({quoted_list(t.columns)}) "
            f"SELECT * FROM ({select_latest(t, 'true')}) n "
            f"WHERE NOT {_active_tombstone(t, 'n')}",
        )
        con.execute(
            "UPDATE ops.landed_files SET current_refreshed_at = ? WHERE relation = ?",
            [state.utcnow(), t.relation_name],
        )
    return rows


def refresh_all(
    con: duckdb.DuckDBPyConnection, *, run_id: str | None = None
) -> list[RefreshResult]:
    """Refresh every source relation that has landings not applied yet."""
    pending = {
        str(r[0])
        for r in con.execute(
            "SELECT DISTINCT relation FROM ops.landed_files WHERE current_refreshed_at IS NULL"
        ).fetchall()
    }
    return [
        refresh_current(con, t, run_id=run_id)
        for t in relations.all_source_tables()
        if t.relation_name in pending
    ]
