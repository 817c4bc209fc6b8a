"""Two ``reconcile`` runs started together never write the warehouse at once.

``clmsync run`` in two processes started at the same moment: one takes the warehouse for the
whole run; the other fails fast at the step "open warehouse", naming the file and the holder,
before the first has finished, and writes nothing (not even its own run record). The run that
went through ends exactly as the uninterrupted reference run, as if it had been alone.

Under Prefect the same guarantee comes from the deployment's limits (one reconcile at a time,
new ones cancelled; every flow run takes the one-slot writer limit before it writes), asserted
in ``tests/e2e/test_serve.py::test_the_deployments_are_served_with_their_schedule_and_limits``;
two runs in threads of one process meet the per-file lock of ``flows.steps.writer``
(``tests/unit/flows/test_writer.py``).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import duckdb

from tests.reliability import crashkit
from tests.reliability.harness import Bed, differences


def test_two_runs_started_together_never_write_the_warehouse_at_once(
    bed: Bed, tmp_path: Path
) -> None:
    bed.restore()
    config = crashkit.write_config(bed.settings, tmp_path / "clmsync.toml")
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    runs = [crashkit.start_run(config, None, log) for log in logs]
    ended: dict[int, float] = {}
    deadline = time.monotonic() + 300
    while len(ended) < len(runs) and time.monotonic() < deadline:
        for i, process in enumerate(runs):
            if i not in ended and not process.is_alive():
                ended[i] = time.monotonic()
        time.sleep(0.05)
    codes = [crashkit.finish(process) for process in runs]

    assert sorted(codes) == [0, 1], [log.read_text()[-2000:] for log in logs]
    winner, loser = codes.index(0), codes.index(1)
    refusal = " ".join(logs[loser].read_text().split())  # rich wraps long lines
    assert ended[loser] < ended[winner]  # it failed fast, while the other run went on
    assert refusal.count("error:") == 1, refusal
    assert "failed at step 'open warehouse'" in refusal
    assert "is in use by another process" in refusal
    assert "Traceback" not in refusal
    refused_run = re.search(r"error: run (\S+) failed", refusal)
    assert refused_run is not None

    assert not differences(bed.sums(), bed.reference)
    con = duckdb.connect(str(bed.warehouse), read_only=True)
    try:
        recorded = con.execute(
            "SELECT count(*) FROM ops.runs WHERE run_id = ?", [refused_run.group(1)]
        ).fetchall()
    finally:
        con.close()
    assert recorded == [(0,)]
