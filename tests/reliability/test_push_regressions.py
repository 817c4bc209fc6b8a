"""Push faults found by the fault matrix, each pinned by a small test of its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connectors.errors import PackageJobFailed
from loader import package_channel
from loader.package_channel import PackageOptions
from tests.unit.loader.test_package_channel import FakePackages, _outcomes, _plan


class FailingImport(FakePackages):
    """SCM ends the import ``Failed`` without naming a row (as PackageApi.wait reports it)."""

    def wait(self, execution: str, **kw: Any) -> str:
        raise PackageJobFailed(execution, "Failed", detail="0 error(s)")

    def execution_errors(self, execution: str) -> list[Any]:
        return []


@pytest.mark.parametrize("may_import", [True, False])
def test_an_import_that_failed_as_a_whole_stops_the_push(tmp_path: Path, may_import: bool) -> None:
    """Every row is recorded failed, and the push stops with the execution named (the run then
    fails instead of claiming success with nothing applied); settling an older run's batch
    records the same rows without failing the run doing the settling."""
    con, rows = _plan()
    fake = FailingImport(failed=[], status="Failed")
    execution = package_channel.execution_id("CLMSYNC", "run-1", str(rows[0].batch_id))
    fake.known.add(execution)
    options = PackageOptions("CLMSYNC", 60.0, tmp_path)

    def push() -> None:
        package_channel.push_batch(con, fake, "run-1", rows, sent_before=True, options=options,  # type: ignore[arg-type]
                                   may_import=may_import)  # fmt: skip

    if may_import:
        with pytest.raises(PackageJobFailed, match=rf"{execution} ended Failed: 5 .* not applied"):
            push()
    else:
        push()
    assert {o[1] for o in _outcomes(con)} == {"failed"}
