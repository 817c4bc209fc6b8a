"""The ``clmsync`` command line."""

from __future__ import annotations

import json
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.tree import Tree

from connectors.errors import ClmSyncError, ConfigError
from flows.commands import emulator as emulator_commands
from flows.commands import extract as extract_commands
from flows.commands import models as models_commands
from flows.commands import push as push_commands
from flows.commands import run as run_commands
from flows.settings import load_settings

app = typer.Typer(
    name="clmsync",
    help="Sync engine between Dynamics 365 Supply Chain Management and a CLM system.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
config_app = typer.Typer(help="Inspect and validate the settings.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(models_commands.app, name="models")
app.add_typer(emulator_commands.app, name="emulator")
app.add_typer(extract_commands.app)
app.add_typer(push_commands.app)
app.add_typer(run_commands.app)

console = Console()
err_console = Console(stderr=True)

_state: dict[str, bool] = {"debug": False}

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="Settings file (default: $CLMSYNC_CONFIG or ./clmsync.toml)."
    ),
]


def package_version() -> str:
    try:
        return version("clmsync")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"


def _version_callback(value: bool) -> None:
    if value:
        console.print(f"clmsync {package_version()}")
        raise typer.Exit()


@app.callback()
def _root(
    version_: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version_callback, is_eager=True, help="Show the version."
        ),
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")] = False,
) -> None:
    _state["debug"] = debug


@config_app.command("check")
def config_check(
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the settings as JSON.")] = False,
) -> None:
    """Load and validate the settings, then print them with secrets masked."""
    settings = load_settings(config)
    masked = settings.masked()
    if as_json:
        console.print_json(json.dumps(masked, default=str))
        return
    tree = Tree("[bold]clmsync settings[/bold] (valid)")
    _fill_tree(tree, masked)
    console.print(tree)


def _fill_tree(tree: Tree, data: dict[str, Any]) -> None:
    for key, value in data.items():
        if isinstance(value, dict):
            _fill_tree(tree.add(f"[bold]{key}[/bold]"), value)
        else:
            tree.add(f"{key} = {value!r}" if not isinstance(value, str) else f"{key} = {value}")


def exit_code_for(exc: ClmSyncError) -> int:
    """2 for bad settings or usage, 1 for everything else that failed."""
    return 2 if isinstance(exc, ConfigError) else 1


def main() -> None:
    """Entry point of the console script: one clear line per error, a traceback with --debug."""
    try:
        app(standalone_mode=False)
    except ClmSyncError as exc:
        if _state["debug"]:
            err_console.print_exception()
        err_console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        if exc.hint:
            err_console.print(f"[yellow]hint:[/yellow] {exc.hint}", highlight=False, soft_wrap=True)
        sys.exit(exit_code_for(exc))
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(130)
    except Exception as exc:  # click usage errors arrive here in non-standalone mode
        import click

        # typer 0.2x ships its own copy of click: its usage errors are not click's.
        usage_errors: tuple[type[Exception], ...] = (click.ClickException,)
        try:
            from typer._click.exceptions import ClickException as TyperClickException

            usage_errors += (TyperClickException,)
        except ImportError:  # an older typer that uses click itself
            pass
        if isinstance(exc, usage_errors):
            exc.show()  # type: ignore[attr-defined]
            sys.exit(exc.exit_code)  # type: ignore[attr-defined]
        raise


if __name__ == "__main__":
    main()
