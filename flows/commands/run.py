"""``clmsync run|reload|serve|demo`` (and ``report``/``status`` from :mod:`.report`).

``run`` and ``reload`` execute the pipeline in this process, without a Prefect server: a run from
cron starts at once instead of waiting ~12 s for a temporary one (measured; see the README).
``--prefect`` runs the same flow as a real Prefect flow run instead (against ``PREFECT_API_URL``,
or a temporary local server), so it shows in the UI. Runs started from the UI are always flow
runs of the served deployments (``clmsync serve``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from flows.commands import report as report_commands
from flows.commands.progress import ConsoleRunner, kinds_table, steps_table, summary_table
from flows.params import ENTITY_NAMES, ReconcileParameters, ReloadParameters
from flows.settings import config_path, load_settings

if TYPE_CHECKING:
    from flows.steps.run import RunOptions
    from flows.steps.summary import RunReport

app = typer.Typer(add_completion=False)
app.add_typer(report_commands.app)
console = Console()
err_console = Console(stderr=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="Settings file (default: $CLMSYNC_CONFIG or ./clmsync.toml)."
    ),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON object with the run's figures, nothing else.")
]
YesOption = Annotated[
    bool, typer.Option("--yes", "-y", help="Approve a plan above the approval threshold.")
]
PrefectOption = Annotated[
    bool,
    typer.Option(
        "--prefect",
        help="Run as a Prefect flow run (PREFECT_API_URL's server, or a temporary one).",
    ),
]


def show(report: RunReport, *, as_json: bool) -> None:
    """Print the run's outcome: one JSON object, or the tables and a closing line."""
    if as_json:
        typer.echo(json.dumps(report.as_dict(), default=str))
        return
    console.print(summary_table(report))
    if any(f.mismatches for f in report.entities.values()):
        console.print(kinds_table(report))
    console.print(steps_table(report))
    for note in report.notes:
        console.print(f"[yellow]note:[/yellow] {note}", highlight=False)
    if report.snapshot:
        console.print(f"analytics snapshot: {report.snapshot}", highlight=False)
    if report.status == "succeeded":
        console.print(f"[green]run {report.run_id} succeeded[/green] in {report.seconds:.1f} s")


def execute(
    config: Path | None, options: RunOptions, *, as_json: bool, approved: bool
) -> RunReport:
    """Run the pipeline in this process with progress bars; raise RunFailed after showing what
    the run did when it failed."""
    from flows.steps.run import report_or_raise, run_pipeline

    settings = load_settings(config)
    runner = ConsoleRunner(err_console, approved=approved, quiet=as_json)
    with runner.live():
        report = run_pipeline(settings, options, runner)
    show(report, as_json=as_json)
    return report_or_raise(report)


def execute_flow(flow_name: str, config: Path | None, options: Any, *, as_json: bool) -> None:
    """Run a flow as a Prefect flow run and print its result."""
    path = config_path(config)
    if flow_name == "reconcile":
        from flows.reconcile import reconcile as flow_fn
    else:
        from flows.reload import reload as flow_fn  # type: ignore[assignment]
    result = flow_fn(config=str(path.resolve()) if path else None, options=options)
    if as_json:
        typer.echo(json.dumps(result, default=str))
    else:
        console.print_json(json.dumps(result, default=str))


@app.command("run")
def run(
    config: ConfigOption = None,
    full: Annotated[bool, typer.Option("--full", help="Export everything again.")] = False,
    push: Annotated[
        bool, typer.Option("--push/--no-push", help="Push the planned changes.")
    ] = True,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Plan the push but send nothing.")
    ] = False,
    yes: YesOption = False,
    as_json: JsonOption = False,
    prefect: PrefectOption = False,
) -> None:
    """Run a reconciliation now: bootstrap, extract, build, test, plan, push, verify, publish."""
    from flows.steps.run import RunOptions

    params = ReconcileParameters(full=full, push=push, dry_run=dry_run)
    if prefect:
        execute_flow("reconcile", config, params, as_json=as_json)
        return
    execute(config, RunOptions.reconcile(params, approved=yes), as_json=as_json, approved=yes)


@app.command("reload")
def reload(
    entities: Annotated[
        list[str] | None,
        typer.Argument(
            help=f"SCM entity sets to extract again (default: all). One of: "
            f"{', '.join(ENTITY_NAMES)}.",
            show_default=False,
        ),
    ] = None,
    legal_entity: Annotated[
        list[str] | None,
        typer.Option("--legal-entity", "-l", help="Only this legal entity (repeatable)."),
    ] = None,
    incremental: Annotated[
        bool, typer.Option("--incremental", help="Only what changed (default: in full).")
    ] = False,
    clm: Annotated[bool, typer.Option("--clm/--no-clm", help="Read the CLM too.")] = True,
    push: Annotated[bool, typer.Option("--push", help="Plan and push the result.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="With --push: plan, send nothing.")
    ] = False,
    config: ConfigOption = None,
    yes: YesOption = False,
    as_json: JsonOption = False,
    prefect: PrefectOption = False,
) -> None:
    """Extract chosen entities again (in full by default), rebuild the reports, push if asked."""
    unknown = sorted(set(entities or ()) - set(ENTITY_NAMES))
    if unknown:
        raise typer.BadParameter(
            f"unknown entity {', '.join(unknown)}; known: {', '.join(ENTITY_NAMES)}"
        )
    from flows.steps.run import RunOptions

    params = ReloadParameters(
        entities=list(entities or []),
        legal_entities=list(legal_entity or []),
        clm=clm,
        full=not incremental,
        push=push,
        dry_run=dry_run,
    )
    if prefect:
        execute_flow("reload", config, params, as_json=as_json)
        return
    execute(config, RunOptions.reload(params, approved=yes), as_json=as_json, approved=yes)


@app.command("serve")
def serve(
    config: ConfigOption = None,
    limit: Annotated[
        int | None, typer.Option(help="At most this many flow runs at once in this process.")
    ] = None,
) -> None:
    """Serve the reconcile (scheduled), reload, bootstrap and push deployments to Prefect."""
    from flows.serve import serve as serve_deployments

    serve_deployments(config, limit=limit)


@app.command("demo")
def demo(
    size: Annotated[int, typer.Option(help="Vendors in the emulated world.", min=50)] = 10_000,
    seed: Annotated[int, typer.Option(help="Seed of the world and of its mutation.")] = 0,
    fraction: Annotated[
        float, typer.Option(help="Share of the world the mutation changes.")
    ] = 0.01,
    data_dir: Annotated[
        Path, typer.Option("--data-dir", help="Where the warehouse and the snapshot go.")
    ] = Path("data"),
    as_json: JsonOption = False,
) -> None:
    """Start the emulator, reconcile in full, mutate the world, reconcile again, show it all."""
    from flows.demo import run_demo

    result = run_demo(
        data_dir, size=size, seed=seed, fraction=fraction, console=console, quiet=as_json
    )
    if as_json:
        typer.echo(json.dumps(result, default=str))
