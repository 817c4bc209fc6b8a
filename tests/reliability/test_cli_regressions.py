"""Command-line faults found by the reliability suite, each pinned by a test of its own."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.reliability.clikit import offline_settings, run_cli

HOSTILE = Path(__file__).parents[1] / "corpus" / "packages" / "hostile"


def test_an_error_holding_brackets_is_printed_as_it_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A package entry named '/tmp/clmsync-escaped.txt' is shown as '[/tmp/...]' in the error:
    printed as rich markup, that crashed the command with a MarkupError traceback."""
    package = tmp_path / "slip_absolute.zip"
    shutil.copyfile(HOSTILE / "slip_absolute.zip", package)
    code, out = run_cli(
        ["land-package", str(package), "-c", str(offline_settings(tmp_path))], capsys
    )
    assert code == 1
    assert "package slip_absolute.zip [/tmp/clmsync-escaped.txt]: entry name is an absolute" in out
    assert "Traceback" not in out
