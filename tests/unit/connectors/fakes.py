"""A fake transport for requests: routes requests to Python handlers, no sockets at all."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import NewConnectionError, ProtocolError

from connectors.http import RetryPolicy, build_session

Handler = Callable[[requests.PreparedRequest], "requests.Response | BaseException"]


def response(
    request: requests.PreparedRequest,
    status: int = 200,
    body: bytes | str | dict[str, Any] | list[Any] | None = None,
    headers: dict[str, str] | None = None,
) -> requests.Response:
    """A complete response to ``request``."""
    resp = requests.Response()
    resp.status_code = status
    merged = dict(headers or {})
    if isinstance(body, dict | list):
        payload = json.dumps(body).encode()
        merged.setdefault("Content-Type", "application/json")
    elif isinstance(body, str):
        payload = body.encode()
    else:
        payload = body or b""
    resp._content = payload
    resp._content_consumed = True
    resp.headers = CaseInsensitiveDict(merged)
    resp.url = request.url or ""
    resp.request = request
    resp.encoding = "utf-8"
    return resp


class _BrokenRaw:
    """A raw body that delivers some bytes, then breaks like a dropped connection."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, chunk_size: int, decode_content: bool = True) -> Iterator[bytes]:
        yield self._data
        raise ProtocolError("Connection broken: IncompleteRead")

    def close(self) -> None:
        return None


def truncated(
    request: requests.PreparedRequest, data: bytes, full_length: int
) -> requests.Response:
    """A 200 whose body stops after ``data`` though it announced ``full_length`` bytes."""
    resp = requests.Response()
    resp.status_code = 200
    resp.headers = CaseInsensitiveDict({"Content-Length": str(full_length)})
    resp.raw = _BrokenRaw(data)
    resp.url = request.url or ""
    resp.request = request
    return resp


def refused() -> requests.ConnectionError:
    """The exception requests raises when nothing listens on the port."""
    reason = NewConnectionError(None, "Failed to establish a new connection: [Errno 111]")  # type: ignore[arg-type]
    return requests.ConnectionError(reason)


@dataclass
class FakeTransport(BaseAdapter):
    """Routes requests to handlers by method and URL regex; records every request."""

    routes: list[tuple[str, re.Pattern[str], Handler]] = field(default_factory=list)
    requests: list[requests.PreparedRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()

    def on(self, method: str, pattern: str, handler: Handler) -> FakeTransport:
        self.routes.insert(0, (method.upper(), re.compile(pattern), handler))
        return self

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.requests.append(request)
        for method, pattern, handler in self.routes:
            if method in ("*", request.method) and pattern.search(request.url or ""):
                outcome = handler(request)
                if isinstance(outcome, BaseException):
                    raise outcome
                return outcome
        return response(request, 404, {"error": {"message": f"no route for {request.url}"}})

    def close(self) -> None:
        return None

    def count(self, method: str, pattern: str) -> int:
        regex = re.compile(pattern)
        return sum(
            1 for r in self.requests if r.method == method.upper() and regex.search(r.url or "")
        )


def sequence(*outcomes: Handler) -> Handler:
    """A handler answering with each outcome in turn, repeating the last one."""
    calls = {"n": 0}

    def handle(request: requests.PreparedRequest) -> requests.Response | BaseException:
        index = min(calls["n"], len(outcomes) - 1)
        calls["n"] += 1
        return outcomes[index](request)

    return handle


def fake_session(transport: FakeTransport) -> requests.Session:
    session = build_session()
    session.mount("https://", transport)
    session.mount("http://", transport)
    return session


class Clock:
    """A fake monotonic clock whose sleeps only move time forward."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def fast_policy(clock: Clock, **kwargs: Any) -> RetryPolicy:
    options: dict[str, Any] = {"deadline": 600.0, "sleep": clock.sleep, "clock": clock}
    options.update(kwargs)
    return RetryPolicy(**options)


class StaticTokens:
    """A token source that counts how often it was asked and invalidated."""

    def __init__(self, *tokens: str) -> None:
        self._tokens = list(tokens) or ["token-1"]
        self.index = 0
        self.invalidated = 0

    def token(self) -> str:
        return self._tokens[min(self.index, len(self._tokens) - 1)]

    def invalidate(self) -> None:
        self.invalidated += 1
        self.index += 1
