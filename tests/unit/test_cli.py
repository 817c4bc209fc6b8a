from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("clmsync ")


def test_config_check_prints_masked_settings() -> None:
    result = run("config", "check", "--config", "clmsync.example.toml")
    assert result.returncode == 0, result.stderr
    assert "environment_url" in result.stdout
    assert "change-me" not in result.stdout
    assert "**********" in result.stdout


def test_config_check_names_the_bad_key(tmp_path: Path) -> None:
    text = (ROOT / "clmsync.example.toml").read_text().replace('tenant_id = "', 'tenant_idd = "')
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    result = run("config", "check", "--config", str(bad))
    assert result.returncode == 2
    assert "scm.tenant_id" in result.stderr
    assert "Traceback" not in result.stderr


def test_config_check_missing_file() -> None:
    result = run("config", "check", "--config", "nowhere.toml")
    assert result.returncode == 2
    assert "nowhere.toml does not exist" in result.stderr
