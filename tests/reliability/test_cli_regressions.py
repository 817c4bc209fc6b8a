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


@pytest.mark.parametrize("key", ["scm", "clm"])
def test_a_settings_file_naming_a_missing_ca_bundle_is_refused_naming_the_setting(
    key: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It reached the session factory as a bare FileNotFoundError (a traceback from clmsync)."""
    config = offline_settings(tmp_path)
    text = config.read_text().replace(f"[{key}]\n", f'[{key}]\nca_bundle = "no-such-ca.pem"\n')
    config.write_text(text)
    code, out = run_cli(["extract", "-c", str(config)], capsys)
    assert code == 2, out
    assert f"{key}.ca_bundle: file " in out
    assert "no-such-ca.pem does not exist" in out
    assert f"CLMSYNC__{key.upper()}__CA_BUNDLE" in out  # the hint says how to set it
