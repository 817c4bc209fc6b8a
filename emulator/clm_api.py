"""The CLM's REST API, served by the emulator under ``/clm/api/v1``.

``GET /counterparties|/contracts|/agreements|/agreement-lines?limit=&cursor=&updated_since=``
answers ``{"data": [...], "next_cursor": str | null}``, objects ordered by ``(updated_at, id)``.
The cursor is opaque (base64 of the last object's position and of where its page started) and
paging is keyset paging on that order: an object changed while a client pages gets a new, later
``updated_at`` and is served again further on, so no object is ever skipped at a page boundary.
``updated_since`` (ISO 8601) keeps objects with ``updated_at`` at or after it. ``limit`` is 1 to
1,000 (default 100).

``POST /counterparties/bulk-upsert`` ``{"items": [{"id": ..., <fields>}]}`` (at most 1,000)
updates the given fields of existing counterparties (``address`` merged field by field; dotted
``address.street`` keys are accepted too) and creates the others, answering one result per item.

Every call needs ``X-Api-Key``; a missing or wrong key gets 401. Throttling and server errors
come from the emulator's shared fault switch (its middleware); the ``clm_page_twice`` fault
makes a page request with a cursor answer the previous page again, as flaky CLMs do.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from connectors import catalog
from emulator.world import clm_store, clm_upsert
from emulator.world.clm_json import iso, parse_instant, row_json_sql

if TYPE_CHECKING:
    from emulator.state import EmulatorState

PREFIX = "/clm/api/v1"
MAX_LIMIT = 1000
DEFAULT_LIMIT = 100


def _error(status: int, code: str, message: str) -> Response:
    body = orjson.dumps({"error": {"code": code, "message": message}})
    return Response(body, status, media_type="application/json")


def encode_cursor(position: tuple[datetime, str], start: tuple[datetime, str] | None) -> str:
    data = {"t": iso(position[0]), "i": position[1]}
    if start is not None:
        data["pt"], data["pi"] = iso(start[0]), start[1]
    return base64.urlsafe_b64encode(orjson.dumps(data)).decode().rstrip("=")


def decode_cursor(text: str) -> tuple[tuple[datetime, str], tuple[datetime, str] | None]:
    """The (position, page start) a cursor carries; ``ValueError`` when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        data = orjson.loads(raw)
        position = (parse_instant(data["t"]), str(data["i"]))
        start = (parse_instant(data["pt"]), str(data["pi"])) if "pt" in data else None
    except (binascii.Error, ValueError, KeyError, TypeError, orjson.JSONDecodeError):
        raise ValueError("cursor is not a cursor this API issued") from None
    return position, start


def page(
    con: Any,
    obj: catalog.ClmObject,
    limit: int,
    after: tuple[datetime, str] | None,
    since: datetime | None,
) -> tuple[list[str], tuple[datetime, str] | None]:
    """Up to ``limit`` objects after ``after`` (JSON texts) and the last one's position if more
    objects follow."""
    where, params = [], []
    if after is not None:
        where.append("(updated_at > ? OR (updated_at = ? AND id > ?))")
        params += [after[0], after[0], after[1]]
    if since is not None:
        where.append("updated_at >= ?")
        params.append(since)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    rows = con.execute(
        f"SELECT {row_json_sql(obj)}, updated_at, id FROM {clm_store.table(obj)} {clause} "
        f"ORDER BY updated_at, id LIMIT {limit + 1}",
        params,
    ).fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    last = (rows[-1][1], rows[-1][2]) if more else None
    return [r[0] for r in rows], last


def router(state: EmulatorState) -> APIRouter:
    api = APIRouter(prefix=PREFIX)
    objects = {o.collection: o for o in catalog.CLM_OBJECTS}

    def refused(request: Request) -> Response | None:
        given = request.headers.get("x-api-key", "")
        if given and hmac.compare_digest(given.encode(), state.identity.clm_api_key.encode()):
            return None
        return _error(401, "unauthorized", "A valid API key is required in the X-Api-Key header.")

    @api.get("/{collection}")
    def list_objects(collection: str, request: Request) -> Response:
        if (denied := refused(request)) is not None:
            return denied
        obj = objects.get(collection)
        if obj is None:
            known = ", ".join(objects)
            return _error(404, "not_found", f"Unknown collection {collection!r}; known: {known}.")
        query = request.query_params
        unknown = sorted(set(query) - {"limit", "cursor", "updated_since"})
        if unknown:
            return _error(400, "invalid_parameter", f"Unknown query parameter(s) {unknown}.")
        try:
            limit = int(query.get("limit", DEFAULT_LIMIT))
        except ValueError:
            limit = 0
        if not 1 <= limit <= MAX_LIMIT:
            return _error(
                400, "invalid_parameter", f"limit must be an integer from 1 to {MAX_LIMIT}."
            )
        try:
            since = parse_instant(query["updated_since"]) if "updated_since" in query else None
        except ValueError as exc:
            return _error(400, "invalid_parameter", f"updated_since: {exc}.")
        after: tuple[datetime, str] | None = None
        if "cursor" in query:
            try:
                after, start = decode_cursor(query["cursor"])
            except ValueError as exc:
                return _error(400, "invalid_cursor", f"{exc}.")
            if state.faults.take(("clm_page_twice",), request.method, request.url.path):
                after = start  # serve the page before this one again
        data, last = page(state.store.reader(), obj, limit, after, since)
        cursor = encode_cursor(last, after) if last is not None else None
        body = b'{"data":[' + ",".join(data).encode() + b'],"next_cursor":'
        body += orjson.dumps(cursor) + b"}"
        return Response(body, 200, media_type="application/json")

    @api.post("/counterparties/bulk-upsert")
    async def bulk_upsert(request: Request) -> Response:
        if (denied := refused(request)) is not None:
            return denied
        try:
            payload = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return _error(400, "invalid_body", "The body must be JSON.")
        items = payload.get("items") if isinstance(payload, dict) else None
        if not isinstance(items, list):
            return _error(400, "invalid_body", 'The body must be {"items": [...]}.')
        if len(items) > clm_upsert.MAX_ITEMS:
            return _error(
                413, "too_many_items", f"At most {clm_upsert.MAX_ITEMS} items per request."
            )
        with state.store.transaction() as con:
            results = clm_upsert.upsert(con, items)
        return Response(orjson.dumps({"results": results}), 200, media_type="application/json")

    return api
