"""The ``delete_insert`` strategy of incremental models: the changed keys are replaced.

A model built this way (``-- clmsync: materialized=incremental strategy=delete_insert
unique_key=...``) works out itself which of its keys changed since its last build, usually by
reading its own table (the state it was built from): the raw rows it was built from
(``_load_id``, ``_row_number``: a landed row is never changed, only replaced or deleted) and
``_load_id`` watermarks of its inputs.
Its select returns one row per changed key with a boolean ``_deleted`` column: the table's row of
every key the select returns is deleted, and the rows with ``_deleted`` false are inserted in its
place. Keys the select does not return keep their rows.

What such a model cannot see is rebuilt in full instead: its first build, ``--full-refresh``,
and any change of its *fingerprint* since the build that wrote the table, which covers

- its SQL and that of every model upstream of it (a changed rule changes rows no watermark
  shows), and the columns its YAML declares;
- the checksum of every seed it or an upstream model reads;
- the revived tombstones of the source relations it reads through views: a revived row comes
  back with the ``_load_id`` it had, below any watermark.

The fingerprint of the last successful build is kept in ``ops.model_state``.

**Changes.** A ``delete_insert`` model may read ``changes.<name>``: the rows the last build of
another incremental model (the producer) replaced, as its select returned them (every column;
with ``_deleted`` when the producer is ``delete_insert``: a merge model never deletes). It then
redoes only what those rows touch, instead of reading the producer's whole table. The runner
keeps these rows, and makes sure a reader never misses any:

- the producer's build writes ``changes.<name>`` in its transaction and counts its builds in
  ``ops.model_changes`` (a build from nothing keeps no rows: ``is_full``; so does a build
  while no model reads them, from a project without the reader);
- the reader's build records which build of each producer it read (``ops.model_feed_reads``);
- a reader is rebuilt in full unless each producer was built exactly once since it last read
  it, and not from nothing: a producer built twice, or in full, or not at all (the reader
  selected alone) has no complete set of changes to give.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import duckdb

from connectors.errors import ModelError
from warehouse import relations
from warehouse.db import count, qualified, quote_ident
from warehouse.runner.graph import Graph
from warehouse.runner.project import CHANGES_SCHEMA, Model

DELETED = "_deleted"
# Bumped when the way a fingerprint is made (or what a build writes) changes.
_VERSION = 1


def fingerprint(con: duckdb.DuckDBPyConnection, graph: Graph, model: Model) -> str:
    """What a ``delete_insert`` model's rows depend on besides its inputs' rows (see above)."""
    upstream = sorted(graph.ancestors(model.relation))
    refs = set(model.refs)
    for rel in upstream:
        refs |= graph.models[rel].refs
    seeds = sorted(r.split(".", 1)[1] for r in refs if r.startswith("seeds."))
    checksums = dict(
        con.execute(
            "SELECT seed, checksum FROM ops.seed_state WHERE seed IN (SELECT unnest(?))", [seeds]
        ).fetchall()
    )
    sources = sorted(_sources_through_views(graph, model))
    revived = con.execute(
        "SELECT count(*) FROM ops.tombstones WHERE revived_at IS NOT NULL "
        "AND relation IN (SELECT unnest(?))",
        [sources],
    ).fetchall()[0][0]
    text = json.dumps(
        {
            "version": _VERSION,
            "sql": model.sql,
            "columns": [(c.name, c.data_type) for c in model.columns],
            "upstream": {rel: graph.models[rel].sql for rel in upstream},
            "seeds": {s: checksums.get(s) for s in seeds},
            "revived": {"sources": sources, "count": int(revived)},
        },
        sort_keys=True,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _sources_through_views(graph: Graph, model: Model) -> set[str]:
    """The raw relation names (as ``ops.tombstones`` names them) of the current tables the
    model reads directly or through views."""
    by_current = {
        f"{t.current_schema}.{t.table}".lower(): t.relation_name
        for t in relations.all_source_tables()
    }
    found: set[str] = set()
    stack = [model]
    seen: set[str] = set()
    while stack:
        m = stack.pop()
        for ref in m.refs:
            if ref in by_current:
                found.add(by_current[ref])
            parent = graph.models.get(ref)
            if parent is not None and parent.materialized == "view" and ref not in seen:
                seen.add(ref)
                stack.append(parent)
    return found


def recorded_fingerprint(con: duckdb.DuckDBPyConnection, model: Model) -> str | None:
    rows = con.execute(
        "SELECT fingerprint FROM ops.model_state WHERE relation = ?", [model.relation]
    ).fetchall()
    return str(rows[0][0]) if rows else None


def build(
    con: duckdb.DuckDBPyConnection,
    model: Model,
    body: str,
    existing: str | None,
    *,
    full: bool,
    fingerprint: str | None,
    feeds: Sequence[Model] = (),
    keep_changes: bool = False,
) -> int:
    """Build a ``delete_insert`` model inside the caller's transaction; the rows it inserted.

    ``full``: rebuild the table from nothing (``--full-refresh``); a missing table, a
    fingerprint other than the recorded one, or changes of a producer in ``feeds`` it cannot
    trust (see above) mean the same. ``keep_changes``: keep the replaced rows in
    ``changes.<name>`` for the models that read them."""
    target = qualified(model.layer, model.name)
    if feeds:
        _ensure_changes_tables(con, feeds)
    stale = (
        fingerprint is None
        or recorded_fingerprint(con, model) != fingerprint
        or not _feeds_complete(con, model, feeds)
    )
    if existing is not None and (full or existing != "table" or stale):
        con.execute(f"DROP {existing.upper()} {target}")
        existing = None
    if existing is None:
        rows = _full(con, model, body, target)
    else:
        rows = _replace(con, model, body, target, keep_changes=keep_changes)
    if fingerprint is not None:
        con.execute(
            "INSERT OR REPLACE INTO ops.model_state (relation, fingerprint, built_at) "
            "VALUES (?, ?, now())",
            [model.relation, fingerprint],
        )
    count_build(con, model, kept=keep_changes, full=existing is None)
    if feeds:
        con.execute(
            "INSERT OR REPLACE INTO ops.model_feed_reads (reader, producer, build_seq, read_at) "
            "SELECT ?, relation, build_seq, now() FROM ops.model_changes "
            "WHERE relation IN (SELECT unnest(?))",
            [model.relation, [p.relation for p in feeds]],
        )
    return rows


def changes_table(con: duckdb.DuckDBPyConnection, model: Model) -> str:
    """Where the rows the last build of ``model`` replaced are kept (its schema created)."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(CHANGES_SCHEMA)}")
    return qualified(CHANGES_SCHEMA, model.name)


@contextmanager
def staged(
    con: duckdb.DuckDBPyConnection, model: Model, body: str, *, keep_changes: bool
) -> Iterator[str]:
    """The select's rows staged in a table, for an incremental build to apply: a temp table
    dropped afterwards, or with ``keep_changes`` ``changes.<name>``, kept as this build's
    changes for the models that read them."""
    if keep_changes:
        table = changes_table(con, model)
        con.execute(f"CREATE OR REPLACE TABLE {table} AS (\n{body})")
        yield table
        return
    table = f"_clmsync_staged_{secrets.token_hex(4)}"
    con.execute(f"CREATE TEMP TABLE {table} AS (\n{body})")
    try:
        yield table
    finally:
        con.execute(f"DROP TABLE IF EXISTS {table}")


def count_build(con: duckdb.DuckDBPyConnection, model: Model, *, kept: bool, full: bool) -> None:
    """Count a build of an incremental model in ``ops.model_changes``. ``kept``: its changes
    were kept (in ``changes.<name>``, staged there by the build); ``full``: it was built from
    nothing, so it has none to give (an empty table keeps the readers binding)."""
    if kept:
        if full:
            con.execute(
                f"CREATE OR REPLACE TABLE {changes_table(con, model)} AS {_empty_changes(model)}"
            )
        con.execute(
            "INSERT OR REPLACE INTO ops.model_changes (relation, build_seq, is_full, built_at) "
            "SELECT ?, coalesce(max(build_seq), 0) + 1, ?, now() FROM ops.model_changes "
            "WHERE relation = ?",
            [model.relation, full, model.relation],
        )
        return
    # A build that keeps no changes (no model of this project reads them) still counts: a
    # reader that comes back must not trust changes that miss this build's.
    counted = con.execute(
        "UPDATE ops.model_changes SET build_seq = build_seq + 1, is_full = true, "
        "built_at = now() WHERE relation = ? RETURNING relation",
        [model.relation],
    ).fetchall()
    if counted:
        # gone rather than stale: recreated with the model's columns when a reader needs it
        con.execute(f"DROP TABLE IF EXISTS {qualified(CHANGES_SCHEMA, model.name)}")


def _empty_changes(model: Model) -> str:
    """A select of no rows shaped like the model's changes: its table's columns, and
    ``_deleted`` for a ``delete_insert`` model (a merge model's changes have none: it never
    deletes)."""
    deleted = f", false AS {DELETED}" if model.strategy == "delete_insert" else ""
    return f"SELECT *{deleted} FROM {qualified(model.layer, model.name)} LIMIT 0"


def _ensure_changes_tables(con: duckdb.DuckDBPyConnection, feeds: Sequence[Model]) -> None:
    """Create (empty) the changes tables a reader needs and no build wrote yet, so that it
    binds; with no build of the producer on record, the reader is rebuilt in full."""
    for producer in feeds:
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {changes_table(con, producer)} AS "
            f"{_empty_changes(producer)}"
        )


def _feeds_complete(con: duckdb.DuckDBPyConnection, model: Model, feeds: Sequence[Model]) -> bool:
    """Whether every producer in ``feeds`` was built exactly once since ``model`` last read
    its changes, and not from nothing."""
    if not feeds:
        return True
    complete = con.execute(
        "SELECT count(*) FROM ops.model_changes c JOIN ops.model_feed_reads r "
        "ON r.producer = c.relation AND r.reader = ? "
        "WHERE c.relation IN (SELECT unnest(?)) AND NOT c.is_full "
        "AND c.build_seq = r.build_seq + 1",
        [model.relation, [p.relation for p in feeds]],
    ).fetchall()[0][0]
    return int(complete) == len(feeds)


def _full(con: duckdb.DuckDBPyConnection, model: Model, body: str, target: str) -> int:
    """Build the table from nothing: the select's rows go straight in, written once."""
    if model.reads_itself:
        # The select reads the table: it must exist (empty) before the select can run.
        cols = ", ".join(f"{quote_ident(c.name)} {c.data_type}" for c in model.columns)
        con.execute(f"CREATE TABLE {target} ({cols})")
        rows = count(con, f"INSERT INTO {target} BY NAME {_kept(con, model, f'({body})')}")
    else:
        rows = count(con, f"CREATE TABLE {target} AS {_kept(con, model, f'({body})')}")
    refuse_duplicate_keys(con, model, target, key_columns(model, _describe(con, target)))
    return rows


def _replace(
    con: duckdb.DuckDBPyConnection, model: Model, body: str, target: str, *, keep_changes: bool
) -> int:
    """Delete the rows of every key the select returns, insert the rows not marked deleted."""
    with staged(con, model, body, keep_changes=keep_changes) as rows:
        keys = key_columns(model, _describe(con, rows))
        refuse_duplicate_keys(con, model, rows, keys)
        return replace_keys(con, target, rows, keys, _kept(con, model, rows))


def replace_keys(
    con: duckdb.DuckDBPyConnection, target: str, staged: str, keys: Sequence[str], rows: str
) -> int:
    """Delete the rows of ``target`` whose key (``keys``) the table ``staged`` holds, then insert
    ``rows`` (a select) by name; the rows inserted.

    A delete and an insert, not ``MERGE ... UPDATE``: DuckDB keeps a deleted row as a mark and
    appends the new one, while an update of a few rows scattered over a big table makes the next
    checkpoint rewrite every column of every row group they touch."""
    on = " AND ".join(f"t.{quote_ident(k)} = s.{quote_ident(k)}" for k in keys)
    con.execute(f"DELETE FROM {target} t USING {staged} s WHERE {on}")
    return count(con, f"INSERT INTO {target} BY NAME {rows}")


def _describe(con: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    return [str(r[0]) for r in con.execute(f"DESCRIBE {relation}").fetchall()]


def _kept(con: duckdb.DuckDBPyConnection, model: Model, relation: str) -> str:
    """The rows of ``relation`` (a table or a parenthesised select) not marked deleted."""
    if DELETED not in _describe(con, relation):
        raise ModelError(
            f"{model.file}: a delete_insert model's select needs a boolean {DELETED} column "
            "(true: the key is gone)"
        )
    return f"SELECT * EXCLUDE ({quote_ident(DELETED)}) FROM {relation} WHERE NOT {DELETED}"


def key_columns(model: Model, columns: Sequence[str]) -> list[str]:
    """The unique key's columns as the select spells them."""
    lower = {c.lower(): c for c in columns}
    missing = [k for k in model.unique_key if k.lower() not in lower]
    if missing:
        raise ModelError(f"{model.file}: unique_key columns {missing} are not in the select")
    return [lower[k.lower()] for k in model.unique_key]


def refuse_duplicate_keys(
    con: duckdb.DuckDBPyConnection, model: Model, relation: str, keys: Sequence[str]
) -> None:
    """Raise :class:`ModelError` when a key appears twice (or NULL) in ``relation``."""
    key_list = ", ".join(quote_ident(k) for k in keys)
    dup = con.execute(
        f"SELECT {key_list}, count(*) FROM {relation} GROUP BY ALL "
        f"HAVING count(*) > 1 OR {' OR '.join(f'{quote_ident(k)} IS NULL' for k in keys)} "
        "LIMIT 1"
    ).fetchall()
    if dup:
        raise ModelError(
            f"{model.file}: the select returns unique_key ({', '.join(keys)}) = "
            f"{dup[0][:-1]} {dup[0][-1]} times or with a NULL; an incremental model needs one "
            "row per key"
        )
