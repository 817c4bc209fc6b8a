"""Faults on demand and request statistics: one switch for SCM, Entra ID, blob and CLM.

A fault rule is scoped by a path prefix (and optionally a method) and fires on the next N
matching requests (``count``), on every Nth one (``every_nth``), above a rate (``per_second``)
or on all of them. Kinds:

``status``      answer with ``status`` (500/502/503...) instead of serving the request
``throttle``    429 with ``Retry-After`` and one of SCM's service-protection messages (or none)
``latency``     add ``latency_ms`` before serving
``drop``        send the headers and part of the body, then drop the connection
``truncate``    cut a blob download after ``fraction`` of its bytes (connection dropped)
``execution``   data management executions created from now end ``outcome`` (Failed,
                PartiallySucceeded) or stay Executing
``token_expiry``  tokens issued from now expire after ``expires_in`` seconds (whole seconds
                from the second they were issued in, as in Entra ID's ``exp``: a token can
                live up to a second less, so ``expires_in`` 1 can give one already expired)
``blob_expired``  blob URLs issued from now are already expired
``clm_page_twice``  the CLM API serves a page twice (read by the CLM router)

``token_invalidate`` is not a rule: posting it invalidates every token issued so far.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
import uuid
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from emulator.state import EmulatorState

KINDS = (
    "status",
    "throttle",
    "latency",
    "drop",
    "truncate",
    "execution",
    "token_expiry",
    "blob_expired",
    "clm_page_twice",
)
THROTTLE_MESSAGES = {
    "requests": (
        "Number of requests exceeded the limit of 6000 over the time window of 300 seconds."
    ),
    "execution_time": (
        "Combined execution time of incoming requests exceeded the limit of 1200 seconds over "
        "the time window of 300 seconds. Decrease the number of concurrent requests or reduce "
        "the duration of requests and try again later."
    ),
    "concurrency": "Number of concurrent requests exceeded the limit of 52.",
    "resource": (
        "This request could not be processed at this time due to system experiencing high "
        "resource utilization."
    ),
    "empty": "",
}
_SERVING_KINDS = ("status", "throttle", "drop", "truncate")
_DEFAULT_PATHS = {"truncate": "/blob/", "execution": "/scm/data/DataManagementDefinitionGroups"}


@dataclass
class FaultRule:
    """One fault; see the module docstring for the kinds and their parameters."""

    kind: str
    path: str = "/"
    method: str | None = None
    count: int | None = None
    every_nth: int | None = None
    per_second: float | None = None
    status: int = 503
    retry_after: int | None = 1
    message: str = "requests"
    latency_ms: int = 0
    fraction: float = 0.5
    outcome: str = "Failed"
    expires_in: int = 1
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    seen: int = 0
    fired: int = 0
    window: deque[float] = field(default_factory=deque, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; known: {', '.join(KINDS)}")
        if self.kind == "throttle" and self.message not in THROTTLE_MESSAGES:
            raise ValueError(f"unknown throttle message {self.message!r}")
        if self.kind == "execution" and self.outcome not in (
            "Failed",
            "PartiallySucceeded",
            "Executing",
        ):
            raise ValueError("execution outcome must be Failed, PartiallySucceeded or Executing")
        if self.path == "/" and self.kind in _DEFAULT_PATHS:
            self.path = _DEFAULT_PATHS[self.kind]
        if self.method:
            self.method = self.method.upper()

    def public(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("window")
        return data

    def _selected(self, now: float) -> bool:
        self.seen += 1
        if self.every_nth:
            return self.seen % self.every_nth == 0
        if self.per_second:
            while self.window and now - self.window[0] > 1.0:
                self.window.popleft()
            self.window.append(now)
            return len(self.window) > self.per_second
        return True


class Faults:
    """The active fault rules (thread-safe)."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()

    def add(self, spec: dict[str, Any]) -> FaultRule:
        known = {
            f for f in FaultRule.__dataclass_fields__ if f not in ("id", "seen", "fired", "window")
        }
        unknown = sorted(set(spec) - known)
        if unknown:
            raise ValueError(f"unknown fault field(s) {unknown}")
        rule = FaultRule(**spec)
        with self._lock:
            self._rules.append(rule)
        return rule

    def rules(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.public() for r in self._rules]

    def clear(self, rule_id: str | None = None) -> int:
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if rule_id is not None and r.id != rule_id]
            return before - len(self._rules)

    def take(self, kinds: tuple[str, ...], method: str, path: str) -> FaultRule | None:
        """The first rule of ``kinds`` that fires for this request (its count is consumed)."""
        fired = self._fire(kinds, method, path, first_only=True)
        return fired[0] if fired else None

    def latency_ms(self, method: str, path: str) -> int:
        """The latency every matching latency rule adds to this request."""
        return sum(r.latency_ms for r in self._fire(("latency",), method, path, first_only=False))

    def _fire(
        self, kinds: tuple[str, ...], method: str, path: str, *, first_only: bool
    ) -> list[FaultRule]:
        now = time.monotonic()
        fired: list[FaultRule] = []
        with self._lock:
            for rule in list(self._rules):
                if rule.kind not in kinds or not path.startswith(rule.path):
                    continue
                if (rule.method and rule.method != method) or (
                    rule.kind == "truncate" and method != "GET"
                ):
                    continue
                if not rule._selected(now):
                    continue
                rule.fired += 1
                if rule.count is not None:
                    rule.count -= 1
                    if rule.count <= 0:
                        self._rules.remove(rule)
                fired.append(rule)
                if first_only:
                    break
        return fired


class Stats:
    """Request counts per endpoint (method + path with keys and blob names folded)."""

    _KEY = re.compile(r"\([^/]*\)")

    def __init__(self) -> None:
        self._requests: Counter[str] = Counter()
        self._responses: Counter[str] = Counter()
        self._lock = threading.Lock()

    @classmethod
    def endpoint(cls, method: str, raw_path: str) -> str:
        path = cls._KEY.sub("(key)", raw_path)
        if path.startswith("/blob/dmf/"):
            path = "/blob/dmf"
        return f"{method} {path}"

    def record(self, endpoint: str) -> None:
        with self._lock:
            self._requests[endpoint] += 1

    def record_status(self, endpoint: str, status: int) -> None:
        with self._lock:
            self._responses[f"{endpoint} {status}"] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": sum(self._requests.values()),
                "requests": dict(self._requests),
                "responses": dict(self._responses),
            }

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._responses.clear()


class DroppedConnection(Exception):
    """Raised inside the ASGI stack to make the server drop a connection mid-response."""


class _QuietDrop(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, DroppedConnection)


logging.getLogger("uvicorn.error").addFilter(_QuietDrop())


def _error_response(rule: FaultRule) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    headers = [(b"content-type", b"application/json; charset=utf-8")]
    if rule.kind == "throttle":
        text = THROTTLE_MESSAGES[rule.message]
        if rule.retry_after is not None:
            headers.append((b"retry-after", str(rule.retry_after).encode()))
        body = orjson.dumps({"error": {"code": "", "message": text}}) if text else b""
        return 429, headers, body
    if rule.status == 500:
        inner = {"message": "An error has occurred.", "type": "", "stacktrace": ""}
        body = orjson.dumps(
            {"error": {"code": "", "message": "An error has occurred.", "innererror": inner}}
        )
    else:
        body = orjson.dumps({"error": {"code": "", "message": "The service is unavailable."}})
    if rule.status in (429, 503) and rule.retry_after is not None:
        headers.append((b"retry-after", str(rule.retry_after).encode()))
    return rule.status, headers, body


class FaultMiddleware:
    """Counts every request and applies the active faults before the routes see it."""

    def __init__(self, app: ASGIApp, state: EmulatorState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_emulator"):
            await self.app(scope, receive, send)
            return
        method: str = scope["method"]
        path: str = scope["path"]
        raw = scope.get("raw_path", path.encode()).decode("latin-1").split("?")[0]
        endpoint = Stats.endpoint(method, raw)
        stats, faults = self.state.stats, self.state.faults
        stats.record(endpoint)
        delay = self.state.options.latency_ms + faults.latency_ms(method, path)
        if delay:
            await asyncio.sleep(delay / 1000)
        rule = faults.take(_SERVING_KINDS, method, path)

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                stats.record_status(endpoint, message["status"])
            await send(message)

        if rule is not None and rule.kind in ("status", "throttle"):
            status, headers, body = _error_response(rule)
            await counting_send(
                {"type": "http.response.start", "status": status, "headers": headers}
            )
            await counting_send({"type": "http.response.body", "body": body})
            return
        if rule is not None:
            await self.app(scope, receive, _cutting_send(counting_send, rule))
            return
        await self.app(scope, receive, counting_send)


def _cutting_send(send: Send, rule: FaultRule) -> Send:
    """A ``send`` that forwards ``rule.fraction`` of the body, then drops the connection."""
    state: dict[str, int] = {"limit": -1, "sent": 0}

    async def cutting(message: Message) -> None:
        if message["type"] == "http.response.start":
            for name, value in message.get("headers", []):
                if name.lower() == b"content-length":
                    state["limit"] = int(int(value) * rule.fraction)
            await send(message)
            return
        if message["type"] != "http.response.body":
            await send(message)
            return
        body: bytes = message.get("body", b"")
        limit = state["limit"] if state["limit"] >= 0 else int(len(body) * rule.fraction)
        room = limit - state["sent"]
        if len(body) < room or (room >= len(body) and message.get("more_body")):
            state["sent"] += len(body)
            await send(message)
            return
        if room > 0:
            await send({"type": "http.response.body", "body": body[:room], "more_body": True})
        raise DroppedConnection(f"fault {rule.id}: connection dropped after {limit} bytes")

    return cutting
