"""Running ``clmsync`` in the test process, as its console script does, and a settings file for
commands that reach no service (``land-package``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest


def offline_settings(folder: Path) -> Path:
    """``folder/clmsync.toml``: made-up SCM and CLM (never reached), the warehouse in
    ``folder/wh``."""
    path = folder / "clmsync.toml"
    path.write_text(
        '[scm]\nenvironment_url = "https://scm.invalid"\ntenant_id = "t"\nclient_id = "c"\n'
        'client_secret = "offline-secret"\ndefault_legal_entity = "usmf"\n'
        '[clm]\napi_url = "https://clm.invalid/api"\napi_key = "offline-key"\n'
        '[warehouse]\npath = "wh/warehouse.duckdb"\nanalytics_path = "wh/analytics.duckdb"\n'
        'landing_dir = "wh/landing"\n[sync]\nlegal_entities = ["usmf"]\n'
    )
    return path


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """``clmsync ARGS`` through the console script's ``main``: (exit code, output with its
    whitespace folded, since rich wraps long lines)."""
    from flows import cli

    argv = sys.argv
    sys.argv = ["clmsync", *args]
    code = 0
    try:
        cli.main()
    except SystemExit as stop:
        code = int(stop.code or 0)
    finally:
        sys.argv = argv
    out = capsys.readouterr()
    return code, " ".join((out.out + out.err).split())
