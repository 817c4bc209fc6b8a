"""``clmsync land-package`` from the command line: a table of what landed, once."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from connectors.package_writer import PackageWriter

ROOT = Path(__file__).resolve().parents[3]


def _clmsync(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},  # a table wide enough to keep names whole
    )


def test_land_package_lands_a_file_once(tmp_path: Path) -> None:
    config = tmp_path / "clmsync.toml"
    shutil.copyfile(ROOT / "clmsync.example.toml", config)
    package = tmp_path / "currencies.zip"
    with PackageWriter(package, definition_group="MANUAL") as writer:
        writer.add_entity("Currencies", [{"CurrencyCode": "EUR", "Name": "Euro"}])

    first = _clmsync("land-package", str(package), "--config", str(config))
    assert first.returncode == 0, first.stderr
    assert "Currencies" in first.stdout
    assert "succeeded" in first.stdout
    assert (tmp_path / "data" / "warehouse.duckdb").is_file()

    again = _clmsync("land-package", str(package), "-c", str(config), "-l", "demf")
    assert again.returncode == 0, again.stderr
    assert "unchanged" in again.stdout


def test_land_package_names_a_file_that_is_no_package(tmp_path: Path) -> None:
    config = tmp_path / "clmsync.toml"
    shutil.copyfile(ROOT / "clmsync.example.toml", config)
    bogus = tmp_path / "notes.zip"
    bogus.write_bytes(b"not a zip")
    result = _clmsync("land-package", str(bogus), "-c", str(config))
    assert result.returncode == 1
    assert "notes.zip" in result.stderr
    assert "not a readable zip file" in result.stderr
    assert "Traceback" not in result.stderr
