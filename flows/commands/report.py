"""``clmsync report`` (the open mismatches) and ``clmsync status`` (runs, watermarks, ledger).

Both read the analytics snapshot by default, which any number of readers may open while a run
writes the warehouse. ``status --warehouse`` reads the warehouse itself (read-only), which works
only while no run holds it; it falls back to the snapshot when one does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import duckdb
import typer
from rich.console import Console
from rich.table import Table

from connectors.errors import ClmSyncError, WarehouseBusy
from flows.settings import load_settings
from warehouse import db

app = typer.Typer(add_completion=False)
console = Console()

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="Settings file (default: $CLMSYNC_CONFIG or ./clmsync.toml)."
    ),
]
AnalyticsOption = Annotated[
    Path | None,
    typer.Option("--analytics", help="Snapshot to read (default: the settings' analytics_path)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


@contextmanager
def open_snapshot(
    config: Path | None, analytics: Path | None
) -> Iterator[duckdb.DuckDBPyConnection]:
    path = analytics if analytics is not None else load_settings(config).warehouse.analytics_path
    if not Path(path).is_file():
        raise ClmSyncError(
            f"no analytics snapshot at {path}",
            hint="A run publishes it when it succeeds: run `clmsync run` (or `clmsync demo`).",
        )
    con = duckdb.connect(str(path), read_only=True)
    try:
        yield con
    finally:
        con.close()


def _records(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
) -> list[dict[str, Any]]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _table(title: str, rows: list[dict[str, Any]], columns: list[str] | None = None) -> Table:
    columns = columns or (list(rows[0]) if rows else [])
    table = Table(*columns, title=title)
    for row in rows:
        table.add_row(
            *(
                "" if row[c] is None else f"{row[c]:,}" if isinstance(row[c], int) else str(row[c])
                for c in columns
            )
        )
    return table


def mismatch_summary(
    con: duckdb.DuckDBPyConnection, *, kind: str | None, limit: int
) -> dict[str, Any]:
    """Open mismatches by kind, by entity and legal entity, and the first ``limit`` rows."""
    if not db.relation_exists(con, "reports", "rpt_mismatches"):
        raise ClmSyncError(
            "the snapshot has no reports.rpt_mismatches", hint="Run `clmsync run` first."
        )
    where, params = ("WHERE kind = ?", [kind]) if kind else ("", [])
    return {
        "total": int(
            con.execute(f"SELECT count(*) FROM reports.rpt_mismatches {where}", params).fetchall()[
                0
            ][0]
        ),
        "by_kind": _records(
            con,
            f"SELECT kind, owner, count(*) AS open, count(DISTINCT record_key) AS records, "
            f"min(first_seen_at) AS oldest FROM reports.rpt_mismatches {where} "
            "GROUP BY kind, owner ORDER BY open DESC, kind",
            params,
        ),
        "by_entity": _records(
            con,
            f"SELECT entity, legal_entity, count(*) AS open FROM reports.rpt_mismatches {where} "
            "GROUP BY ALL ORDER BY entity, legal_entity",
            params,
        ),
        "rows": _records(
            con,
            "SELECT kind, entity, legal_entity, record_key, field, scm_value, clm_value "
            f"FROM reports.rpt_mismatches {where} "
            f"ORDER BY kind, entity, legal_entity, record_key, field LIMIT {int(limit)}",
            params,
        ),
    }


@app.command("report")
def report(
    config: ConfigOption = None,
    analytics: AnalyticsOption = None,
    kind: Annotated[str | None, typer.Option(help="Only this mismatch kind.")] = None,
    limit: Annotated[int, typer.Option(help="Mismatch rows to list.", min=0)] = 20,
    as_json: JsonOption = False,
) -> None:
    """The open mismatches from the analytics snapshot, as summary tables."""
    with open_snapshot(config, analytics) as con:
        data = mismatch_summary(con, kind=kind, limit=limit)
    if as_json:
        typer.echo(json.dumps(data, default=str))
        return
    console.print(f"[bold]{data['total']:,}[/bold] open mismatches")
    console.print(_table("by kind", data["by_kind"]))
    console.print(_table("by entity and legal entity", data["by_entity"]))
    if data["rows"]:
        console.print(_table(f"first {len(data['rows'])} mismatches", data["rows"]))


def status_data(con: duckdb.DuckDBPyConnection, runs: int) -> dict[str, Any]:
    """The last runs, the extract watermarks and the push ledger totals."""
    out: dict[str, Any] = {"runs": [], "watermarks": [], "ledger": []}
    if db.relation_exists(con, "ops", "runs"):
        out["runs"] = _records(
            con,
            "SELECT run_id, min(started_at) AS started_at, max(ended_at) AS ended_at, "
            "coalesce(arg_max(status, step_id) FILTER (WHERE step = 'run'), "
            "CASE WHEN bool_or(status = 'failed') THEN 'failed' ELSE 'running' END) AS status, "
            "string_agg(DISTINCT step, ',') FILTER (WHERE status = 'failed' AND step <> 'run') "
            "AS failed_steps, "
            "sum(rows) FILTER (WHERE step = 'extract') AS extracted_rows "
            f"FROM ops.runs GROUP BY run_id ORDER BY run_id DESC LIMIT {int(runs)}",
        )
    if db.relation_exists(con, "ops", "extract_state"):
        out["watermarks"] = _records(
            con,
            "SELECT source, entity, nullif(legal_entity, '') AS legal_entity, "
            "coalesce(last_execution_id, cursor) AS watermark, pending_execution_id AS pending, "
            "rows_landed AS last_rows, rows_total, last_run_id, updated_at "
            "FROM ops.extract_state ORDER BY source, entity, legal_entity",
        )
    if db.relation_exists(con, "ops", "push_ledger"):
        out["ledger"] = _records(
            con,
            "SELECT target, entity, coalesce(channel, 'none') AS channel, status, "
            "count(*) AS records, "
            "count(*) FILTER (WHERE verify_status = 'verified') AS verified "
            "FROM ops.push_ledger GROUP BY ALL ORDER BY target, entity, channel, status",
        )
    return out


@app.command("status")
def status(
    config: ConfigOption = None,
    analytics: AnalyticsOption = None,
    runs: Annotated[int, typer.Option(help="How many runs to list.", min=1)] = 10,
    warehouse: Annotated[
        bool, typer.Option("--warehouse", help="Read the warehouse itself when it is free.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """The last runs, the extract watermarks and the push ledger totals."""
    source = "analytics snapshot"
    data: dict[str, Any] | None = None
    if warehouse:
        path = load_settings(config).warehouse.path
        try:
            con = db.connect(path, read_only=True)
        except WarehouseBusy as exc:
            console.print(
                f"[yellow]{exc}; reading the analytics snapshot[/yellow]", highlight=False
            )
        else:
            try:
                data, source = status_data(con, runs), f"warehouse {path}"
            finally:
                con.close()
    if data is None:
        with open_snapshot(config, analytics) as con:
            data = status_data(con, runs)
    data["source"] = source
    if as_json:
        typer.echo(json.dumps(data, default=str))
        return
    console.print(f"from the {source}")
    console.print(_table("last runs", data["runs"]))
    console.print(_table("watermarks", data["watermarks"]))
    console.print(_table("push ledger", data["ledger"]))
