"""Run benchmark scenarios: ``python -m bench [SCENARIO ...] [--size N] [--rounds N]``.

With no scenario every one runs, in order. Each prints its figures, ratios and targets and
appends one row to ``bench/RESULTS.md`` (``--no-record`` skips that; ``--results`` writes
elsewhere). ``--size`` and ``--rounds`` override a scenario's defaults, e.g. for a quick try;
the results row records the size used, so a smaller run never passes for a full one.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

# Peers and Prefect read these at import: no telemetry from a benchmark, ever.
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

from bench import harness
from bench.scenarios import SCENARIOS, Options, load


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("scenarios", nargs="*", metavar="SCENARIO", help=", ".join(SCENARIOS))
    parser.add_argument("--size", type=int, help="rows or vendors (default: the scenario's)")
    parser.add_argument("--rounds", type=int, help="timed rounds (default: the scenario's)")
    parser.add_argument("--results", type=Path, default=harness.RESULTS)
    parser.add_argument("--no-record", action="store_true", help="print only")
    parser.add_argument("--workdir", type=Path, help="where scenarios build their data")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    args = parser.parse_args(argv)
    if args.list:
        for name in SCENARIOS:
            print(f"{name:12} {load(name).SUMMARY}")
        return 0
    names = args.scenarios or list(SCENARIOS)
    modules = [(name, load(name)) for name in names]
    for name, module in modules:
        before = harness.load_average()
        # The code measured is the code checked out now, whatever is committed meanwhile.
        measured = harness.commit()
        with tempfile.TemporaryDirectory(prefix=f"clmsync-bench-{name}-", dir=args.workdir) as tmp:
            result = module.run(Options(Path(tmp), size=args.size, rounds=args.rounds))
        result.parameters["load"] = f"{before} → {harness.load_average()}"
        print("\n".join(harness.report_lines(result)), flush=True)
        if not args.no_record:
            harness.append_row(harness.format_row(result, commit_text=measured), args.results)
            print(f"  row appended to {args.results}", flush=True)
    # A missed target is a finding the row records, not a failure of the run.
    return 0


if __name__ == "__main__":
    sys.exit(main())
