"""``clmsync models build|test|list|docs``: the model runner from the command line.

The warehouse is ``--warehouse`` or the settings' ``warehouse.path``. ``list`` and ``docs`` read
it (read-only) only to check references and show column types; they work without one.
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

from connectors.errors import ModelTestFailed, WarehouseBusy
from flows.settings import config_path, load_settings

if TYPE_CHECKING:
    import duckdb

    from warehouse.runner import Project

app = typer.Typer(help="Build, test, list and document the SQL models.", no_args_is_help=True)
console = Console()

Selectors = Annotated[
    list[str] | None,
    typer.Argument(
        help="Models to select: name, +name, name+, +name+, a layer (reports) or a folder "
        "(staging/scm). Default: all.",
        show_default=False,
    ),
]
Exclude = Annotated[list[str] | None, typer.Option("--exclude", "-x", help="Leave these out.")]
ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="Settings file (for the warehouse path).")
]
WarehouseOption = Annotated[
    Path | None,
    typer.Option("--warehouse", "-w", help="Warehouse file (default: the settings' path)."),
]
ModelsOption = Annotated[
    Path | None, typer.Option("--models", help="Models folder (default: the project's models/).")
]
SeedsOption = Annotated[
    Path | None, typer.Option("--seeds", help="Seeds folder (default: the project's data/seeds/).")
]


def _project(models: Path | None, seeds: Path | None) -> Project:
    from warehouse import runner

    return runner.load_project(
        models or runner.DEFAULT_MODELS_DIR, seeds or runner.DEFAULT_SEEDS_DIR
    )


def _connect(
    warehouse: Path | None, config: Path | None, *, read_only: bool = False
) -> duckdb.DuckDBPyConnection:
    from warehouse import db

    if warehouse is not None:
        return db.connect(warehouse, read_only=read_only)
    settings = load_settings(config).warehouse
    return db.connect(
        settings.path,
        read_only=read_only,
        memory_limit=settings.memory_limit,
        threads=settings.threads,
    )


@contextlib.contextmanager
def _reader(
    warehouse: Path | None, config: Path | None
) -> Iterator[duckdb.DuckDBPyConnection | None]:
    """A read-only connection when a warehouse is configured, exists and is free; else None."""
    if warehouse is None and config is None and config_path(None) is None:
        yield None
        return
    path = warehouse if warehouse is not None else load_settings(config).warehouse.path
    if not path.exists():
        yield None
        return
    try:
        con = _connect(path, None, read_only=True)
    except WarehouseBusy as exc:
        console.print(f"[yellow]{escape(str(exc))}; showing models without the warehouse[/yellow]")
        yield None
        return
    try:
        yield con
    finally:
        con.close()


@app.command("build")
def models_build(
    selectors: Selectors = None,
    exclude: Exclude = None,
    full_refresh: Annotated[
        bool, typer.Option("--full-refresh", help="Rebuild incremental models from scratch.")
    ] = False,
    warehouse: WarehouseOption = None,
    config: ConfigOption = None,
    models: ModelsOption = None,
    seeds: SeedsOption = None,
) -> None:
    """Load changed seeds and build the selected models in dependency order."""
    from warehouse import runner

    project = _project(models, seeds)
    con = _connect(warehouse, config)
    try:
        results = runner.build(
            con,
            project,
            selectors=selectors or (),
            exclude=exclude or (),
            full_refresh=full_refresh,
            raise_on_error=False,
        )
    finally:
        con.close()
    table = Table("model", "built as", "status", "rows", "seconds")
    for r in results:
        style = {"success": "green", "error": "red"}.get(r.status, "yellow")
        rows = "" if r.rows is None else f"{r.rows:,}"
        table.add_row(r.relation, r.materialized, f"[{style}]{r.status}[/{style}]", rows,
                      f"{r.seconds:.2f}")  # fmt: skip
    console.print(table)
    runner.raise_failed_builds(results)


@app.command("test")
def models_test(
    selectors: Selectors = None,
    exclude: Exclude = None,
    warehouse: WarehouseOption = None,
    config: ConfigOption = None,
    models: ModelsOption = None,
    seeds: SeedsOption = None,
) -> None:
    """Run the tests of the selected models; fail when an error-level test fails."""
    from warehouse import runner

    project = _project(models, seeds)
    con = _connect(warehouse, config)
    try:
        results = runner.run_tests(
            con, project, selectors=selectors or (), exclude=exclude or (), raise_on_error=False
        )
    finally:
        con.close()
    table = Table("test", "model", "severity", "status", "failing rows")
    colours = {"pass": "green", "warn": "yellow"}
    for r in results:
        style = colours.get(r.status, "red")
        failures = "" if r.failures is None else str(r.failures)
        table.add_row(r.name, r.model, r.severity, f"[{style}]{r.status}[/{style}]", failures)
    console.print(table)
    failed = [r for r in results if r.status in ("fail", "error")]
    if failed:
        raise ModelTestFailed([f"{r.name} ({r.model})" for r in failed])


@app.command("list")
def models_list(
    selectors: Selectors = None,
    exclude: Exclude = None,
    warehouse: WarehouseOption = None,
    config: ConfigOption = None,
    models: ModelsOption = None,
    seeds: SeedsOption = None,
) -> None:
    """Print the selected models in build order."""
    from warehouse import runner

    project = _project(models, seeds)
    with _reader(warehouse, config) as con:
        _, chosen = runner.plan(con, project, selectors or (), exclude or ())
    for model in chosen:
        typer.echo(f"{model.relation}\t{model.materialized}\t{model.file}")


@app.command("docs")
def models_docs(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the catalog to.")],
    warehouse: WarehouseOption = None,
    config: ConfigOption = None,
    models: ModelsOption = None,
    seeds: SeedsOption = None,
) -> None:
    """Write a static HTML catalog of the models (columns, tests, lineage)."""
    from warehouse import runner

    project = _project(models, seeds)
    with _reader(warehouse, config) as con:
        graph, _ = runner.plan(con, project)
        result = runner.write_docs(graph, out, con)
    console.print(f"wrote {result.pages} pages to {result.out / 'index.html'}", highlight=False)
