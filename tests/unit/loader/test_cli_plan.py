"""``clmsync plan`` and ``clmsync push`` from the command line (no SCM needed to plan)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.unit.loader import kit
from warehouse import db

ROOT = Path(__file__).resolve().parents[3]


def _config(tmp_path: Path) -> Path:
    text = (ROOT / "clmsync.example.toml").read_text()
    text = text.replace('path = "data/warehouse.duckdb"', f'path = "{tmp_path / "wh.duckdb"}"')
    config = tmp_path / "clmsync.toml"
    config.write_text(text)
    return config


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip


def test_plan_prints_the_plan_and_sends_nothing(tmp_path: Path) -> None:
    config = _config(tmp_path)
    con = db.connect(tmp_path / "wh.duckdb")
    kit.write(con, [
        kit.contract_create("usmf", "K-0000001"),
        kit.line_close("demf", "PA0000001", 2),
        kit.contract_create("usmf", "K-0000002", Colour="red"),
    ])  # fmt: skip
    con.close()

    result = _run("plan", "--config", str(config), "--run-id", "r1", "--json")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["rows"] == 3
    assert [(g["entity"], g["legal_entity"], g["channels"]) for g in plan["groups"]] == [
        ("CLMIntegrationContracts", "usmf", ["odata"]),
        ("CLMIntegrationPurchaseAgreementLines", "demf", ["odata"]),
    ]
    assert "has no field(s) Colour" in plan["problems"][0]["problem"]

    tables = _run("plan", "--config", str(config), "--run-id", "r1")
    assert tables.returncode == 0, tables.stderr
    assert "routing decisions" in tables.stdout
    assert "deltas that will not be sent" in tables.stdout
    con = db.connect(tmp_path / "wh.duckdb", read_only=True)
    assert con.execute("SELECT count(*) FROM ops.push_ledger").fetchall() == [(0,)]


def test_push_without_a_plan_says_what_to_do(tmp_path: Path) -> None:
    result = _run("push", "--config", str(_config(tmp_path)))
    assert result.returncode == 1
    assert "there is no push plan yet" in result.stderr
    assert "clmsync plan" in result.stderr
