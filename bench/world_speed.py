"""How fast the world generator is: ``python -m bench.world_speed [--sizes 1000,10000,1000000]``.

Each size is generated into a temporary folder (removed afterwards) in a fresh process, so one
size's memory does not slow the next. Prints one line per size with the wall time, its limit,
the rows written and the peak memory, and exits 1 when a size misses its limit.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

LIMITS = {1_000: 2.0, 10_000: 15.0, 1_000_000: 240.0}

_CHILD = """
import json, resource, sys, time
from pathlib import Path
from emulator.world import generate
size, seed, out = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
started = time.perf_counter()
summary = generate(size, seed, out)
seconds = time.perf_counter() - started
rows = sum(sum(side.values()) for side in summary.counts.values())
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
print(json.dumps({"seconds": seconds, "rows": rows, "peak_mb": peak,
                  "discrepancies": sum(summary.discrepancies.values())}))
"""


def run(size: int, seed: int) -> dict[str, float]:
    """Generate one world in a child process; returns its figures."""
    folder = Path(tempfile.mkdtemp(prefix="clmsync-world-bench-"))
    try:
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, str(size), str(seed), str(folder / "world")],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"generating size {size} failed:\n{done.stderr}")
        figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
        return figures
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,1000000", help="comma-separated sizes")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    header = ("size", "seconds", "limit", "rows", "peak MB", "discrepancies")
    widths = (10, 9, 7, 11, 8, 14)
    print(" ".join(f"{h:>{w}}" for h, w in zip(header, widths, strict=True)))
    failed = False
    for size in sizes:
        figures = run(size, args.seed)
        limit = LIMITS.get(size)
        ok = limit is None or figures["seconds"] <= limit
        failed |= not ok
        print(
            f"{size:>10,} {figures['seconds']:>9.2f} {limit if limit else '-':>7} "
            f"{int(figures['rows']):>11,} {int(figures['peak_mb']):>8,} "
            f"{int(figures['discrepancies']):>14,}{'' if ok else '  OVER LIMIT'}",
            flush=True,
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
