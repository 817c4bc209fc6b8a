"""The benchmark harness: statistics, alternation, targets and the results row."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench import harness
from bench.harness import Result, Stats, Target


def test_stats_median_range_and_spread() -> None:
    stats = Stats((3.0, 1.0, 2.0, 10.0))
    assert stats.median == 2.5
    assert (stats.low, stats.high) == (1.0, 10.0)
    assert stats.spread == pytest.approx(9.0 / 2.5)
    assert stats.text() == "2.50 s [1.00–10.0, 4 rounds]"


def test_stats_refuse_no_samples() -> None:
    with pytest.raises(ValueError, match="at least one sample"):
        Stats(())


def test_scaled_stats_extrapolate_every_round() -> None:
    assert Stats((1.0, 2.0)).scaled(10).samples == (10.0, 20.0)


def test_ratio_of_medians_with_paired_round_range() -> None:
    baseline = Stats((10.0, 12.0, 30.0))
    ours = Stats((5.0, 4.0, 6.0))
    found = harness.ratio("speed", baseline, ours)
    assert found.value == pytest.approx(12.0 / 5.0)
    assert (found.low, found.high) == pytest.approx((2.0, 5.0))
    assert found.text() == "speed 2.40× [2.00–5.00]"


@pytest.mark.parametrize(
    ("op", "value", "met"),
    [(">=", 0.7, True), (">=", 0.69, False), ("<=", 3.0, True), ("<=", 3.01, False),
     ("<", 600.0, False), ("<", 599.0, True)],
)  # fmt: skip
def test_targets_compare_as_stated(op: str, value: float, met: bool) -> None:
    limit = {">=": 0.7, "<=": 3.0, "<": 600.0}[op]
    target = Target("t", value, op, limit)  # type: ignore[arg-type]
    assert target.met is met
    assert target.text().endswith("target met" if met else "target missed")


def test_rounds_alternate_and_rotate_the_order() -> None:
    order: list[str] = []
    contenders = {name: (lambda n=name: order.append(n)) for name in ("a", "b", "c")}
    figures = harness.run_rounds(contenders, 3, warmup=1)
    assert order == ["a", "b", "c", "b", "c", "a", "c", "a", "b", "a", "b", "c"]
    assert all(len(stats.samples) == 3 for stats in figures.values())


def test_a_contender_returning_seconds_is_timed_by_them() -> None:
    figures = harness.run_rounds({"x": lambda: 42.0}, 2)
    assert figures["x"].samples == (42.0, 42.0)


def _result() -> Result:
    return Result(
        scenario="1 package landing",
        parameters={"rows": 1_000_000, "rounds": 3},
        figures={"clmsync": Stats((2.0, 2.2, 1.9)), "a|b floor": Stats((1.5, 1.6, 1.4))},
        ratios=[harness.ratio("speed / floor", Stats((1.5, 1.6, 1.4)), Stats((2.0, 2.2, 1.9)))],
        targets=[Target("speed vs floor", 0.75, ">=", 0.7), Target("vs dlt", 2.0, ">=", 3.0)],
    )


def _row(result: Result) -> str:
    return harness.format_row(
        result,
        when=datetime(2026, 5, 1, 12, 30, tzinfo=UTC),
        machine_text="Linux x86_64, 2 cores",
        python="3.11.7",
        versions_text="duckdb 2.0.1",
        commit_text="abc1234",
    )


def test_row_has_one_cell_per_column_and_escapes_pipes() -> None:
    row = _row(_result())
    cells = row.removeprefix("| ").removesuffix(" |").split(" | ")
    assert len(cells) == len(harness.COLUMNS)
    assert cells[0] == "2026-05-01 12:30"
    assert cells[6] == "rows 1,000,000; rounds 3"
    assert "a\\|b floor 1.50 s [1.40–1.60, 3 rounds]" in cells[7]
    assert cells[9] == (
        "speed vs floor 0.750 (target >= 0.700): target met; "
        "vs dlt 2.00 (target >= 3.00): target missed"
    )
    assert "\n" not in row


def test_append_writes_the_header_once(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    harness.append_row("| first |", results)
    harness.append_row("| second |", results)
    text = results.read_text()
    assert text.startswith("# Benchmark results")
    assert text.count(harness.header()) == 1
    assert text.endswith("| first |\n| second |\n")


def test_append_keeps_what_a_person_wrote_before(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    results.write_text("# Notes\n\nHand-written context.")
    harness.append_row("| row |", results)
    assert (
        results.read_text()
        == "# Notes\n\nHand-written context.\n\n" + harness.header() + "| row |\n"
    )
