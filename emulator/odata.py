"""The ``/scm/data`` service: routing of OData requests, shared by HTTP and ``$batch`` parts.

Every request is authenticated with its bearer token; every entity access is authorised
against the entity's security role. :func:`dispatch` serves one request given as an
:class:`InnerRequest`, so a ``$batch`` part goes through exactly the code a plain request does.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from connectors import catalog
from emulator import odata_read, odata_write
from emulator.entra import authenticate, authorize
from emulator.metadata import csdl, service_document
from emulator.odata_path import PathError, parse_keys, parse_path
from emulator.responses import (
    ServiceError,
    json_response,
    no_route,
    segment_not_found,
)

if TYPE_CHECKING:
    from emulator.state import App, EmulatorState

log = logging.getLogger(__name__)
METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE"]
ACTION_PREFIX = f"{catalog.ENUM_NAMESPACE}."


@dataclass
class InnerRequest:
    """One OData request: ``raw_path`` is the still-encoded path after ``/data/``."""

    method: str
    raw_path: str
    query: Sequence[tuple[str, str]] = ()
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def _not_allowed(method: str) -> ServiceError:
    body = {"Message": f"The requested resource does not support http method '{method}'."}
    return ServiceError(json_response(body, 405))


def dispatch(state: EmulatorState, app: App, req: InnerRequest) -> Response:
    """Serve one OData request (raises :class:`ServiceError` for error answers)."""
    try:
        path = parse_path(req.raw_path)
    except (PathError, UnicodeDecodeError):
        raise no_route(f"{state.odata_root}/{req.raw_path}") from None
    method = req.method.upper()
    if path.segment == "":
        if method != "GET":
            raise _not_allowed(method)
        return json_response(service_document(state.odata_root))
    if path.segment == "$metadata":
        return Response(
            csdl().encode(), media_type="application/xml", headers={"OData-Version": "4.0"}
        )
    try:
        entity = catalog.entity(path.segment)
    except KeyError:
        raise segment_not_found(path.segment) from None
    authorize(app, entity)
    keys = None
    if path.key_text is not None:
        try:
            keys = parse_keys(entity, path.key_text)
        except PathError:
            raise no_route(f"{state.odata_root}/{req.raw_path}") from None
    if_match = req.headers.get("if-match")
    if path.tail:
        if len(path.tail) != 1:
            raise segment_not_found(path.tail[1])
        tail = path.tail[0]
        if keys is None and tail == "$count":
            if method != "GET":
                raise _not_allowed(method)
            return odata_read.read_count(state, app, entity, req.query)
        if (
            keys is None
            and tail.startswith(ACTION_PREFIX)
            and entity.name == "DataManagementDefinitionGroups"
        ):
            if method != "POST":
                raise _not_allowed(method)
            from emulator import dmf_actions

            return dmf_actions.handle(state, app, tail[len(ACTION_PREFIX) :], req.body)
        raise segment_not_found(tail)
    if keys is None:
        if method == "GET":
            return odata_read.read_collection(state, app, entity, req.query)
        if method == "POST":
            return odata_write.create(state, app, entity, req.body)
        raise _not_allowed(method)
    if method == "GET":
        return odata_read.read_entity(state, entity, keys, req.query)
    if method in ("PATCH", "PUT"):
        return odata_write.update(state, app, entity, keys, req.body, if_match)
    if method == "DELETE":
        return odata_write.delete(state, app, entity, keys, if_match)
    raise _not_allowed(method)


def serve(state: EmulatorState, app: App, req: InnerRequest) -> Response:
    """:func:`dispatch`, with error answers and unexpected failures turned into responses."""
    try:
        return dispatch(state, app, req)
    except ServiceError as exc:
        return exc.response
    except Exception:
        log.exception("OData request %s %s failed", req.method, req.raw_path)
        from emulator.responses import odata_error

        return odata_error(500, "An unexpected error occurred in the emulator.").response


def router(state: EmulatorState) -> APIRouter:
    api = APIRouter()

    @api.api_route("/scm/data", methods=METHODS)
    @api.api_route("/scm/data/{rest:path}", methods=METHODS)
    async def odata(request: Request) -> Response:
        body = await request.body()
        raw = request.scope.get("raw_path", request.url.path.encode()).decode("latin-1")
        rest = raw[len("/scm/data") :].lstrip("/")
        headers = {k.lower(): v for k, v in request.headers.items()}

        def work() -> Response:
            try:
                app = authenticate(state, request)
            except ServiceError as exc:
                return exc.response
            if rest == "$batch":
                if request.method != "POST":
                    return _not_allowed(request.method).response
                from emulator import batch

                return batch.handle(state, app, headers.get("content-type", ""), body)
            inner = InnerRequest(
                request.method, rest, request.query_params.multi_items(), headers, body
            )
            return serve(state, app, inner)

        return await run_in_threadpool(work)

    return api
