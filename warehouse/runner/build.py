"""Building models: seeds first, then each selected model in dependency order.

Each model is built in its own transaction. Views are replaced; tables are created under a
temporary name and swapped in, so a failed build leaves the previous table as it was; incremental
models are merged into their table on the unique key (the select's rows are staged and checked for
duplicate keys first: a duplicate would otherwise be inserted twice). Descriptions from the folder's
YAML become ``COMMENT ON`` the relation and its columns. A model whose build fails does not stop
models that do not depend on it; its descendants are skipped, and the build raises
:class:`ModelError` at the end. Every model's outcome goes to ``ops.model_runs``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import duckdb

from connectors.errors import ModelError
from warehouse import db, state
from warehouse.db import count, qualified, quote_ident, quote_literal, transaction
from warehouse.runner import graph as graph_mod
from warehouse.runner import replace, seeds
from warehouse.runner.project import Model, Project
from warehouse.runner.replace import key_columns, refuse_duplicate_keys

_TRAILING = re.compile(r";\s*(--[^\n]*\s*)*$")

# String compressions DuckDB would otherwise try on every text column of a model table as it is
# written: on the wide intermediate tables, analysing them costs about as much CPU as computing
# the rows (FSST symbol tables per segment), while a table rebuilt every run and read a few
# times gains little from the smaller file. Dictionary, RLE and the numeric ones still apply.
MODEL_DISABLED_COMPRESSION = "fsst,dict_fsst"


@dataclass(frozen=True)
class ModelResult:
    model: str
    relation: str
    materialized: str
    status: str  # success | error | skipped
    rows: int | None
    seconds: float
    error: str | None = None
    files: tuple[str, ...] = ()  # the files to look at when it failed


def plan(
    con: duckdb.DuckDBPyConnection | None,
    project: Project,
    selectors: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> tuple[graph_mod.Graph, list[Model]]:
    """Resolve the project and select models, without building anything. With no connection
    only the catalog's source relations and seeds count as existing."""
    known = db.existing_relations(con) if con is not None else set()
    graph = graph_mod.resolve(project, known)
    return graph, graph_mod.select(graph, selectors, exclude)


def build(
    con: duckdb.DuckDBPyConnection,
    project: Project,
    *,
    selectors: Sequence[str] = (),
    exclude: Sequence[str] = (),
    run_id: str | None = None,
    full_refresh: bool = False,
    raise_on_error: bool = True,
) -> list[ModelResult]:
    """Load changed seeds, then build the selected models in dependency order.

    Raises :class:`ModelError` after the build when a model failed (unless ``raise_on_error`` is
    false; then see :func:`raise_failed_builds`)."""
    run_id = run_id or state.new_run_id()
    seeds.load_seeds(con, project.seed_files)
    graph, chosen = plan(con, project, selectors, exclude)
    broken: set[str] = set()
    results: list[ModelResult] = []
    # what each model's relation is now (table or view), kept up to date as models are built:
    # one catalog query instead of one per model
    kinds = db.relation_kinds(con)
    records: list[dict[str, object]] = []
    try:
        with model_storage(con):
            for model in chosen:
                started = state.utcnow()
                result = _build_one(con, graph, model, broken, full_refresh, kinds)
                results.append(result)
                records.append(_record(run_id, result, started))
    finally:
        # one insert for the whole build (one per model cost ~2 ms each)
        db.append_rows(con, "ops.model_runs", records)
    if raise_on_error:
        raise_failed_builds(results)
    return results


@contextmanager
def model_storage(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Write model tables without the costly string compressions; the setting the connection
    had is restored afterwards, so landings on it compress as before. (The benchmarks write
    under it too, to compare like with like.)"""
    before = con.execute("SELECT current_setting('disabled_compression_methods')").fetchall()
    try:
        con.execute(
            f"SET disabled_compression_methods = {quote_literal(MODEL_DISABLED_COMPRESSION)}"
        )
    except duckdb.Error:
        # DuckDB before 1.3 has no DICT_FSST (and refuses to name it): FSST alone, then.
        con.execute("SET disabled_compression_methods = 'fsst'")
    try:
        yield
    finally:
        con.execute(f"SET disabled_compression_methods = {quote_literal(str(before[0][0]))}")


def _build_one(
    con: duckdb.DuckDBPyConnection,
    graph: graph_mod.Graph,
    model: Model,
    broken: set[str],
    full_refresh: bool,
    kinds: dict[str, str],
) -> ModelResult:
    """Build one model (or skip it when an ancestor failed)."""
    clock = time.perf_counter()
    if graph.ancestors(model.relation) & broken:
        broken.add(model.relation)
        return ModelResult(
            model.name, model.relation, model.materialized, "skipped", None, 0.0,
            "an upstream model failed",
        )  # fmt: skip
    try:
        fingerprint = (
            replace.fingerprint(con, graph, model) if model.strategy == "delete_insert" else None
        )
        rows = materialize(
            con, model, full_refresh=full_refresh, fingerprint=fingerprint,
            feeds=[graph.models[rel] for rel in graph.feeds_of(model.relation)],
            keep_changes=model.relation in graph.fed, kinds=kinds,
        )  # fmt: skip
        return ModelResult(
            model.name, model.relation, model.materialized, "success", rows,
            state.elapsed(clock),
        )  # fmt: skip
    except (duckdb.Error, ModelError) as exc:
        broken.add(model.relation)
        files = getattr(exc, "files", None) or [model.file]
        return ModelResult(
            model.name, model.relation, model.materialized, "error", None,
            state.elapsed(clock), f"{model.file}: {exc}", tuple(files),
        )  # fmt: skip


def raise_failed_builds(results: Sequence[ModelResult]) -> None:
    """Raise :class:`ModelError` naming every model whose build failed, if any did."""
    failed = [r for r in results if r.status == "error"]
    if failed:
        raise ModelError(
            f"{len(failed)} model(s) failed to build: " + "; ".join(str(r.error) for r in failed),
            files=sorted({f for r in failed for f in r.files}),
        )


def _record(run_id: str, r: ModelResult, started: datetime) -> dict[str, object]:
    return {
        "run_id": run_id, "model": r.model, "relation": r.relation,
        "materialized": r.materialized, "status": r.status, "rows": r.rows,
        "seconds": r.seconds, "error": r.error, "started_at": started,
        "ended_at": state.utcnow(),
    }  # fmt: skip


def body(model: Model) -> str:
    """The model's select, without a final semicolon, safe to wrap in parentheses."""
    return _TRAILING.sub("", model.sql.rstrip()) + "\n"


def materialize(
    con: duckdb.DuckDBPyConnection,
    model: Model,
    *,
    full_refresh: bool = False,
    fingerprint: str | None = None,
    feeds: Sequence[Model] = (),
    keep_changes: bool = False,
    kinds: dict[str, str],
) -> int | None:
    """Build one model in one transaction; the rows it wrote (None for a view).

    ``fingerprint``: of a ``delete_insert`` model (``replace.fingerprint``); without it such a
    model is rebuilt in full. ``feeds`` (the models whose changes it reads) and
    ``keep_changes``: see ``replace``. ``kinds``: ``db.relation_kinds`` as they are, updated
    once the model is built."""
    relation = model.relation.lower()
    with transaction(con):
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(model.layer)}")
        existing = kinds.get(relation)
        target = qualified(model.layer, model.name)
        if model.materialized == "view":
            if existing == "table":
                con.execute(f"DROP TABLE {target}")
            con.execute(f"CREATE OR REPLACE VIEW {target} AS (\n{body(model)})")
            rows = None
        elif model.materialized == "table":
            rows = _swap(con, model, existing)
        elif model.strategy == "delete_insert":
            rows = replace.build(
                con, model, body(model), existing, full=full_refresh, fingerprint=fingerprint,
                feeds=feeds, keep_changes=keep_changes,
            )  # fmt: skip
        else:
            rows = _incremental(con, model, existing, full_refresh, keep_changes)
        _comment(con, model)
    kinds[relation] = "view" if model.materialized == "view" else "table"
    return rows


def _swap(con: duckdb.DuckDBPyConnection, model: Model, existing: str | None) -> int:
    temp = qualified(model.layer, f"__clmsync_new_{model.name}")
    target = qualified(model.layer, model.name)
    con.execute(f"DROP TABLE IF EXISTS {temp}")
    rows = count(con, f"CREATE TABLE {temp} AS (\n{body(model)})")
    if existing:
        con.execute(f"DROP {existing.upper()} {target}")
    con.execute(f"ALTER TABLE {temp} RENAME TO {quote_ident(model.name)}")
    return rows


def _incremental(
    con: duckdb.DuckDBPyConnection,
    model: Model,
    existing: str | None,
    full_refresh: bool,
    keep_changes: bool,
) -> int:
    target = qualified(model.layer, model.name)
    if existing == "view" or (existing == "table" and full_refresh):
        con.execute(f"DROP {existing.upper()} {target}")
        existing = None
    if existing is None:
        rows = _first_incremental(con, model)
        if rows is not None:
            replace.count_build(con, model, kept=keep_changes, full=True)
            return rows
    with replace.staged(con, model, body(model), keep_changes=keep_changes) as staged:
        rows = _merge(con, model, target, staged)
    replace.count_build(con, model, kept=keep_changes, full=existing is None)
    return rows


def _first_incremental(con: duckdb.DuckDBPyConnection, model: Model) -> int | None:
    """Build an incremental model's table from nothing; the rows written, or None when the
    select must be staged and merged into the (new, empty) table like any build."""
    if not model.reads_itself:
        return _swap(con, model, None)
    target = qualified(model.layer, model.name)
    cols = ", ".join(f"{quote_ident(c.name)} {c.data_type}" for c in model.columns)
    con.execute(f"CREATE TABLE {target} ({cols})")
    if not _fits(con, model):
        return None
    # A first build has nothing to merge with: the rows go straight in, written once instead
    # of staged and merged (the transaction undoes it if a key repeats).
    rows = count(con, f"INSERT INTO {target} BY NAME (\n{body(model)})")
    refuse_duplicate_keys(
        con, model, target, key_columns(model, list(_columns(con, model.layer, model.name)))
    )
    return rows


def _columns(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> dict[str, str]:
    """Column name (as spelled) → type, in order."""
    rows = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = ? "
        "AND table_name = ? ORDER BY column_index",
        [schema, name],
    ).fetchall()
    return {str(n): str(t) for n, t in rows}


def _fits(con: duckdb.DuckDBPyConnection, model: Model) -> bool:
    """Whether the select's columns (bound, not run) are all columns of the model's table and
    hold its unique key: then a first build may insert its rows directly."""
    selected = {str(r[0]).lower() for r in con.execute(f"DESCRIBE (\n{body(model)})").fetchall()}
    have = {c.lower() for c in _columns(con, model.layer, model.name)}
    return selected <= have and {k.lower() for k in model.unique_key} <= selected


def _merge(con: duckdb.DuckDBPyConnection, model: Model, target: str, staged: str) -> int:
    """Replace the rows of the staged keys and add the new ones (a merge on the unique key)."""
    new_cols = {str(r[0]): str(r[1]) for r in con.execute(f"DESCRIBE {staged}").fetchall()}
    keys = key_columns(model, list(new_cols))
    refuse_duplicate_keys(con, model, staged, keys)
    have = {c.lower() for c in _columns(con, model.layer, model.name)}
    for col, typ in new_cols.items():
        if col.lower() not in have:
            con.execute(f"ALTER TABLE {target} ADD COLUMN {quote_ident(col)} {typ}")
    return replace.replace_keys(con, target, staged, keys, f"FROM {staged}")


def _comment(con: duckdb.DuckDBPyConnection, model: Model) -> None:
    kind = "VIEW" if model.materialized == "view" else "TABLE"
    target = qualified(model.layer, model.name)
    if model.description:
        con.execute(f"COMMENT ON {kind} {target} IS {quote_literal(model.description)}")
    if not model.columns:
        return
    actual = {c.lower(): c for c in _columns(con, model.layer, model.name)}
    for col in model.columns:
        name = actual.get(col.name.lower())
        if name is None:
            raise ModelError(
                f"{model.doc_file}: describes column {col.name} of {model.relation}, which has "
                f"no such column (it has {sorted(actual.values())})",
                files=[str(model.doc_file), model.file],
            )
        if col.description:
            con.execute(
                f"COMMENT ON COLUMN {target}.{quote_ident(name)} "
                f"IS {quote_literal(col.description)}"
            )
