from __future__ import annotations

import logging
from email.utils import formatdate
from pathlib import Path

import pytest
import requests

from connectors.errors import RetryDeadlineExceeded
from connectors.http import build_session, parse_retry_after, request_may_have_been_sent
from tests.unit.connectors.fakes import (
    Clock,
    FakeTransport,
    fake_session,
    fast_policy,
    refused,
    response,
    sequence,
)

URL = "https://scm.example/data/VendorsV2"


def _call(session: requests.Session, clock: Clock, method: str = "GET", **kwargs: object):
    policy = fast_policy(clock, **kwargs)  # type: ignore[arg-type]
    return policy.call(
        lambda: session.request(method, URL), what=f"{method} VendorsV2", method=method
    )


def test_429_waits_what_retry_after_says_then_succeeds() -> None:
    clock = Clock()
    transport = FakeTransport().on(
        "GET",
        "VendorsV2",
        sequence(
            lambda r: response(
                r,
                429,
                "Number of concurrent requests exceeded the limit of 52.",
                {"Retry-After": "7"},
            ),
            lambda r: response(r, 200, {"value": []}),
        ),
    )
    result = _call(fake_session(transport), clock)
    assert result.status_code == 200
    assert clock.sleeps == [7.0]


def test_retry_after_as_http_date() -> None:
    assert parse_retry_after("120") == 120.0
    when = formatdate(timeval=__import__("time").time() + 60, usegmt=True)
    seconds = parse_retry_after(when)
    assert seconds is not None
    assert 55 <= seconds <= 61
    assert parse_retry_after("not a date") is None
    assert parse_retry_after(None) is None


def test_retry_after_is_capped_and_defaulted() -> None:
    clock = Clock()
    transport = FakeTransport().on(
        "GET",
        "VendorsV2",
        sequence(
            lambda r: response(r, 429, "", {"Retry-After": "100000"}),
            lambda r: response(r, 429, ""),  # no header: the default wait
            lambda r: response(r, 200, {}),
        ),
    )
    _call(
        fake_session(transport),
        clock,
        max_retry_after=300.0,
        default_retry_after=30.0,
        deadline=10_000.0,
    )
    assert clock.sleeps == [300.0, 30.0]


def test_503_backs_off_with_full_jitter_and_gives_back_the_last_answer() -> None:
    clock = Clock()
    transport = FakeTransport().on("GET", "VendorsV2", lambda r: response(r, 503, "down"))
    result = _call(fake_session(transport), clock, max_attempts=4, base_backoff=2.0)
    assert result.status_code == 503
    assert transport.count("GET", "VendorsV2") == 4
    ceilings = [2.0, 4.0, 8.0]
    assert len(clock.sleeps) == 3
    assert all(0 <= s <= c for s, c in zip(clock.sleeps, ceilings, strict=True))


def test_deadline_stops_retries_before_a_wait_would_pass_it() -> None:
    clock = Clock()
    transport = FakeTransport().on(
        "GET", "VendorsV2", lambda r: response(r, 429, "", {"Retry-After": "40"})
    )
    result = _call(fake_session(transport), clock, deadline=100.0)
    assert result.status_code == 429
    assert clock.sleeps == [40.0, 40.0]  # a third wait would end at 120 s


def test_post_is_not_resent_after_a_502_or_a_read_timeout() -> None:
    clock = Clock()
    transport = FakeTransport().on("POST", "VendorsV2", lambda r: response(r, 502, "gateway"))
    assert _call(fake_session(transport), clock, method="POST").status_code == 502
    assert transport.count("POST", "VendorsV2") == 1
    transport = FakeTransport().on(
        "POST", "VendorsV2", lambda r: requests.ReadTimeout("read timed out")
    )
    with pytest.raises(requests.ReadTimeout):
        _call(fake_session(transport), clock, method="POST")
    assert transport.count("POST", "VendorsV2") == 1


def test_post_is_resent_when_the_server_did_not_process_it() -> None:
    clock = Clock()
    transport = FakeTransport().on(
        "POST",
        "VendorsV2",
        sequence(
            lambda r: refused(),
            lambda r: response(r, 429, "", {"Retry-After": "1"}),
            lambda r: response(r, 503, "busy"),
            lambda r: response(r, 201, {"ok": True}),
        ),
    )
    assert _call(fake_session(transport), clock, method="POST").status_code == 201
    assert transport.count("POST", "VendorsV2") == 4


def test_get_survives_dropped_connections_and_timeouts() -> None:
    clock = Clock()
    transport = FakeTransport().on(
        "GET",
        "VendorsV2",
        sequence(
            lambda r: requests.ConnectionError("Connection aborted."),
            lambda r: requests.ReadTimeout("slow"),
            lambda r: response(r, 200, {}),
        ),
    )
    assert _call(fake_session(transport), clock).status_code == 200


def test_transport_failures_past_the_attempts_raise_deadline_exceeded() -> None:
    clock = Clock()
    transport = FakeTransport().on("GET", "VendorsV2", lambda r: refused())
    with pytest.raises(RetryDeadlineExceeded) as caught:
        _call(fake_session(transport), clock, max_attempts=3)
    assert "ConnectionError" in caught.value.last_reason
    assert transport.count("GET", "VendorsV2") == 3


def test_business_rule_500_and_certificate_errors_are_not_retried() -> None:
    clock = Clock()
    body = {
        "error": {
            "message": "An error has occurred.",
            "innererror": {"message": "Write failed", "type": "...OData.AxODataWriteException"},
        }
    }
    transport = FakeTransport().on("GET", "VendorsV2", lambda r: response(r, 500, body))
    assert _call(fake_session(transport), clock).status_code == 500
    assert transport.count("GET", "VendorsV2") == 1
    transport = FakeTransport().on(
        "GET", "VendorsV2", lambda r: requests.exceptions.SSLError("certificate verify failed")
    )
    with pytest.raises(requests.exceptions.SSLError):
        _call(fake_session(transport), clock)
    assert transport.count("GET", "VendorsV2") == 1


def test_each_wait_is_logged_at_info_with_its_reason_and_no_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    transport = FakeTransport().on(
        "GET",
        "VendorsV2",
        sequence(
            lambda r: response(
                r, 429, "throttled https://x/blob?sig=SECRETSIG", {"Retry-After": "3"}
            ),
            lambda r: response(r, 200, {}),
        ),
    )
    with caplog.at_level(logging.INFO, logger="connectors.http"):
        _call(fake_session(transport), clock)
    waits = [r for r in caplog.records if "waiting" in r.getMessage()]
    assert len(waits) == 1
    assert waits[0].levelno == logging.INFO
    assert "HTTP 429 (Retry-After 3)" in waits[0].getMessage()
    assert "SECRETSIG" not in waits[0].getMessage()


def test_connect_failures_are_known_to_be_unsent() -> None:
    assert request_may_have_been_sent(refused()) is False
    assert request_may_have_been_sent(requests.ConnectTimeout("x")) is False
    assert request_may_have_been_sent(requests.ReadTimeout("x")) is True
    assert request_may_have_been_sent(requests.ConnectionError("Connection aborted.")) is True


def test_session_with_a_ca_bundle_ignores_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/somewhere/else.pem")
    session = build_session(ca_bundle=ca, user_agent="clmsync-test")
    assert session.trust_env is False
    assert session.verify == str(ca)
    settings = session.merge_environment_settings("https://x/", {}, None, None, None)
    assert settings["verify"] == str(ca)
    assert session.headers["User-Agent"] == "clmsync-test"
    assert "Authorization" not in session.headers
    with pytest.raises(FileNotFoundError):
        build_session(ca_bundle=tmp_path / "missing.pem")


def test_session_applies_its_default_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    captured: list[object] = []

    def parent_send(self, request, **kwargs):  # type: ignore[no-untyped-def]
        captured.append(kwargs.get("timeout"))
        return response(request, 200, {})

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", parent_send)
    session = build_session(timeout=12.5)
    session.get("https://x/")
    session.get("https://x/", timeout=3)
    assert captured == [12.5, 3]
