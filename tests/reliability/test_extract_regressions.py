"""Extract faults found by the crash loop, each pinned by a test of its own."""

from __future__ import annotations

from pathlib import Path

from connectors import catalog
from tests.reliability import crashkit
from tests.reliability.crashkit import Moment
from tests.reliability.harness import Bed, differences, run


def test_a_run_killed_as_scm_accepts_an_export_loses_none_of_its_changes(
    bed: Bed, tmp_path: Path
) -> None:
    """SCM moves a project's change tracking when an export succeeds; the execution was recorded
    as pending only after ``ExportToPackage`` answered, so a run killed in between forgot an
    accepted export and the rerun's incremental export missed its changes for good (vendors
    renamed in SCM never reached the warehouse, nor their names the CLM)."""
    bed.restore()
    config = crashkit.write_config(bed.settings, tmp_path / "clmsync.toml")
    log = tmp_path / "runs.log"
    assert crashkit.spawn_run(config, Moment("export", 1, "after"), log) == -9
    assert crashkit.spawn_run(config, None, log) == 0, log.read_text()[-3000:]
    assert differences(bed.sums(), bed.reference) == {}


def test_downloads_a_killed_run_left_behind_are_removed_by_the_next_run(bed: Bed) -> None:
    """A package is removed once its entities are landed; a run killed after landing the last
    of them (or while downloading) left the file in the landing folder for good, since the
    next export has a new execution id (the crash loop found one after a chain)."""
    bed.restore()
    folder = Path(bed.settings.warehouse.landing_dir) / "scm"
    folder.mkdir(parents=True, exist_ok=True)
    prefix = bed.settings.scm.data_project_prefix
    left = [
        folder / f"{catalog.export_project_name(prefix, le)}-2026-01-01_00-00-00-{n}.zip{tail}"
        for n, (le, tail) in enumerate([("usmf", ""), ("demf", ".part")])
    ]
    for path in left:
        path.write_bytes(b"PK\x03\x04 what a killed run left")
    report = run(bed.settings)
    assert report.status == "succeeded", report.error
    assert [p.name for p in folder.iterdir()] == []
    assert differences(bed.sums(), bed.reference) == {}
