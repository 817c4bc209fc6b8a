"""Scenario 5, push crossover: the loader's two channels for deltas of 10 to 100,000 rows.

Reuses the loader's own benchmark (``bench.push``): a 1,000-vendor world served in this process
with stated latencies (``bench.push.LATENCY_MS`` per HTTP request; package executions
``QUEUE_S`` queued, then ``FIXED_S`` + ``ROW_S`` per row; status polls from ``POLL_S`` growing to
``MAX_POLL_S``), a delta of N agreement-line creates (and N price updates of existing lines, up to
1,000: the world holds about 1,700 lines) planned with the route forced, pushed, verified.
The emulator counts the round trips. Each (series, size) is measured ``rounds`` times, the two
channels alternating and the first of them rotating.

Figures: seconds per channel and size; ratios package / OData per size (above 1: OData is
faster); the crossover of straight lines fitted to each channel, the threshold it recommends
and the configured default ``sync.odata_row_threshold``. The issue states no target here.
"""

from __future__ import annotations

from typing import Any

from bench import harness
from bench.push import (
    FIXED_S,
    LATENCY_MS,
    MAX_POLL_S,
    POLL_S,
    QUEUE_S,
    ROW_S,
    Measure,
    crossover,
    measure,
    round_down,
)
from bench.scenarios import Options
from emulator.server import running_emulator
from emulator.world import generate
from flows.settings import SyncSettings

SUMMARY = "loader channels (OData $batch vs package import) for 10 to 100,000 rows: crossover"
CREATES = (10, 100, 1_000, 10_000, 100_000)
UPDATES = (10, 100, 1_000)
ROUNDS = 1
CHANNELS = ("odata", "package")


def run(options: Options) -> harness.Result:
    rounds = options.rounds or ROUNDS
    largest = options.size or CREATES[-1]
    series = {
        "creates": [n for n in CREATES if n <= largest],
        "updates": [n for n in UPDATES if n <= largest],
    }
    world = options.workdir / "world"
    generate(1000, 1, world)
    emulator_options: dict[str, Any] = {
        "latency_ms": LATENCY_MS, "execution_queue_seconds": QUEUE_S,
        "execution_fixed_seconds": FIXED_S, "execution_row_seconds": ROW_S,
        "error_file_seconds": 1.0,
    }  # fmt: skip
    points: dict[tuple[str, int, str], list[Measure]] = {}
    state = options.workdir / "emulator"
    with running_emulator(state, world_dir=world, **emulator_options) as info:
        for index in range(rounds):
            shift = index % 2
            for name, sizes in series.items():
                for rows in sizes:
                    for channel in CHANNELS[shift:] + CHANNELS[:shift]:
                        point = measure(info, name, rows, channel)
                        if point.succeeded != rows:
                            raise RuntimeError(
                                f"{name} {rows} via {channel}: {point.succeeded} succeeded"
                            )
                        points.setdefault((name, rows, channel), []).append(point)
    return _result(points, series, rounds)


def _result(
    points: dict[tuple[str, int, str], list[Measure]], series: dict[str, list[int]], rounds: int
) -> harness.Result:
    figures: dict[str, harness.Stats] = {}
    ratios: list[harness.Ratio] = []
    trips: list[str] = []
    found: dict[str, float | None] = {}
    for name, sizes in series.items():
        medians: list[Measure] = []
        for rows in sizes:
            stats = {}
            for channel in CHANNELS:
                measured = points[(name, rows, channel)]
                stats[channel] = harness.Stats(tuple(p.seconds for p in measured))
                figures[f"{name} {rows:,} {channel}"] = stats[channel]
                last = measured[-1]
                medians.append(
                    Measure(name, rows, channel, stats[channel].median, 0.0, last.requests,
                            last.polls, last.succeeded)
                )  # fmt: skip
                polls = f" (+{last.polls} polls)" if last.polls else ""
                trips.append(f"{name} {rows:,} {channel} {last.requests:,}{polls}")
            ratios.append(
                harness.ratio(f"{name} {rows:,} package / OData", stats["package"], stats["odata"])
            )
        found[name] = crossover(medians)
    candidates = [v for v in (found.get("updates"), found.get("creates")) if v is not None]
    shown = {k: "none" if v is None else f"{v:,.0f} rows" for k, v in found.items()}
    notes = [
        "crossover " + ", ".join(f"{k} {v}" for k, v in shown.items()),
        f"recommended odata_row_threshold {round_down(min(candidates)):,}"
        if candidates
        else "no crossover: one channel wins at every size",
        f"configured default {SyncSettings.model_fields['odata_row_threshold'].default:,}",
        "round trips (HTTP requests carrying the push): " + "; ".join(trips),
    ]
    return harness.Result(
        scenario="5 push crossover",
        parameters={
            "world": "1,000 vendors",
            "OData latency": f"{LATENCY_MS} ms per request",
            "package execution": f"{QUEUE_S:g} s queued + {FIXED_S:g} s + {ROW_S * 1000:g} ms/row",
            "status polls": f"{POLL_S:g} s growing to {MAX_POLL_S:g} s",
            "rounds": rounds,
        },
        figures=figures,
        ratios=ratios,
        notes=notes,
    )
