"""Publication faults found by the crash loop, each pinned by a test of its own."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from warehouse.db import connect
from warehouse.snapshot import publish_snapshot

KILLED_WHILE_PUBLISHING = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from warehouse import snapshot
    from warehouse.db import connect

    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    snapshot._copy_schema = die
    print(os.getpid(), flush=True)
    con = connect(Path(sys.argv[1]))
    con.execute("CREATE OR REPLACE TABLE reports.rpt_summary AS SELECT 2 AS marker")
    snapshot.publish_snapshot(con, Path(sys.argv[2]))
    """
)


def test_the_copy_of_a_publication_killed_on_the_way_is_removed_by_the_next(
    tmp_path: Path,
) -> None:
    """A run killed while publishing left ``.analytics.duckdb.<pid>.tmp`` behind for good (the
    next publication only removed a copy named after its own process)."""
    target = tmp_path / "analytics.duckdb"
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_WHILE_PUBLISHING, str(tmp_path / "w.duckdb"), str(target)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert killed.returncode == -9, killed.stderr
    abandoned = f".analytics.duckdb.{killed.stdout.strip()}.tmp"
    left = {p.name for p in tmp_path.glob(".analytics.duckdb.*")}
    assert abandoned in left, left
    in_progress = tmp_path / f".analytics.duckdb.{os.getppid()}.tmp"  # a live process's copy
    in_progress.write_bytes(b"being written")

    con = connect(tmp_path / "w.duckdb")
    con.execute("CREATE OR REPLACE TABLE reports.rpt_summary AS SELECT 3 AS marker")
    publish_snapshot(con, target)
    con.close()

    assert sorted(p.name for p in tmp_path.glob(".analytics.duckdb.*")) == [in_progress.name]
    reader = connect(target, read_only=True)
    assert reader.execute("SELECT marker FROM reports.rpt_summary").fetchall() == [(3,)]
    reader.close()
