"""Logging set-up: one function, and a filter that masks secrets in every record."""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from connectors.redact import redact

_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class RedactingFilter(logging.Filter):
    """Masks secrets in a record's message, arguments and traceback before any handler sees it.

    The message is rendered once (``getMessage``) and replaced by its redacted text, so secrets
    passed as ``%s`` arguments are caught too. A traceback is pre-rendered into ``exc_text``, which
    formatters reuse instead of formatting the exception again.
    """

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the record
            message = f"{record.msg!r} % {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install_redaction(logger: logging.Logger) -> None:
    """Add the redacting filter to ``logger``'s handlers (idempotent)."""
    for handler in logger.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())


def setup_logging(level: str | int = "INFO", *, stream: TextIO | None = None) -> None:
    """Configure the root logger once, with secrets masked in every record it handles.

    Handlers other libraries already installed (Prefect's, for instance) get the filter too.
    """
    root = logging.getLogger()
    root.setLevel(level if isinstance(level, int) else level.upper())
    ours = [h for h in root.handlers if getattr(h, "_clmsync", False)]
    if not ours:
        handler = logging.StreamHandler(stream or sys.stderr)
        handler.setFormatter(logging.Formatter(_FORMAT))
        handler._clmsync = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    install_redaction(root)
    for name in ("prefect", "uvicorn", "uvicorn.error", "uvicorn.access"):
        install_redaction(logging.getLogger(name))
    # urllib3 logs full URLs (with SAS signatures) at DEBUG; keep it at WARNING unless asked.
    logging.getLogger("urllib3").setLevel(max(logging.WARNING, root.level))
