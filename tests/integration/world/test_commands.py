"""``clmsync emulator world | mutate | export-clm`` and the export folders they write."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from emulator.server import EmulatorInfo
from emulator.world.export import verify
from tests.integration.world.conftest import store_rows

ROOT = Path(__file__).resolve().parents[3]


def clmsync(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", "emulator", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )


def _only_folder(parent: Path) -> Path:
    (folder,) = [p for p in parent.iterdir() if p.is_dir()]
    return folder


def test_world_command_writes_a_world_and_its_export_verifies(tmp_path: Path) -> None:
    done = clmsync("world", "--size", "150", "--seed", "4", "--out", str(tmp_path / "w"))
    assert done.returncode == 0, done.stderr
    assert "planted discrepancies" in done.stdout
    truth = json.loads((tmp_path / "w" / "ground_truth.json").read_text())
    assert truth["size"] == 150
    done = clmsync("export-clm", "--world", str(tmp_path / "w"), "--out", str(tmp_path / "x"))
    assert done.returncode == 0, done.stderr
    folder = _only_folder(tmp_path / "x")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert [f["file"] for f in manifest["files"]] == [
        "counterparties.jsonl", "contracts.jsonl", "agreements.jsonl", "agreement-lines.jsonl",
    ]  # fmt: skip
    assert verify(folder) == []
    meta = json.loads((tmp_path / "w" / "world.json").read_text())
    for entry in manifest["files"]:
        assert entry["rows"] == meta["counts"]["clm"][entry["file"].removesuffix(".jsonl")]
        first = json.loads((folder / entry["file"]).read_text().splitlines()[0])
        assert first["id"]
        assert first["updated_at"].endswith("Z")


def test_bad_arguments_are_named(tmp_path: Path) -> None:
    done = clmsync("world", "--size", "150", "--out", str(tmp_path), "--rates", '{"nope": 1}')
    assert done.returncode == 2
    assert "nope" in done.stderr
    done = clmsync("mutate", "--state-dir", str(tmp_path / "none"))
    assert done.returncode == 2
    assert "emulator.json" in done.stderr
    done = clmsync("export-clm", "--out", str(tmp_path))
    assert done.returncode == 2
    assert "--state-dir" in done.stderr


def test_export_from_a_running_emulator_verifies_and_honours_since(
    emu: EmulatorInfo, tmp_path: Path
) -> None:
    done = clmsync("export-clm", "--state-dir", str(emu.state_dir), "--out", str(tmp_path / "all"))
    assert done.returncode == 0, done.stderr
    folder = _only_folder(tmp_path / "all")
    assert verify(folder) == []
    manifest = json.loads((folder / "manifest.json").read_text())
    counts = {f["object"]: f["rows"] for f in manifest["files"]}
    assert (
        counts["agreement_line"]
        == store_rows(emu, "SELECT count(*) FROM clm.agreement_lines")[0][0]
    )
    (since,) = store_rows(emu, "SELECT quantile_disc(updated_at, 0.9) FROM clm.contracts")[0]
    args = ("--since", since.strftime("%Y-%m-%dT%H:%M:%SZ"), "--out", str(tmp_path / "recent"))
    done = clmsync("export-clm", "--state-dir", str(emu.state_dir), *args)
    assert done.returncode == 0, done.stderr
    recent = json.loads((_only_folder(tmp_path / "recent") / "manifest.json").read_text())
    assert recent["since"] is not None
    rows = {f["object"]: f["rows"] for f in recent["files"]}
    assert 0 < rows["contract"] < counts["contract"]


def test_a_tampered_export_fails_verification(emu: EmulatorInfo, tmp_path: Path) -> None:
    emu.admin("POST", "clm_export", {"out": str(tmp_path)})
    folder = _only_folder(tmp_path)
    path = folder / "contracts.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-1]))
    problems = verify(folder)
    assert any("checksum" in p for p in problems)
    assert any("rows" in p for p in problems)


@pytest.mark.parametrize("fraction", ["0.05"])
def test_mutate_command_writes_the_next_ground_truth(emu: EmulatorInfo, fraction: str) -> None:
    truth = emu.state_dir / "ground_truth.json"
    before = json.loads(truth.read_text())
    done = clmsync(
        "mutate", "--state-dir", str(emu.state_dir), "--fraction", fraction, "--seed", "3"
    )
    assert done.returncode == 0, done.stderr
    after = json.loads(truth.read_text())
    assert after["mutation"]["fraction"] == 0.05
    assert len(after["discrepancies"]) > len(before["discrepancies"])
    served = emu.session().get(
        f"{emu.base_url}/_emulator/ground_truth",
        headers={"X-Emulator-Admin": emu.admin_token},
        timeout=60,
    )
    assert (
        hashlib.sha256(served.content).hexdigest() == hashlib.sha256(truth.read_bytes()).hexdigest()
    )
