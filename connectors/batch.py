"""OData 4.0 multipart ``$batch``: building the request and reading the answer.

Each changeset is atomic on SCM's side: everything in it is applied or nothing is. The outer
answer is HTTP 200 whatever happened inside, and a failed changeset comes back as a single part
carrying the failing operation's status and error (reference §4.7), so the parser maps every
part back to its operations by ``Content-ID`` (or position) and marks the operations of a failed
changeset that did not fail themselves as not applied (status 424, "failed dependency").
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from connectors.errors import ODataRequestError
from connectors.odata_errors import parse_error_body
from connectors.odata_query import format_key

Method = Literal["POST", "PATCH", "DELETE"]
NOT_APPLIED = 424
_CRLF = b"\r\n"


@dataclass(frozen=True)
class Operation:
    """One write inside a changeset. ``keys`` is required for PATCH and DELETE."""

    method: Method
    entity_set: str
    keys: Mapping[str, object] | None = None
    body: Mapping[str, Any] | None = None
    etag: str | None = None
    content_id: str | None = None

    def path(self) -> str:
        if self.method == "POST":
            return self.entity_set
        if not self.keys:
            raise ValueError(f"{self.method} {self.entity_set} needs the record's keys")
        return self.entity_set + format_key(self.entity_set, self.keys)


@dataclass(frozen=True)
class OperationResult:
    """What happened to one operation of a ``$batch``."""

    changeset: int
    content_id: str
    operation: Operation
    status: int
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    error_type: str | None = None
    activity_id: str | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def etag(self) -> str | None:
        if self.body and self.body.get("@odata.etag"):
            return str(self.body["@odata.etag"])
        return self.headers.get("etag")


BatchIndex = list[list[tuple[str, Operation]]]


def build_batch(
    data_url: str, changesets: Sequence[Sequence[Operation]]
) -> tuple[bytes, str, BatchIndex]:
    """(body, Content-Type, index) for a ``$batch`` of ``changesets``.

    Operations without a ``content_id`` are numbered 1, 2, … across the whole batch.
    """
    batch_boundary = f"batch_{uuid.uuid4()}"
    out: list[bytes] = []
    index: BatchIndex = []
    used: set[str] = set()
    number = 0
    for changeset in changesets:
        if not changeset:
            raise ValueError("an empty changeset cannot be sent")
        cs_boundary = f"changeset_{uuid.uuid4()}"
        out.append(f"--{batch_boundary}\r\n".encode())
        out.append(f"Content-Type: multipart/mixed; boundary={cs_boundary}\r\n\r\n".encode())
        entries: list[tuple[str, Operation]] = []
        for op in changeset:
            number += 1
            content_id = op.content_id or str(number)
            if content_id in used:
                raise ValueError(f"Content-ID {content_id} is used twice in one batch")
            used.add(content_id)
            entries.append((content_id, op))
            head = [
                f"--{cs_boundary}",
                "Content-Type: application/http",
                "Content-Transfer-Encoding: binary",
                f"Content-ID: {content_id}",
                "",
                f"{op.method} {data_url}/{op.path()} HTTP/1.1",
                "OData-Version: 4.0",
                "OData-MaxVersion: 4.0",
                "Accept: application/json",
            ]
            if op.method != "POST":
                head.append(f"If-Match: {op.etag or '*'}")
            payload = b""
            if op.body is not None:
                head.append("Content-Type: application/json;odata.metadata=minimal")
                payload = json.dumps(op.body, ensure_ascii=False).encode("utf-8")
            out.append(("\r\n".join(head) + "\r\n\r\n").encode())
            out.append(payload + _CRLF)
        out.append(f"--{cs_boundary}--\r\n".encode())
        index.append(entries)
    out.append(f"--{batch_boundary}--\r\n".encode())
    return b"".join(out), f"multipart/mixed; boundary={batch_boundary}", index


@dataclass
class _Part:
    headers: dict[str, str]
    body: bytes


@dataclass
class _HttpAnswer:
    content_id: str | None
    status: int
    headers: dict[str, str]
    body: bytes


_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.I)


def _boundary(content_type: str) -> str:
    match = _BOUNDARY.search(content_type or "")
    if not match:
        raise ODataRequestError(
            f"the $batch answer is not multipart (Content-Type {content_type!r})", status=200
        )
    return match.group(1).strip()


def _headers(block: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in block.decode("utf-8", errors="replace").splitlines():
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    return headers


def _split_head(data: bytes) -> tuple[bytes, bytes]:
    for sep in (b"\r\n\r\n", b"\n\n"):
        at = data.find(sep)
        if at >= 0:
            return data[:at], data[at + len(sep) :]
    return data, b""


def _parts(body: bytes, boundary: str) -> list[_Part]:
    delimiter = b"--" + boundary.encode()
    chunks = body.split(delimiter)
    parts: list[_Part] = []
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):  # the closing delimiter
            break
        # The rest of the delimiter line (spaces are tolerated), then the part.
        newline = chunk.find(b"\n")
        chunk = chunk[newline + 1 :] if newline >= 0 else b""
        if chunk.endswith(_CRLF):
            chunk = chunk[:-2]
        elif chunk.endswith(b"\n"):
            chunk = chunk[:-1]
        head, rest = _split_head(chunk)
        parts.append(_Part(_headers(head), rest))
    return parts


def _http_answer(part: _Part) -> _HttpAnswer:
    head, body = _split_head(part.body)
    lines = head.decode("utf-8", errors="replace").splitlines()
    status_line = lines[0] if lines else ""
    match = re.match(r"HTTP/\d\.\d\s+(\d{3})", status_line)
    if not match:
        raise ODataRequestError(f"unreadable $batch part: {status_line[:80]!r}", status=200)
    headers = _headers("\n".join(lines[1:]).encode())
    return _HttpAnswer(part.headers.get("content-id"), int(match.group(1)), headers, body.strip())


def _answers(body: bytes, content_type: str) -> list[list[_HttpAnswer]]:
    """The answers grouped by outer part (one group per changeset)."""
    groups: list[list[_HttpAnswer]] = []
    for part in _parts(body, _boundary(content_type)):
        kind = part.headers.get("content-type", "")
        if kind.lower().startswith("multipart/"):
            groups.append([_http_answer(p) for p in _parts(part.body, _boundary(kind))])
        else:
            groups.append([_http_answer(part)])
    return groups


def _result(number: int, content_id: str, op: Operation, answer: _HttpAnswer) -> OperationResult:
    parsed: dict[str, Any] | None = None
    text = answer.body.decode("utf-8", errors="replace")
    if text:
        try:
            value = json.loads(text)
            parsed = value if isinstance(value, dict) else None
        except ValueError:
            parsed = None
    error = error_type = None
    if not 200 <= answer.status < 300:
        error, error_type = parse_error_body(text)
    return OperationResult(
        changeset=number,
        content_id=content_id,
        operation=op,
        status=answer.status,
        body=parsed,
        headers=answer.headers,
        error=error,
        error_type=error_type,
        activity_id=answer.headers.get("ms-dyn-aid"),
    )


def parse_batch(body: bytes, content_type: str, index: BatchIndex) -> list[OperationResult]:
    """One :class:`OperationResult` per operation in ``index``, in the order they were sent."""
    groups = _answers(body, content_type)
    if len(groups) != len(index):
        raise ODataRequestError(
            f"the $batch answer has {len(groups)} parts for {len(index)} changesets", status=200
        )
    results: list[OperationResult] = []
    for number, (entries, answers) in enumerate(zip(index, groups, strict=True)):
        by_id = {a.content_id: a for a in answers if a.content_id}
        failed = [a for a in answers if not 200 <= a.status < 300]
        mine: list[OperationResult] = []
        for position, (content_id, op) in enumerate(entries):
            answer = by_id.get(content_id)
            if answer is None and not by_id and len(answers) == len(entries):
                answer = answers[position]
            if answer is None and failed and (len(answers) == 1 and not by_id):
                answer = failed[0]  # one error for a whole changeset, not tied to an operation
            if answer is None:
                culprit = failed[0] if failed else None
                reason = "no answer for this operation"
                if culprit is not None:
                    cause = _result(number, content_id, op, culprit).error
                    who = culprit.content_id or "another operation"
                    reason = f"not applied: the changeset failed at {who}: {cause}"
                mine.append(OperationResult(number, content_id, op, NOT_APPLIED, error=reason))
                continue
            mine.append(_result(number, content_id, op, answer))
        if failed:
            # Atomic: whatever reported success inside a failed changeset was rolled back.
            mine = [
                r
                if not r.ok
                else OperationResult(
                    number,
                    r.content_id,
                    r.operation,
                    NOT_APPLIED,
                    error="not applied: the changeset was rolled back",
                )
                for r in mine
            ]
        results.extend(mine)
    return results
