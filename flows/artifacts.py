"""The run's summary as tables and markdown: for Prefect artifacts and for the command line.

The builders here are plain functions over a :class:`~flows.steps.summary.RunReport` and rows read
from the warehouse; only :func:`publish` talks to Prefect (imported there, so the command line
never pays for it). Nothing here can carry a secret: the figures are counts, the mismatch rows
are business data, and every text that came from an error was redacted when the error was made.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from connectors.redact import redact
from warehouse import db

if TYPE_CHECKING:
    from flows.steps.summary import RunReport

TOP_MISMATCHES = 20
_KEY = re.compile(r"[^a-z0-9-]+")


def artifact_key(*parts: str) -> str:
    """A Prefect artifact key (lowercase letters, digits and dashes) from ``parts``."""
    return _KEY.sub("-", "-".join(parts).lower()).strip("-")


def format_counts(counts: dict[str, int]) -> str:
    """``{"a": 2, "b": 1}`` → ``"a=2, b=1"`` (sorted, zeros left out)."""
    return ", ".join(f"{k}={v}" for k, v in sorted(counts.items()) if v)


def parse_counts(text: str) -> dict[str, int]:
    """The inverse of :func:`format_counts`."""
    out: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, _, value = part.partition("=")
        out[key] = int(value)
    return out


def summary_rows(report: RunReport) -> list[dict[str, Any]]:
    """One row per entity (and a total): the run summary table."""
    rows: list[dict[str, Any]] = []
    for name, f in (*sorted(report.entities.items()), ("total", report.totals())):
        rows.append(
            {
                "entity": name,
                "extracted": f.extracted,
                "landed": f.landed,
                "quarantined": f.quarantined,
                "mismatches": sum(f.mismatches.values()),
                "by_kind": format_counts(f.mismatches),
                "planned": f.planned,
                "pushed": sum(f.pushed.values()),
                "by_channel": format_counts(f.pushed),
                "failed": f.failed,
                "verified": f.verified,
            }
        )
    return rows


def top_mismatches(
    con: duckdb.DuckDBPyConnection, limit: int = TOP_MISMATCHES
) -> tuple[list[tuple[str, int]], list[dict[str, Any]]]:
    """Counts per kind and the ``limit`` most recently seen mismatches (newest first)."""
    if not db.relation_exists(con, "reports", "rpt_mismatches"):
        return [], []
    kinds = [
        (str(k), int(n))
        for k, n in con.execute(
            "SELECT kind, count(*) FROM reports.rpt_mismatches GROUP BY kind ORDER BY 2 DESC, 1"
        ).fetchall()
    ]
    cur = con.execute(
        "SELECT kind, entity, legal_entity, record_key, field, scm_value, clm_value "
        "FROM reports.rpt_mismatches "
        "ORDER BY last_seen_at DESC NULLS LAST, kind, entity, legal_entity, record_key, field "
        f"LIMIT {int(limit)}"
    )
    names = [d[0] for d in cur.description or ()]
    return kinds, [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= 60 else text[:57] + "..."


def markdown_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def mismatches_markdown(
    kinds: Sequence[tuple[str, int]], rows: Sequence[dict[str, Any]], analytics_path: Path
) -> str:
    """The top mismatches and how to query all of them in the analytics snapshot."""
    total = sum(n for _, n in kinds)
    parts = [f"# Open mismatches: {total:,}"]
    if kinds:
        parts.append(
            markdown_table([{"kind": k, "open": f"{n:,}"} for k, n in kinds], ["kind", "open"])
        )
    if rows:
        parts.append(f"## The {len(rows)} most recently seen")
        parts.append(
            markdown_table(
                rows,
                ["kind", "entity", "legal_entity", "record_key", "field", "scm_value", "clm_value"],
            )
        )
    example = kinds[0][0] if kinds else "amended_price"
    parts.append(
        "## Query the rest\n"
        f"The analytics snapshot `{analytics_path}` is read-only and can be queried while the "
        "next run goes on, with the DuckDB command line or from Python "
        f"(`duckdb.connect('{analytics_path}', read_only=True)`):\n\n"
        "```sh\n"
        f"duckdb -readonly {analytics_path}\n"
        "```\n\n"
        "```sql\n"
        "-- every open mismatch of one kind\n"
        f"select * from reports.rpt_mismatches where kind = '{example}'\n"
        "order by legal_entity, record_key;\n"
        "-- how long mismatches have been open, per kind\n"
        "select kind, count(*) as open, min(first_seen_at) as oldest\n"
        "from reports.rpt_mismatches group by kind order by open desc;\n"
        "```"
    )
    return redact("\n\n".join(parts))


def steps_markdown(report: RunReport) -> str:
    rows = [
        {"step": s.step, "status": s.status, "seconds": f"{s.seconds:.1f}", "detail": s.detail}
        for s in report.steps
    ]
    head = f"Run `{report.run_id}` ({report.flow}): **{report.status}**"
    if report.error:
        head += f"\n\n{report.error}"
        if report.hint:
            head += f"\n\nHint: {report.hint}"
    return redact(head + "\n\n" + markdown_table(rows, ["step", "status", "seconds", "detail"]))


def publish(report: RunReport, mismatches: str) -> None:
    """Create the run's artifacts: the summary table, the steps and the top mismatches."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    create_table_artifact(
        summary_rows(report),
        key=artifact_key(report.flow, "summary"),
        description=f"Run {report.run_id} ({report.status}): per entity, what was extracted, "
        "landed, quarantined, found, planned, pushed and verified",
    )
    create_markdown_artifact(
        steps_markdown(report) + "\n\n" + mismatches,
        key=artifact_key(report.flow, "mismatches"),
        description=f"Run {report.run_id}: steps and the top mismatches",
    )
