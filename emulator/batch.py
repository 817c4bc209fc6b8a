"""OData ``$batch`` (multipart/mixed, OData 4.0), as SCM serves it.

A changeset is atomic: its operations run in one store transaction, and the first failing one
rolls the whole changeset back and becomes the changeset's only response part (with its
``Content-ID``). The outer response is 200 even when parts fail. Requests outside changesets
run one by one. ``$<n>`` references to earlier Content-IDs are not supported (answered 404).
"""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

from starlette.responses import Response

from connectors import catalog
from connectors.catalog import Entity
from emulator.entra import authorize
from emulator.odata import InnerRequest, serve
from emulator.odata_path import PathError, parse_path
from emulator.odata_write import OperationFailed, create_many, groupable
from emulator.responses import ServiceError, bad_request, json_response, odata_error_body

if TYPE_CHECKING:
    from emulator.state import App, EmulatorState

_BOUNDARY = re.compile(r"boundary=\"?([^\";]+)\"?", re.IGNORECASE)


@dataclass
class Operation:
    content_id: str | None
    request: InnerRequest | None
    problem: str | None = None  # why the part could not be read as a request


@dataclass
class Changeset:
    operations: list[Operation]


class _ChangesetFailed(Exception):
    def __init__(self, operation: Operation, response: Response) -> None:
        super().__init__(response.status_code)
        self.operation = operation
        self.response = response


def _boundary(content_type: str) -> str:
    match = _BOUNDARY.search(content_type)
    if not content_type.lower().startswith("multipart/mixed") or not match:
        raise bad_request(
            "The content type of a batch request must be multipart/mixed with a boundary."
        )
    return match.group(1).strip()


def _split(body: bytes, boundary: str) -> list[bytes]:
    pattern = re.compile(
        rb"(?:^|\r?\n)--" + re.escape(boundary.encode()) + rb"(--)?[ \t]*(?:\r?\n|$)"
    )
    marks = list(pattern.finditer(body))
    if not marks or not any(m.group(1) for m in marks):
        raise bad_request(f"The batch body has no closing delimiter for boundary '{boundary}'.")
    parts = []
    for here, after in itertools.pairwise(marks):
        if here.group(1):
            break
        parts.append(body[here.end() : after.start()])
    return parts


def _head(block: bytes) -> tuple[dict[str, str], bytes]:
    match = re.search(rb"\r?\n\r?\n", block)
    head, rest = (block[: match.start()], block[match.end() :]) if match else (block, b"")
    headers: dict[str, str] = {}
    for line in head.decode("utf-8", "replace").splitlines():
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return headers, rest


def _operation(state: EmulatorState, part: bytes) -> Operation:
    headers, http = _head(part)
    content_id = headers.get("content-id")
    line_end = re.search(rb"\r?\n", http)
    request_line = (http[: line_end.start()] if line_end else http).decode("utf-8", "replace")
    inner_headers, body = _head(http[line_end.end() :] if line_end else b"")
    pieces = request_line.split()
    if len(pieces) < 2:
        return Operation(content_id, None, f"'{request_line}' is not an HTTP request line.")
    method, url = pieces[0].upper(), pieces[1]
    split = urlsplit(url)
    path = split.path
    root = urlsplit(state.odata_root).path  # /scm/data
    if path.startswith(root + "/") or path == root:
        path = path[len(root) :].lstrip("/")
    elif path.startswith("/") or split.scheme:
        return Operation(content_id, None, f"The URL '{url}' is not under the service root.")
    if path.startswith("$") and path not in ("$metadata",):
        return Operation(
            content_id, None, f"Content-ID references such as '{path}' are not supported."
        )
    query = parse_qsl(split.query, keep_blank_values=True)
    return Operation(
        content_id, InnerRequest(method, path, query, inner_headers, body.rstrip(b"\r\n"))
    )


def parse(state: EmulatorState, content_type: str, body: bytes) -> list[Operation | Changeset]:
    items: list[Operation | Changeset] = []
    for part in _split(body, _boundary(content_type)):
        headers, content = _head(part)
        kind = headers.get("content-type", "")
        if kind.lower().startswith("multipart/mixed"):
            inner = _split(content, _boundary(kind))
            items.append(Changeset([_operation(state, p) for p in inner]))
        else:
            items.append(_operation(state, part))
    return items


def _count(items: list[Operation | Changeset]) -> int:
    return sum(len(i.operations) if isinstance(i, Changeset) else 1 for i in items)


def _run(state: EmulatorState, app: App, op: Operation) -> Response:
    if op.request is None:
        body = odata_error_body("An error has occurred.", op.problem or "Bad part.", "")
        return json_response(body, 404)
    return serve(state, app, op.request)


def _part(op: Operation, response: Response) -> bytes:
    lines = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if op.content_id is not None:
        lines.append(f"Content-ID: {op.content_id}")
    status = response.status_code
    lines += ["", f"HTTP/1.1 {status} {HTTPStatus(status).phrase}"]
    lines += [f"{k}: {v}" for k, v in response.headers.items() if k.lower() != "content-length"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + bytes(response.body) + b"\r\n"


def _creates(app: App, ops: list[Operation], start: int) -> tuple[Entity | None, int]:
    """The entity and end of a run of plain creates of one entity set starting at ``start``."""
    entity: Entity | None = None
    end = start
    for op in ops[start:]:
        req = op.request
        if req is None or req.method != "POST" or req.query:
            break
        try:
            path = parse_path(req.raw_path)
            target = catalog.entity(path.segment)
        except (PathError, KeyError, UnicodeDecodeError):
            break
        if path.key_text is not None or path.tail or (entity is not None and target != entity):
            break
        entity = target
        end += 1
    if entity is None or end - start < 2 or not groupable(entity):
        return None, start
    try:
        authorize(app, entity)
    except ServiceError:
        return None, start  # one by one, the first create answers 403
    return entity, end


def _changeset(
    state: EmulatorState, app: App, changeset: Changeset
) -> Iterator[tuple[Operation, Response]]:
    """Run a changeset atomically. Consecutive creates of one entity set are written as one
    set (the same answers as one by one, measured 10-50 times faster)."""
    results: list[tuple[Operation, Response]] = []
    ops = changeset.operations
    try:
        with state.store.transaction():
            index = 0
            while index < len(ops):
                entity, end = _creates(app, ops, index)
                if entity is not None:
                    raws = [op.request.body for op in ops[index:end] if op.request is not None]
                    try:
                        responses = create_many(state, app, entity, raws)
                    except OperationFailed as failed:
                        raise _ChangesetFailed(
                            ops[index + failed.index], failed.error.response
                        ) from None
                    results += zip(ops[index:end], responses, strict=True)
                    index = end
                    continue
                op = ops[index]
                if op.request is not None and op.request.method == "GET":
                    response = bad_request("A GET request cannot be part of a changeset.").response
                else:
                    response = _run(state, app, op)
                if response.status_code >= 400:
                    raise _ChangesetFailed(op, response)
                results.append((op, response))
                index += 1
    except _ChangesetFailed as failed:
        yield failed.operation, failed.response
        return
    yield from results


def handle(state: EmulatorState, app: App, content_type: str, body: bytes) -> Response:
    """Serve one ``$batch`` request."""
    try:
        items = parse(state, content_type, body)
        limit = state.options.max_batch_operations
        if _count(items) > limit:
            raise bad_request(
                "The current batch message contains too many parts. Only batch messages with a "
                f"maximum number of '{limit}' query operations and change sets are allowed."
            )
    except ServiceError as exc:
        return exc.response
    outer = f"batchresponse_{uuid.uuid4()}"
    chunks: list[bytes] = []
    for item in items:
        chunks.append(f"--{outer}\r\n".encode())
        if isinstance(item, Operation):
            chunks.append(_part(item, _run(state, app, item)))
            continue
        inner = f"changesetresponse_{uuid.uuid4()}"
        chunks.append(f"Content-Type: multipart/mixed; boundary={inner}\r\n\r\n".encode())
        for op, response in _changeset(state, app, item):
            chunks.append(f"--{inner}\r\n".encode() + _part(op, response))
        chunks.append(f"--{inner}--\r\n".encode())
    chunks.append(f"--{outer}--\r\n".encode())
    return Response(
        b"".join(chunks),
        200,
        {"OData-Version": "4.0"},
        media_type=f"multipart/mixed; boundary={outer}",
    )
