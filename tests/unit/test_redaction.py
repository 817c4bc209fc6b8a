"""Every kind of secret is masked in log output and in exception messages."""

from __future__ import annotations

import io
import logging

import pytest

from connectors.errors import DownloadError, ODataRequestError
from connectors.logs import setup_logging
from connectors.redact import MASK, redact, register_secret

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjbG1zeW5jIn0.c2lnbmF0dXJlLXBhcnQ"
SAS_URL = (
    "https://127.0.0.1:8443/blob/dmf/pkg.zip?sv=2022-11-02&se=2026-11-26T12%3A00%3A00Z"
    "&sp=r&sig=AbC%2Fdef123%3D&x=1"
)

CASES = {
    "bearer header": (f"Authorization: Bearer {JWT}", [JWT]),
    "bare jwt": (f"token was {JWT} then", [JWT]),
    "opaque bearer": ("sent Bearer abc.DEF-123_xyz~", ["abc.DEF-123_xyz~"]),
    "sas signature": (f"GET {SAS_URL} -> 403", ["AbC%2Fdef123%3D"]),
    "form client secret": (
        "grant_type=client_credentials&client_secret=p%40ss&scope=x",
        ["p%40ss"],
    ),
    "json access token": (
        '{"access_token": "opaque-token-value", "expires_in": 3599}',
        ["opaque-token-value"],
    ),
    "api key header": ("headers={'X-Api-Key': 'k-123456'}", ["k-123456"]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_patterns_mask(name: str) -> None:
    text, secrets = CASES[name]
    out = redact(text)
    for secret in secrets:
        assert secret not in out
    assert MASK in out


def test_registered_values_are_masked_anywhere() -> None:
    register_secret("plain-Client-Secret-42")
    assert "plain-Client-Secret-42" not in redact("cfg: plain-Client-Secret-42!")


def test_sas_url_keeps_everything_but_the_signature() -> None:
    out = redact(SAS_URL)
    assert out.startswith("https://127.0.0.1:8443/blob/dmf/pkg.zip?sv=2022-11-02")
    assert "&sig=***&x=1" in out


@pytest.fixture
def captured() -> io.StringIO:
    stream = io.StringIO()
    root = logging.getLogger()
    old = root.handlers[:]
    root.handlers = []
    setup_logging("DEBUG", stream=stream)
    yield stream
    root.handlers = old


@pytest.mark.parametrize("name", sorted(CASES))
def test_log_records_are_masked(captured: io.StringIO, name: str) -> None:
    text, secrets = CASES[name]
    logging.getLogger("clmsync.test").info("message %s", text)
    output = captured.getvalue()
    assert "message" in output
    for secret in secrets:
        assert secret not in output


def test_tracebacks_in_logs_are_masked(captured: io.StringIO) -> None:
    try:
        raise RuntimeError(f"upstream said {SAS_URL}")
    except RuntimeError:
        logging.getLogger("clmsync.test").exception("download failed")
    output = captured.getvalue()
    assert "RuntimeError" in output
    assert "AbC%2Fdef123%3D" not in output


def test_exception_messages_are_masked() -> None:
    register_secret("another-secret-777")
    errors = [
        ODataRequestError(f"refused {JWT}", status=400, method="GET", url=SAS_URL),
        DownloadError(SAS_URL, "client_secret=another-secret-777 leaked"),
    ]
    for error in errors:
        text = str(error)
        assert JWT not in text
        assert "AbC%2Fdef123%3D" not in text
        assert "another-secret-777" not in text
