"""``clmsync plan`` and ``clmsync push``: the loader from the command line.

``plan`` writes the run's push plan from ``deltas.*`` and prints it (nothing is sent);
``push`` sends an existing plan (the latest one unless ``--run-id`` says which), through the
guardrails, then reads it back and feeds the CLM.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer
from rich.console import Console
from rich.table import Table

from connectors.errors import PlanError
from flows.settings import load_settings

if TYPE_CHECKING:
    import duckdb

    from flows.settings import Settings
    from loader.model import PlanSummary, Route

app = typer.Typer(help="Plan and push deltas to SCM and the CLM.")
console = Console()

ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", help="Settings file.")]
RunOption = Annotated[
    str | None, typer.Option("--run-id", help="The run whose plan to use (default: see help).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def _connect(settings: Settings) -> duckdb.DuckDBPyConnection:
    from warehouse import db

    wh = settings.warehouse
    return db.connect(wh.path, memory_limit=wh.memory_limit, threads=wh.threads)


def _print_plan(summary: PlanSummary) -> None:
    table = Table(title=f"push plan of run {summary.run_id}: {summary.rows:,} rows")
    for name in ("entity", "legal entity", "creates", "updates", "closes", "invalid", "channel",
                 "batches"):  # fmt: skip
        table.add_column(name, justify="right" if name not in ("entity", "channel") else "left")
    for g in summary.groups:
        table.add_row(
            g.entity, g.legal_entity or "-", f"{g.creates:,}", f"{g.updates:,}", f"{g.closes:,}",
            f"[red]{g.invalid:,}[/red]" if g.invalid else "0", ", ".join(g.channels) or "-",
            str(g.batches) if g.batches else "",
        )  # fmt: skip
    console.print(table)
    routes = Table(title="routing decisions")
    for name in ("entity", "legal entity", "channel", "reason"):
        routes.add_column(name)
    for d in summary.decisions:
        routes.add_row(d.entity, d.legal_entity or "-", d.channel, d.reason)
    console.print(routes)
    if summary.problems:
        problems = Table(title="deltas that will not be sent")
        for name in ("plan row", "record", "problem"):
            problems.add_column(name)
        for seq, key, problem in summary.problems:
            problems.add_row(str(seq), key, problem)
        console.print(problems)


@app.command("plan")
def plan_command(
    config: ConfigOption = None,
    run_id: RunOption = None,
    route: Annotated[
        str, typer.Option("--route", help="auto (by row threshold), odata or package.")
    ] = "auto",
    replace: Annotated[
        bool, typer.Option("--replace", help="Plan the run again (refused once it started).")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Plan a push from deltas.* and print it, without sending anything.

    Without --run-id a new run id is made.
    """
    from flows.steps import push as step
    from warehouse.state import new_run_id

    if route not in ("auto", "odata", "package"):
        raise typer.BadParameter("--route must be auto, odata or package")
    settings = load_settings(config)
    con = _connect(settings)
    try:
        summary = step.plan(
            con,
            settings,
            run_id or new_run_id(),
            route=cast("Route", route),
            replace=replace,
        )
    finally:
        con.close()
    if as_json:
        console.print_json(json.dumps(summary.as_dict(), default=str))
    else:
        _print_plan(summary)


@app.command("push")
def push_command(
    config: ConfigOption = None,
    run_id: RunOption = None,
    entity: Annotated[
        list[str] | None,
        typer.Option("--entity", "-e", help="Push only these entities (repeat); others skip."),
    ] = None,
    override: Annotated[
        list[str] | None,
        typer.Option(
            "--override",
            help="Pass over a guardrail deliberately: extract, model_tests or share (repeat).",
        ),
    ] = None,
    no_verify: Annotated[bool, typer.Option("--no-verify", help="Skip the read-back.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Push an existing plan (the latest unless --run-id), verify it and feed the CLM."""
    from flows.clients import build_clients
    from flows.steps import push as step
    from loader.plan import latest_run

    settings = load_settings(config)
    con = _connect(settings)
    try:
        chosen = run_id or latest_run(con)
        if chosen is None:
            raise PlanError("there is no push plan yet", hint="Make one first: clmsync plan.")
        with build_clients(settings) as clients:
            summary = step.push(
                con, clients, settings, chosen, entities=entity, overrides=override or (),
                verify_after=not no_verify,
            )  # fmt: skip
    finally:
        con.close()
    if as_json:
        console.print_json(json.dumps(summary.as_dict(), default=str))
        return
    _print_result(summary.as_dict())


def _print_result(data: dict[str, Any]) -> None:
    push = data["push"] or {}
    counts = ", ".join(f"{k} {v:,}" for k, v in sorted(push.get("counts", {}).items()))
    console.print(f"[bold]run {data['run_id']}[/bold]: {counts}")
    console.print(f"applied as intended: {data['applied_as_intended']:.2%}")
    failures = push.get("failures") or []
    if failures:
        table = Table(title="rows not applied")
        for name in ("plan row", "entity", "legal entity", "record", "status", "reason"):
            table.add_column(name)
        for f in failures[:50]:
            table.add_row(str(f["seq"]), f["entity"], f["legal_entity"] or "-", f["record_key"],
                          f["status"], f["reason"])  # fmt: skip
        console.print(table)
    drift = (data.get("verify") or {}).get("drift") or []
    if drift:
        table = Table(title="drift after the push")
        for name in ("plan row", "entity", "record", "status", "fields"):
            table.add_column(name)
        for d in drift[:50]:
            table.add_row(str(d["seq"]), d["entity"], d["record_key"], d["status"],
                          json.dumps(d["fields"], default=str)[:200])  # fmt: skip
        console.print(table)
