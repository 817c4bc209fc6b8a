"""``clmsync bootstrap``, ``clmsync extract`` and ``clmsync land-package``.

They run the extract steps directly (no Prefect server to start): the settings file says where
SCM, the CLM and the warehouse are. Each prints a table of what it did; a failed entity makes the
command exit with status 1 after the table, naming the entity and the reason.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from flows.settings import Settings, load_settings

if TYPE_CHECKING:
    import duckdb

    from flows.steps.extract_types import ExtractReport

app = typer.Typer(add_completion=False)
console = Console()

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="Settings file (default: $CLMSYNC_CONFIG or ./clmsync.toml)."
    ),
]
LegalEntities = Annotated[
    list[str] | None,
    typer.Option(
        "--legal-entity", "-l", help="Only this legal entity (repeatable; default: all in scope)."
    ),
]


@contextlib.contextmanager
def _warehouse(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    from warehouse import db

    wh = settings.warehouse
    con = db.connect(wh.path, memory_limit=wh.memory_limit, threads=wh.threads)
    try:
        yield con
    finally:
        con.close()


def _print(report: ExtractReport) -> None:
    table = Table("entity", "legal entity", "via", "status", "extracted", "landed", "quarantined",
                  "expected", "seconds")  # fmt: skip
    colours = {"succeeded": "green", "unchanged": "dim", "failed": "red", "blocked": "red"}
    for row in report.rows():
        style = colours.get(str(row["status"]), "yellow")
        expected = "" if row["expected"] is None else f"{row['expected']:,}"
        table.add_row(
            str(row["entity"]), str(row["legal_entity"]), str(row["via"]),
            f"[{style}]{row['status']}[/{style}]", f"{row['extracted']:,}", f"{row['landed']:,}",
            f"{row['quarantined']:,}", expected, f"{row['seconds']:.2f}",
        )  # fmt: skip
    console.print(table)
    for change in report.project_changes:
        console.print(f"data project: {change}")
    tombstoned = sum(s.tombstoned for s in report.snapshots)
    revived = sum(s.revived for s in report.snapshots)
    if report.snapshots:
        counted = sum(s.method == "count" for s in report.snapshots)
        console.print(
            f"key snapshots: {len(report.snapshots)} ({counted} settled by SCM's $count, no key "
            f"read), tombstoned {tombstoned}, revived {revived}"
        )
    console.print(
        f"run {report.run_id}: extracted {report.total('extracted'):,}, landed "
        f"{report.total('landed'):,}, quarantined {report.total('quarantined'):,} "
        f"in {report.seconds:.1f} s"
    )
    for result in report.failures:
        le = f" ({result.legal_entity})" if result.legal_entity else ""
        text = escape(f"{result.entity}{le}: {result.error}")
        console.print(f"[red]{result.status}:[/red] {text}", highlight=False)


@app.command("bootstrap")
def bootstrap(config: ConfigOption = None, legal_entity: LegalEntities = None) -> None:
    """Create or repair the export data projects in SCM (a second run changes nothing)."""
    from flows.clients import build_clients
    from flows.steps.bootstrap import bootstrap_projects

    settings = load_settings(config)
    with build_clients(settings) as clients:
        report = bootstrap_projects(settings, clients.odata, legal_entities=legal_entity)
    for line in report.lines():
        console.print(line)
    console.print(f"{len(report.changes)} change(s)")


@app.command("extract")
def extract(
    config: ConfigOption = None,
    entity: Annotated[
        list[str] | None,
        typer.Option(
            "--entity", "-e", help="An SCM entity set or CLM object (repeatable; default: all)."
        ),
    ] = None,
    legal_entity: LegalEntities = None,
    full: Annotated[
        bool, typer.Option("--full", help="Extract the selected entities in full.")
    ] = False,
    snapshot: Annotated[
        bool | None,
        typer.Option(
            "--snapshot/--no-snapshot",
            help=(
                "Force the key snapshot (deletes) on, reading every key, or off (default: the "
                "settings' cadence, SCM's $count sparing the key read where it shows no delete)."
            ),
        ),
    ] = None,
) -> None:
    """Extract SCM and the CLM into the warehouse: only what changed, unless --full."""
    from flows.clients import build_clients
    from flows.steps.extract import extract_all
    from warehouse import state

    settings = load_settings(config)
    with build_clients(settings) as clients, _warehouse(settings) as con:
        report = extract_all(
            settings, clients, con, run_id=state.new_run_id(), entities=entity,
            legal_entities=legal_entity, full=full, key_snapshot=snapshot,
        )  # fmt: skip
    _print(report)
    report.raise_for_failures()


@app.command("land-package")
def land_package(
    file: Annotated[
        Path, typer.Argument(help="A data package (.zip) downloaded from SCM.", exists=True)
    ],
    config: ConfigOption = None,
    legal_entity: Annotated[
        str | None,
        typer.Option(
            "--legal-entity", "-l", help="Its legal entity (default: scm.default_legal_entity)."
        ),
    ] = None,
) -> None:
    """Land a package file by hand, with the same checks, quarantine and lineage as an export;
    landing the same file again changes nothing."""
    from flows.steps.extract import land_package_file
    from warehouse import state

    settings = load_settings(config)
    with _warehouse(settings) as con:
        report = land_package_file(
            con, file, run_id=state.new_run_id(),
            legal_entity=legal_entity or settings.scm.default_legal_entity,
        )  # fmt: skip
    _print(report)
    report.raise_for_failures()
