"""Masking of secrets in any text: log records, exception messages, artifacts.

Two mechanisms work together. Patterns catch secrets by their shape wherever they appear
(bearer tokens, JWTs, the ``sig=`` of a blob SAS URL, ``client_secret=`` form fields, API key
headers). Registered values catch secrets that have no recognisable shape (a client secret or an
API key read from the settings is registered once, at start-up, and masked verbatim from then on).
"""

from __future__ import annotations

import re
import threading

MASK = "***"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Authorization headers and any "Bearer <token>" in free text.
    (re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9\-._~+/]+=*"), rf"\g<1>{MASK}"),
    # JWTs (Entra access tokens) wherever they appear, with or without a Bearer prefix.
    (re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), MASK),
    # The signature of an Azure Blob SAS URL (and of the emulator's blob URLs).
    (re.compile(r"(?i)([?&]sig=)[^&\s\"'<>]+"), rf"\g<1>{MASK}"),
    # OAuth form fields and JSON/TOML style assignments of secrets.
    (
        re.compile(
            r"(?i)(\b(?:client_secret|access_token|refresh_token|api_key|apikey|x-api-key|"
            r"client_assertion|password)\b[\"']?\s*[:=]\s*[\"']?)[^\s\"'&,;}]+"
        ),
        rf"\g<1>{MASK}",
    ),
)

_registered: set[str] = set()
_lock = threading.Lock()
_MIN_SECRET_LENGTH = 4


def register_secret(value: str | None) -> None:
    """Mask ``value`` verbatim in everything redacted from now on (short values are ignored)."""
    if value and len(value) >= _MIN_SECRET_LENGTH:
        with _lock:
            _registered.add(value)


def registered_secrets() -> frozenset[str]:
    """The values registered so far (for tests that scan outputs for leaks)."""
    with _lock:
        return frozenset(_registered)


def redact(text: str) -> str:
    """Return ``text`` with every known secret and every secret-shaped substring masked."""
    if not text:
        return text
    with _lock:
        values = sorted(_registered, key=len, reverse=True)
    for value in values:
        if value in text:
            text = text.replace(value, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text
