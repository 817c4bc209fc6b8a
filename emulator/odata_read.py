"""OData reads: collections with server-driven paging, single records, ``$count``.

A page is one SQL query (filter, company scope, order, LIMIT/OFFSET) whose columns are already
rendered as SCM's JSON shows them (see :func:`emulator.sql.json_expr`), so Python only zips
names to values and orjson encodes them. Rows are ordered by the requested ``$orderby`` and then
by record id, so consecutive ``$skip`` pages never overlap or miss a row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import duckdb
from starlette.responses import Response

from connectors.catalog import Entity, Field
from emulator import sql
from emulator.odata_path import key_match
from emulator.odata_query import Query, order_sql, parse_query
from emulator.responses import json_response, segment_not_found, text_response

if TYPE_CHECKING:
    from emulator.state import App, EmulatorState


def select_sql(fields: Sequence[Field], alias: str = "") -> str:
    """The etag and ``fields`` as OData JSON values."""
    return ", ".join([sql.etag_expr(alias), *(sql.json_expr(f, alias) for f in fields)])


def to_json_rows(fields: Sequence[Field], rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    names = ["@odata.etag", *(f.name for f in fields)]
    return [dict(zip(names, row, strict=True)) for row in rows]


def scoped(entity: Entity, app: App, query: Query) -> tuple[str, list[Any]]:
    """WHERE text and parameters: the filter plus the company scope (user's company by default)."""
    where, params = query.where, list(query.params)
    if entity.company_field and not query.cross_company:
        where = f"({where}) AND {sql.ident(entity.company_field)} = ?"
        params.append(app.company.lower())
    return where, params


def read_collection(
    state: EmulatorState, app: App, entity: Entity, items: Sequence[tuple[str, str]]
) -> Response:
    options = dict(items)
    query = parse_query(entity, options)
    where, params = scoped(entity, app, query)
    page = state.options.page_size
    limit = page if query.top is None else min(query.top, page)
    con = state.store.reader()
    table, order = sql.table(entity), order_sql(query.orderby)
    # Pick the page's record ids first and render only those rows: rendering before the
    # top-N sort would format every matching row (seconds on a million-row entity).
    rows = con.execute(
        f"SELECT {select_sql(query.select)} FROM {table} WHERE _recid IN (SELECT _recid "
        f"FROM {table} WHERE {where} ORDER BY {order} LIMIT {limit + 1} OFFSET {query.skip}) "
        f"ORDER BY {order}",
        params,
    ).fetchall()
    more = len(rows) > limit and (query.top is None or query.top > limit)
    rows = rows[:limit]
    context = f"{state.odata_root}/$metadata#{entity.name}"
    if "$select" in options and query.select != entity.fields:
        context += "(" + ",".join(f.name for f in query.select) + ")"
    body: dict[str, Any] = {"@odata.context": context}
    if query.count:
        body["@odata.count"] = _count(con, entity, where, params)
    body["value"] = to_json_rows(query.select, rows)
    if more:
        body["@odata.nextLink"] = _next_link(state, entity, items, query, len(rows))
    return json_response(body)


def _count(con: duckdb.DuckDBPyConnection, entity: Entity, where: str, params: list[Any]) -> int:
    return int(
        con.execute(f"SELECT count(*) FROM {sql.table(entity)} WHERE {where}", params).fetchall()[
            0
        ][0]
    )


def _next_link(
    state: EmulatorState,
    entity: Entity,
    items: Sequence[tuple[str, str]],
    query: Query,
    served: int,
) -> str:
    """The same request with ``$skip`` (and ``$top``) moved on: every other option is kept."""
    kept = [(k, v) for k, v in items if k not in ("$skip", "$top")]
    kept.append(("$skip", str(query.skip + served)))
    if query.top is not None:
        kept.append(("$top", str(query.top - served)))
    text = "&".join(
        f"{quote(k, safe='$-')}={quote(v, safe=chr(39) + '(),*:$@!/')}" for k, v in kept
    )
    return f"{state.odata_root}/{entity.name}?{text}"


def read_count(
    state: EmulatorState, app: App, entity: Entity, items: Sequence[tuple[str, str]]
) -> Response:
    query = parse_query(entity, dict(items))
    where, params = scoped(entity, app, query)
    return text_response(str(_count(state.store.reader(), entity, where, params)))


def find(
    con: duckdb.DuckDBPyConnection, entity: Entity, keys: dict[str, Any]
) -> tuple[int, str] | None:
    """The record id and etag of the record with these keys, or None."""
    match, params = key_match(entity, keys)
    rows = con.execute(
        f"SELECT _recid, {sql.etag_expr()} FROM {sql.table(entity)} WHERE {match} LIMIT 1",
        params,
    ).fetchall()
    return (int(rows[0][0]), str(rows[0][1])) if rows else None


def entity_bodies(
    state: EmulatorState, con: duckdb.DuckDBPyConnection, entity: Entity, recids: list[int]
) -> list[dict[str, Any]]:
    """Records as OData returns each on its own (context ``.../$entity``), in ``recids`` order."""
    rows = con.execute(
        f"SELECT _recid, {select_sql(entity.fields)} FROM {sql.table(entity)} "
        "WHERE _recid IN (SELECT unnest(?))",
        [recids],
    ).fetchall()
    by_recid = {int(r[0]): r[1:] for r in rows}
    context = f"{state.odata_root}/$metadata#{entity.name}/$entity"
    return [
        {"@odata.context": context, **to_json_rows(entity.fields, [by_recid[recid]])[0]}
        for recid in recids
    ]


def entity_body(
    state: EmulatorState, con: duckdb.DuckDBPyConnection, entity: Entity, recid: int
) -> dict[str, Any]:
    """One record as OData returns it on its own (context ``.../$entity``)."""
    return entity_bodies(state, con, entity, [recid])[0]


def read_entity(
    state: EmulatorState, entity: Entity, keys: dict[str, Any], items: Sequence[tuple[str, str]]
) -> Response:
    con = state.store.reader()
    found = find(con, entity, keys)
    if found is None:
        raise segment_not_found(entity.name)
    body = entity_body(state, con, entity, found[0])
    select = parse_query(entity, dict(items)).select
    if select != entity.fields:
        names = {"@odata.context", "@odata.etag", *(f.name for f in select)}
        body = {k: v for k, v in body.items() if k in names}
    return json_response(body, headers={"ETag": found[1]})
