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
