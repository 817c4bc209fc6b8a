"""No secret outlives the request it was sent in: after whole runs (one failing through the
command line with tracebacks shown, one failing on refused blob URLs and one succeeding under
faults that make the connectors retry, refresh tokens and ask for fresh blob URLs, both with
every log at DEBUG), the client secret, every access token the emulator issued, every blob
``sig`` it signed and the CLM API key appear nowhere in the logs, the runs' artifacts and
reports, the error messages, the files the runs left (landing, warehouse folder), any text of
any table of the warehouse, or the analytics snapshot.

The secrets are the real ones: the emulator (in this process) records each token and signature
as it issues them, so the scan looks for exact values, plus anything shaped like a token or an
unmasked ``sig=``. Prefect's stored logs and artifacts are scanned by ``tests/e2e``
(``test_no_secret_in_any_log_or_artifact``, ``test_secrets_are_masked_in_the_logs_the_api_stores``).
"""

from __future__ import annotations

import io
import logging
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import duckdb
import pytest

from connectors.logs import RedactingFilter, install_redaction
from emulator import entra
from emulator.blob import BlobStore
from flows import artifacts
from flows.steps.run import RunOptions, run_pipeline
from flows.steps.runner import PlainRunner
from flows.steps.summary import RunReport
from tests.reliability import crashkit
from tests.reliability.harness import Bed

SHAPES = (
    re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}"),  # a JWT
    re.compile(r"(?i)[?&]sig=(?!\*\*\*)[^&\s\"'<>]"),  # a SAS signature left unmasked
)
SQL_SHAPES = ("eyJ[A-Za-z0-9_-]{4,}\\.[A-Za-z0-9_-]{4,}", "[?&][sS][iI][gG]=[^*&\\s]")
# Faults that make secrets travel more: fresh tokens, fresh blob URLs, downloads fetched again.
EXPORTS = "/scm/data/DataManagementDefinitionGroups/export"
RETRIED = [
    {"kind": "token_expiry", "expires_in": 3},
    {"kind": "blob_expired", "count": 2},
    {"kind": "truncate", "count": 1, "fraction": 0.5},
    {"kind": "status", "status": 401, "path": "/scm/data", "method": "GET", "count": 1},
]


@dataclass
class Issued:
    """What the emulator handed out while the runs went on."""

    tokens: set[str] = field(default_factory=set)
    signatures: set[str] = field(default_factory=set)


@dataclass
class Traces:
    secrets: dict[str, str]  # secret → what it is
    texts: dict[str, str] = field(default_factory=dict)  # where → text the runs left
    databases: list[Path] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


class ArtifactRunner(PlainRunner):
    """The plain runner, keeping what the Prefect runner would publish as artifacts."""

    def __init__(self) -> None:
        super().__init__(approved=True, retry_delays=(0.2,))
        self.published: list[str] = []

    def publish_report(self, report: RunReport, mismatches_markdown: str) -> None:
        rows = artifacts.summary_rows(report)
        self.published += [str(rows), artifacts.steps_markdown(report), mismatches_markdown]


@pytest.fixture(scope="module")
def traces(bed: Bed, tmp_path_factory: pytest.TempPathFactory) -> Traces:
    folder = tmp_path_factory.mktemp("secrets")
    bed.restore()
    issued = Issued()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(entra, "issue_token", _recording(entra.issue_token, issued.tokens.add))
        patch.setattr(BlobStore, "url", _recording(BlobStore.url, _add_signature(issued)))
        failed_output = _failing_cli_run(bed, folder)
        logs, (failed, report), runner = _logged_runs(bed)
    assert failed.status == "failed"
    assert report.status == "succeeded", report.error
    assert len(issued.tokens) > 3, len(issued.tokens)  # short-lived tokens were renewed
    assert issued.signatures
    secrets = {bed.info.client_secret: "the client secret", bed.info.clm_api_key: "the CLM key"}
    secrets |= dict.fromkeys(issued.tokens, "an access token")
    secrets |= dict.fromkeys(issued.signatures, "a blob sig")
    warehouse = bed.warehouse.parent
    return Traces(
        secrets=secrets,
        texts={
            "the failing command's output": failed_output,
            "the failed run's error": "\n".join(
                [str(failed.as_dict()), *traceback.format_exception(failed.exception)]
            ),
            "the logs (DEBUG)": logs,
            "the run's report": str(report.as_dict()),
            "the run's artifacts": "\n".join(runner.published),
        },
        databases=[bed.warehouse, Path(bed.settings.warehouse.analytics_path)],
        files=sorted(p for p in warehouse.rglob("*") if p.is_file()),
    )


def _recording(original: Callable[..., str], keep: Callable[[str], None]) -> Callable[..., str]:
    def wrapper(*args: Any, **kwargs: Any) -> str:
        value = original(*args, **kwargs)
        keep(value)
        return value

    return wrapper


def _add_signature(issued: Issued) -> Callable[[str], None]:
    def keep(url: str) -> None:
        issued.signatures.update(parse_qs(urlsplit(url).query)["sig"])

    return keep


def _failing_cli_run(bed: Bed, folder: Path) -> str:
    """``clmsync --debug run`` failing in the extract (an export that SCM fails): its output."""
    config = crashkit.write_config(bed.settings, folder / "clmsync.toml")
    log = folder / "failing-run.log"
    bed.info.set_fault(kind="execution", outcome="Failed", path=EXPORTS, count=1)
    try:
        code = crashkit.spawn_run(config, None, log, debug=True)
    finally:
        bed.info.clear_faults()
    output = log.read_text()
    assert code == 1, output
    assert "Traceback" in output  # --debug: the whole exception chain is printed
    return output


def _logged_runs(bed: Bed) -> tuple[str, tuple[RunReport, RunReport], ArtifactRunner]:
    """Two runs in this process with the root logger at DEBUG (urllib3 too) and the product's
    redaction installed on it, as the flows install it: one failing on blob URLs SCM keeps
    refusing, then one succeeding under :data:`RETRIED`; returns everything logged."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in ("", "urllib3")}
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    logging.getLogger("urllib3").setLevel(logging.DEBUG)
    install_redaction(root)
    assert any(isinstance(f, RedactingFilter) for f in handler.filters)
    runner = ArtifactRunner()
    try:
        bed.info.set_fault(kind="blob_expired")
        failed = run_pipeline(bed.settings, RunOptions(approved=True), runner)
        bed.info.clear_faults()
        for spec in RETRIED:
            bed.info.set_fault(**spec)
        report = run_pipeline(bed.settings, RunOptions(approved=True), runner)
    finally:
        bed.info.clear_faults()
        root.removeHandler(handler)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
    assert "sig=***" in buffer.getvalue()  # URLs were logged, masked
    return buffer.getvalue(), (failed, report), runner


def _found(text: str, secrets: dict[str, str]) -> list[str]:
    hits = [what for secret, what in secrets.items() if secret in text]
    return hits + [f"something shaped like {p.pattern}" for p in SHAPES if p.search(text)]


def test_no_secret_in_logs_artifacts_reports_or_error_messages(traces: Traces) -> None:
    for where, text in traces.texts.items():
        assert text, where
        assert not _found(text, traces.secrets), where


def test_no_secret_in_any_file_the_runs_left(traces: Traces) -> None:
    assert traces.databases[0] in traces.files  # the warehouse folder, with what it holds
    for path in traces.files:
        text = path.read_bytes().decode("latin-1")
        assert not _found(text, traces.secrets), path.name


def test_no_secret_in_any_table_of_the_warehouse_or_the_snapshot(traces: Traces) -> None:
    values = ", ".join(f"({_literal(s)})" for s in traces.secrets)
    shapes = " OR ".join(f"regexp_matches(row, {_literal(p)})" for p in SQL_SHAPES)
    for database in traces.databases:
        con = duckdb.connect(str(database), read_only=True)
        try:
            tables = con.execute(
                "SELECT schema_name, table_name FROM duckdb_tables() "
                "WHERE database_name = current_database() ORDER BY ALL"
            ).fetchall()
            assert len(tables) > 20, database.name
            for schema, table in tables:
                # Every column of every row, nested values included, as text.
                hits = con.execute(
                    f'WITH t AS (SELECT CAST(x AS VARCHAR) AS row FROM "{schema}"."{table}" x), '
                    f"s(secret) AS (VALUES {values}) "
                    "SELECT (SELECT count(*) FROM t, s WHERE contains(t.row, s.secret)), "
                    f"(SELECT count(*) FROM t WHERE {shapes})"
                ).fetchall()[0]
                assert hits == (0, 0), f"{database.name}: {schema}.{table}"
        finally:
            con.close()


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
