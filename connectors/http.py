"""The one HTTP session factory and the one retry policy every connector uses.

``build_session`` makes a ``requests.Session`` with a default timeout, a user agent and, when a CA
bundle is configured, ``trust_env=False`` so that ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` in the
environment cannot silently replace it (see the platform notes).

``RetryPolicy`` decides, for one logical call, whether an attempt that failed is tried again and
how long to wait first. urllib3's ``Retry`` cannot do three things this project needs, so the loop
is written here: a deadline that spans all attempts of a call, a wait logged at INFO with its
reason, and a per-call notion of "safe to resend" (an ``ImportFromPackage`` that timed out must
never be resent; a status poll may be). urllib3's own ``Retry-After`` parser is reused.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, InvalidHeader
from urllib3.util.retry import Retry

from connectors.errors import RetryDeadlineExceeded
from connectors.redact import redact

log = logging.getLogger(__name__)

DEFAULT_USER_AGENT = "clmsync/0.1"
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# Statuses that say "not now": the request may be sent again.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Statuses after which the server certainly did not act on the request, so even a POST may be
# resent: a throttled request "is not processed" (reference §5.4), and 503 is refused up front.
UNPROCESSED_STATUSES = frozenset({429, 503})
# A 500 carrying this type is a business-rule failure (SCM's): it fails the same way every time.
WRITE_EXCEPTION = "AxODataWriteException"


class _TimeoutAdapter(HTTPAdapter):
    """An adapter that applies a default timeout when a request names none."""

    def __init__(self, timeout: float | tuple[float, float], **kwargs: Any) -> None:
        self._timeout = timeout
        super().__init__(**kwargs)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        return super().send(request, **kwargs)


def build_session(
    *,
    ca_bundle: Path | None = None,
    user_agent: str = DEFAULT_USER_AGENT,
    timeout: float | tuple[float, float] = 60.0,
    pool_maxsize: int = 16,
    proxies: Mapping[str, str] | None = None,
) -> requests.Session:
    """Return a session for every call clmsync makes.

    ``timeout`` (seconds, or a ``(connect, read)`` pair) applies to any request that does not set
    its own. With a ``ca_bundle`` the session trusts only that bundle and ignores the environment
    (proxies then come only from ``proxies``). The session carries no credentials: each client
    adds its own per request, so nothing leaks to a blob URL.
    """
    session = requests.Session()
    adapter = _TimeoutAdapter(timeout, pool_connections=4, pool_maxsize=pool_maxsize)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = user_agent
    if ca_bundle is not None:
        if not Path(ca_bundle).is_file():
            raise FileNotFoundError(f"CA bundle {ca_bundle} does not exist")
        session.trust_env = False
        session.verify = str(ca_bundle)
    if proxies:
        session.proxies.update(proxies)
    return session


def request_may_have_been_sent(exc: BaseException) -> bool:
    """False only when ``exc`` proves the request never left: the connection was not made."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return False
    if isinstance(exc, requests.exceptions.SSLError):
        return False
    if isinstance(exc, requests.exceptions.ConnectionError):
        reason: object = exc.args[0] if exc.args else None
        seen = 0
        while reason is not None and seen < 5:  # MaxRetryError -> NewConnectionError -> ...
            if isinstance(reason, ConnectTimeoutError):  # NewConnectionError derives from it
                return False
            reason = getattr(reason, "reason", None)
            seen += 1
    return True


def _retryable_exception(exc: BaseException) -> bool:
    # A certificate problem fails the same way on every attempt.
    if isinstance(exc, requests.exceptions.SSLError):
        return False
    return isinstance(
        exc,
        requests.exceptions.ConnectionError
        | requests.exceptions.Timeout
        | requests.exceptions.ChunkedEncodingError,
    )


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: seconds (integer, or decimal, leniently) or
    an HTTP date. None when absent or unreadable (the caller then uses its default)."""
    if not value:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        return max(0.0, Retry().parse_retry_after(text))
    except (InvalidHeader, TypeError, ValueError, OverflowError):
        return None


@dataclass
class RetryPolicy:
    """When to try a call again and how long to wait.

    ``deadline`` bounds one call, all attempts and waits included. ``max_attempts`` bounds the
    attempts spent on failures that are not throttling; a 429 does not count against it (as
    Microsoft's own scheduler does) but the deadline still applies. Backoff is exponential with
    full jitter, capped at ``max_backoff``; a ``Retry-After`` is honoured as sent, capped at
    ``max_retry_after``, and a 429 without one waits ``default_retry_after``.
    """

    deadline: float = 900.0
    max_attempts: int = 6
    base_backoff: float = 1.0
    max_backoff: float = 60.0
    default_retry_after: float = 30.0
    max_retry_after: float = 300.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    rng: random.Random = field(default_factory=random.Random)

    def backoff(self, failures: int) -> float:
        """Full jitter: a uniform wait in [0, min(cap, base * 2**(failures-1))]."""
        ceiling = min(self.max_backoff, self.base_backoff * (2 ** max(0, failures - 1)))
        return self.rng.uniform(0, ceiling)

    def call(
        self,
        attempt: Callable[[], requests.Response],
        *,
        what: str,
        method: str,
        idempotent: bool | None = None,
    ) -> requests.Response:
        """Run ``attempt`` until it returns a final response or retrying is no longer allowed.

        Returns the last response even when it is a retryable failure whose retries ran out, so
        the caller can turn the server's own words into its error. Raises the transport exception
        when it may not be retried, and :class:`RetryDeadlineExceeded` when a retryable transport
        failure outlasted the deadline or the attempts.
        """
        if idempotent is None:
            idempotent = method.upper() in IDEMPOTENT_METHODS
        what = redact(what)
        start = self.clock()
        failures = 0
        attempts = 0
        while True:
            attempts += 1
            try:
                response = attempt()
            except Exception as exc:
                if not _retryable_exception(exc):
                    raise
                if not idempotent and request_may_have_been_sent(exc):
                    raise
                failures += 1
                reason = f"{type(exc).__name__}: {redact(str(exc))[:200]}"
                wait = self.backoff(failures)
                if failures >= self.max_attempts or not self._has_time(start, wait):
                    raise RetryDeadlineExceeded(
                        what, waited=self.clock() - start, last_reason=reason
                    ) from exc
                self._wait(wait, what=what, reason=reason, attempts=attempts)
                continue
            decision = self._decide(response, idempotent=idempotent, failures=failures)
            if decision is None:
                return response
            wait, reason, counts = decision
            if counts:
                failures += 1
                if failures >= self.max_attempts:
                    return response
            if not self._has_time(start, wait):
                log.info(
                    "%s: not retrying after %s; waiting %.1f s would pass the %.0f s deadline",
                    what,
                    reason,
                    wait,
                    self.deadline,
                )
                return response
            response.close()
            self._wait(wait, what=what, reason=reason, attempts=attempts)

    def _decide(
        self, response: requests.Response, *, idempotent: bool, failures: int
    ) -> tuple[float, str, bool] | None:
        """(wait, reason, counts-against-attempts) for a retryable response, else None."""
        status = response.status_code
        if status not in RETRY_STATUSES:
            return None
        if not idempotent and status not in UNPROCESSED_STATUSES:
            return None
        if status == 500 and WRITE_EXCEPTION in _peek(response):
            return None
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        detail = _short_message(response)
        if status == 429:
            wait = self.default_retry_after if retry_after is None else retry_after
            shown = "none" if retry_after is None else response.headers.get("Retry-After")
            reason = f"HTTP 429 (Retry-After {shown}){detail}"
            return min(wait, self.max_retry_after), reason, False
        if retry_after is not None:
            wait = min(retry_after, self.max_retry_after)
            reason = f"HTTP {status} (Retry-After {response.headers.get('Retry-After')}){detail}"
        else:
            wait = self.backoff(failures + 1)
            reason = f"HTTP {status}{detail}"
        return wait, reason, True

    def _has_time(self, start: float, wait: float) -> bool:
        return self.clock() - start + wait <= self.deadline

    def _wait(self, seconds: float, *, what: str, reason: str, attempts: int) -> None:
        log.info(
            "%s: waiting %.1f s before attempt %d: %s", what, seconds, attempts + 1, redact(reason)
        )
        self.sleep(seconds)


def _peek(response: requests.Response) -> str:
    """The start of a (non-streamed) response body as text, for classification only."""
    try:
        return response.text[:4000]
    except Exception:  # an unreadable body says nothing either way
        return ""


def _short_message(response: requests.Response) -> str:
    text = _peek(response).strip()
    if not text:
        return ""
    return ": " + redact(" ".join(text.split()))[:160]
