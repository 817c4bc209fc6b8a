"""``clmsync demo`` at a small size: the figures it prints match the ground truth."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from flows.demo import run_demo


def test_the_demo_figures_match_the_ground_truth(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = run_demo(data, size=200, seed=2, fraction=0.02, quiet=True, execution_seconds=0.02)
    first, second = result["runs"]
    for run in (first, second):
        assert run["report"]["status"] == "succeeded"
        truth = run["truth"]
        assert truth["missing"] == []
        assert truth["unexpected"] == []
        assert truth["expected"] == truth["found"] == truth["matched"] > 0
        assert run["unresolved_actions"] == 0
        totals = run["report"]["totals"]
        assert totals["failed"] == 0
        assert sum(totals["pushed"].values()) == totals["verified"] > 0
    assert second["report"]["totals"]["extracted"] < first["report"]["totals"]["extracted"]
    assert result["mutation"]["discrepancies"] > 0
    open_by_kind, _linked, run_log = result["queries"]
    assert sum(row[1] for row in open_by_kind["rows"]) == second["truth"]["found"]
    assert {row[1] for row in run_log["rows"]} >= {"extract", "push", "verify"}
    assert (data / "analytics.duckdb").is_file()
    # The demo stopped the emulator it started.
    pid = json.loads((data / "emulator" / "emulator.json").read_text())["pid"]
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
