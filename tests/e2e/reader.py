"""A reader in its own process: opens the analytics snapshot again and again until told to
stop, and prints one JSON line per attempt (what an analyst's tool does during a run)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import duckdb


def main(path: str, stop: str) -> None:
    while not Path(stop).exists():
        try:
            con = duckdb.connect(path, read_only=True)
            try:
                runs = con.execute("SELECT count(DISTINCT run_id) FROM ops.runs").fetchall()[0][0]
                mismatches = con.execute("SELECT count(*) FROM reports.rpt_mismatches").fetchall()[
                    0
                ][0]
            finally:
                con.close()
            line = {"ok": True, "runs": runs, "mismatches": mismatches}
        except Exception as exc:  # any failure to read is what the test looks for
            line = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(line), flush=True)
        time.sleep(0.05)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
