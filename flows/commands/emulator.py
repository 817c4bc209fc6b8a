"""``clmsync emulator ...``: run the local SCM + Entra ID + CLM emulator.

The emulator is imported inside the commands only: production code never depends on it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

app = typer.Typer(
    help="Run the local SCM + Entra ID + CLM emulator.", no_args_is_help=True, add_completion=False
)
console = Console()

StateDir = Annotated[
    Path,
    typer.Option("--state-dir", help="Folder for emulator.json, clmsync.toml, CA and data."),
]


@app.callback()
def _group() -> None:
    """Run the local SCM + Entra ID + CLM emulator."""


def _fault_specs(faults: list[str], faults_file: list[Path]) -> list[dict[str, Any]]:
    specs: list[dict[str, Any]] = []
    try:
        specs += [json.loads(text) for text in faults]
        for path in faults_file:
            loaded = json.loads(path.read_text())
            specs += loaded if isinstance(loaded, list) else [loaded]
    except (OSError, ValueError) as exc:
        raise typer.BadParameter(f"fault rules must be JSON objects: {exc}") from None
    return specs


@app.command("serve")
def serve(
    state_dir: StateDir,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0 picks a free one).")] = 0,
    size: Annotated[int | None, typer.Option(help="Generate a world of this size.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the generated world.")] = 0,
    world_dir: Annotated[
        Path | None, typer.Option(help="Load an already generated world instead.")
    ] = None,
    page_size: Annotated[int, typer.Option(help="OData server-driven page size.")] = 10_000,
    token_lifetime: Annotated[int, typer.Option(help="Access token lifetime (s).")] = 3600,
    execution_seconds: Annotated[
        float, typer.Option(help="Fixed duration of a package execution (s).")
    ] = 1.0,
    fault: Annotated[
        list[str] | None, typer.Option(help='A fault rule as JSON, e.g. {"kind": "throttle"}.')
    ] = None,
    faults_file: Annotated[
        list[Path] | None, typer.Option(help="A JSON file with a fault rule or a list of them.")
    ] = None,
) -> None:
    """Serve the emulator over HTTPS in the foreground until Ctrl+C."""
    from emulator.server import EmulatorInfo
    from emulator.server import serve as run

    specs = _fault_specs(fault or [], faults_file or [])

    def ready(info: EmulatorInfo) -> None:
        console.print(f"[bold]SCM[/bold]       {info.scm_url}")
        console.print(f"[bold]Entra ID[/bold]  {info.authority}")
        console.print(f"[bold]CLM API[/bold]   {info.clm_url}")
        console.print(f"[bold]settings[/bold]  {info.state_dir / 'clmsync.toml'}")
        console.print(f"[bold]details[/bold]   {info.state_dir / 'emulator.json'}")
        console.print("Press Ctrl+C to stop.")

    run(
        state_dir,
        size=size,
        seed=seed,
        port=port,
        world_dir=world_dir,
        faults=specs,
        on_ready=ready,
        page_size=page_size,
        token_lifetime=token_lifetime,
        execution_fixed_seconds=execution_seconds,
    )


def _emulator_json(state_dir: Path) -> dict[str, Any]:
    path = state_dir / "emulator.json"
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        raise typer.BadParameter(
            f"{path} does not exist: is an emulator running with --state-dir {state_dir}?"
        ) from None
    except ValueError as exc:
        raise typer.BadParameter(f"{path} is not valid JSON: {exc}") from None
    return data


def _admin(state_dir: Path, method: str, path: str, body: Any = None) -> Any:
    """Call a running emulator's admin endpoint; a refusal or an outage is a clear error."""
    import requests

    from connectors.errors import ClmSyncError

    info = _emulator_json(state_dir)
    base = info["scm_url"].rsplit("/scm", 1)[0]
    with requests.Session() as session:
        session.trust_env = False
        session.verify = info["ca_cert"]
        try:
            response = session.request(
                method,
                f"{base}/_emulator/{path}",
                json=body,
                headers={"X-Emulator-Admin": info["admin_token"]},
                timeout=3600,
            )
        except requests.RequestException as exc:
            raise ClmSyncError(
                f"the emulator at {base} did not answer: {exc}",
                hint=f"Start it with: clmsync emulator serve --state-dir {state_dir}",
            ) from None
    if response.status_code >= 400:
        try:
            detail = response.json().get("error", response.text)
        except ValueError:
            detail = response.text
        raise ClmSyncError(f"the emulator refused {method} /_emulator/{path}: {detail}")
    return response.json()


@app.command("world")
def world(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the world to.")],
    size: Annotated[int, typer.Option(help="Number of vendors.", min=10)] = 1000,
    seed: Annotated[
        int, typer.Option(help="Seed: the same size and seed give the same files.")
    ] = 0,
    rates: Annotated[
        str | None,
        typer.Option(help='Discrepancy rates as JSON, e.g. {"new_contract": 0.05}.'),
    ] = None,
) -> None:
    """Generate a synthetic SCM + CLM world with planted discrepancies and its ground truth."""
    from emulator.world import generate

    try:
        overrides = json.loads(rates) if rates else None
    except ValueError as exc:
        raise typer.BadParameter(f"--rates must be a JSON object: {exc}") from None
    try:
        summary = generate(size, seed, out, overrides)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    total = sum(summary.discrepancies.values())
    console.print(
        f"world of {size} vendors (seed {seed}) written to {out} in {summary.seconds:.1f} s"
    )
    console.print(f"{total} planted discrepancies, {summary.noise} noise entries")
    console.print(f"ground truth: {summary.ground_truth}")


@app.command("mutate")
def mutate(
    state_dir: StateDir,
    fraction: Annotated[
        float, typer.Option(help="Share of eligible objects to change (0 < F <= 1).")
    ] = 0.01,
    seed: Annotated[int, typer.Option(help="Seed of the changes.")] = 0,
) -> None:
    """Change a running emulator's world (both sides) and write the next run's ground truth."""
    if not 0 < fraction <= 1:
        raise typer.BadParameter("--fraction must be greater than 0 and at most 1")
    result = _admin(state_dir, "POST", "mutate", {"fraction": fraction, "seed": seed})
    counts = ", ".join(f"{k} {v}" for k, v in result["counts"].items())
    console.print(f"mutation {result['mutation']}: {counts}")
    console.print(f"{result['discrepancies']} discrepancies to find next; {result['ground_truth']}")


@app.command("export-clm")
def export_clm(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the export folder into.")],
    state_dir: Annotated[
        Path | None, typer.Option("--state-dir", help="Export from this running emulator.")
    ] = None,
    world_dir: Annotated[
        Path | None, typer.Option("--world", help="Export from a generated world folder.")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only objects updated at or after this ISO 8601 instant.")
    ] = None,
) -> None:
    """Write a CLM export folder: JSON Lines per object type and a manifest.json."""
    from emulator.world.clm_json import parse_instant
    from emulator.world.export import export_world

    if (state_dir is None) == (world_dir is None):
        raise typer.BadParameter("give exactly one of --state-dir and --world")
    try:
        instant = parse_instant(since) if since else None
    except ValueError as exc:
        raise typer.BadParameter(f"--since: {exc}") from None
    if state_dir is not None:
        body = {"out": str(out.resolve()), "since": since}
        folder = Path(_admin(state_dir, "POST", "clm_export", body)["folder"])
    else:
        assert world_dir is not None
        if not (world_dir / "clm").is_dir():
            raise typer.BadParameter(f"{world_dir} is not a generated world (no clm folder)")
        folder = export_world(world_dir, out, instant)
    manifest = json.loads((folder / "manifest.json").read_text())
    rows = ", ".join(f"{f['object']} {f['rows']}" for f in manifest["files"])
    console.print(f"export {manifest['export_id']} written to {folder}: {rows}")
