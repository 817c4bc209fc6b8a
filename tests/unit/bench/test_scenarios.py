"""The scenario registry, the child-process measurement and the end-to-end steps text."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bench import harness
from bench.scenarios import SCENARIOS, load
from bench.scenarios.e2e import step_at, steps_text


def test_every_scenario_loads_with_a_summary_and_a_run() -> None:
    assert list(SCENARIOS) == ["landing", "odata", "models", "incremental", "push", "e2e"]
    for name in SCENARIOS:
        module = load(name)
        assert module.SUMMARY.strip()
        assert callable(module.run)


def test_an_unknown_scenario_names_the_known_ones() -> None:
    with pytest.raises(SystemExit, match="unknown scenario 'nope'; known: landing, odata"):
        load("nope")


def test_a_child_is_measured_alone(tmp_path: Path) -> None:
    # The child holds ~200 MB; this process holds 300 MB more, which must not count (wait4's
    # ru_maxrss would count it: it keeps the high-water mark from before the child's exec).
    held = bytearray(300 * 2**20)
    held[::4096] = b"x" * len(held[::4096])
    code = (
        "import time; b = bytearray(200 * 2**20); b[::4096] = b'x' * len(b[::4096]); "
        "time.sleep(0.5); raise SystemExit(3)"
    )
    out = tmp_path / "out"
    with out.open("wb") as stdout:
        child = harness.run_child([sys.executable, "-c", code], stdout=stdout, sample_seconds=0.1)
    assert child.returncode == 3
    assert 200 * 2**20 <= child.peak_rss_bytes < 300 * 2**20
    assert child.seconds > 0
    del held


def test_a_child_is_sampled_while_it_runs(tmp_path: Path) -> None:
    code = "import time; b = bytearray(100 * 2**20); b[::4096] = b'x' * len(b[::4096]); " \
        "time.sleep(1.0)"  # fmt: skip
    child = harness.run_child([sys.executable, "-c", code], sample_seconds=0.1)
    peak = child.peak_sample()
    assert peak is not None
    assert 100 * 2**20 <= peak[1] <= child.peak_rss_bytes
    assert 0 < peak[0] <= child.seconds


def test_steps_text_lists_steps_in_order_and_flags_what_did_not_succeed() -> None:
    report = {
        "steps": [
            {"step": "extract", "status": "succeeded", "seconds": 312.456},
            {"step": "build", "status": "succeeded", "seconds": 41.2},
            {"step": "push", "status": "skipped", "seconds": 0.0123},
        ]
    }
    assert steps_text(report) == "extract 312 s, build 41.2 s, push 0.012 s (skipped)"
    assert steps_text({}) == "-"


def test_step_at_finds_the_step_going_on_at_a_moment() -> None:
    start = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    report = {
        "started_at": start.isoformat(),
        "steps": [
            {"step": "extract", "status": "succeeded", "seconds": 100.0},
            {"step": "build", "status": "succeeded", "seconds": 50.0},
        ],
    }
    at = [start + timedelta(seconds=s) for s in (-2, 10, 120, 400)]
    assert [step_at(report, m) for m in at] == [
        "start-up",
        "extract",
        "build",
        "after the last step",
    ]
    assert step_at({}, start) == "-"
