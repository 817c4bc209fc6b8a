"""Extract faults found by the crash loop, each pinned by a test of its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability import crashkit
from tests.reliability.crashkit import Moment
from tests.reliability.harness import Bed, differences


@pytest.mark.parametrize("nth", [1, 2])
def test_a_run_killed_as_scm_accepts_an_export_loses_none_of_its_changes(
    bed: Bed, tmp_path: Path, nth: int
) -> None:
    """SCM moves a project's change tracking when an export succeeds; the execution was recorded
    as pending only after ``ExportToPackage`` answered, so a run killed in between forgot an
    accepted export and the rerun's incremental export missed its changes for good (vendors
    renamed in SCM never reached the warehouse, nor their names the CLM)."""
    bed.restore()
    config = crashkit.write_config(bed.settings, tmp_path / "clmsync.toml")
    log = tmp_path / "runs.log"
    assert crashkit.spawn_run(config, Moment("export", nth, "after"), log) == -9
    assert crashkit.spawn_run(config, None, log) == 0, log.read_text()[-3000:]
    assert differences(bed.sums(), bed.reference) == {}
