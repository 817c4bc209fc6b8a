"""The package channel against a fake package API: errors mapped back to plan rows, and a
batch sent before is asked about, never imported twice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from connectors.dmf import ExecutionError
from connectors.errors import ODataRequestError
from loader import ledger, package_channel
from loader.package_channel import PackageOptions
from loader.plan import load_rows, make_plan
from tests.unit.loader import kit


class FakePackages:
    """Records the calls; ``failed`` lines come back in the error-keys file."""

    def __init__(self, failed: list[str], status: str = "PartiallySucceeded") -> None:
        self.failed = failed
        self.status = status
        self.known: set[str] = set()
        self.calls: list[str] = []

    def azure_write_url(self, name: str) -> tuple[str, str]:
        self.calls.append("GetAzureWriteUrl")
        return "blob", f"https://blob/{name}"

    def upload(self, url: str, path: Path) -> None:
        self.calls.append("upload")
        assert path.stat().st_size > 0

    def import_from_package(self, url: str, project: str, le: str, **kw: Any) -> str:
        self.calls.append(f"ImportFromPackage {kw['execution_id']}")
        self.known.add(kw["execution_id"])
        return str(kw["execution_id"])

    def execution_status(self, execution: str) -> str:
        self.calls.append("GetExecutionSummaryStatus")
        if execution not in self.known:
            raise ODataRequestError(
                f"The execution details for execution ID '{execution}' were not found.",
                status=400,
            )
        return self.status

    def wait(self, execution: str, **kw: Any) -> str:
        return self.execution_status(execution)

    def execution_errors(self, execution: str) -> list[ExecutionError]:
        base = 5637144576
        return [
            ExecutionError(str(base + 10 + i), "UNITSYMBOL", f"The value 'U{i}' is not found.")
            for i, _ in enumerate(self.failed)
        ]

    def target_error_keys(self, execution: str, label: str) -> list[dict[str, str]]:
        return [
            {"PURCHASEAGREEMENTLEGALENTITYID": "USMF", "EXTERNALCONTRACTLINEID": line.lower()}
            for line in self.failed
        ]

    def staging_error_rows(self, execution: str, label: str) -> list[dict[str, str]]:
        return []


def _plan() -> tuple[duckdb.DuckDBPyConnection, list]:
    con = kit.warehouse()
    kit.write(con, [kit.line_create("usmf", f"AGL-{i:08d}", "K-1") for i in range(1, 6)])
    make_plan(con, "run-1", threshold=0)
    ledger.open_rows(con, "run-1")
    return con, load_rows(con, "run-1")


def _outcomes(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    return con.execute(
        "SELECT seq, status, scm_message, execution_id FROM ops.push_ledger ORDER BY seq"
    ).fetchall()


def test_errors_are_mapped_to_their_rows_by_natural_key(tmp_path: Path) -> None:
    con, rows = _plan()
    fake = FakePackages(failed=["AGL-00000002", "AGL-00000004"])
    options = PackageOptions("CLMSYNC", 60.0, tmp_path)
    package_channel.push_batch(con, fake, "run-1", rows, sent_before=False, options=options)  # type: ignore[arg-type]
    execution = "CLMSYNC-PUSH-run-1-purchase_agreement_lines-usmf-001"
    assert fake.calls[:3] == ["GetAzureWriteUrl", "upload", f"ImportFromPackage {execution}"]
    outcomes = _outcomes(con)
    assert [o[1] for o in outcomes] == ["succeeded", "failed", "succeeded", "failed", "succeeded"]
    assert outcomes[1][2] == "UNITSYMBOL: The value 'U0' is not found."
    assert outcomes[3][2] == "UNITSYMBOL: The value 'U1' is not found."
    assert {o[3] for o in outcomes} == {execution}
    assert not list(tmp_path.glob("*.zip"))  # the package file is gone once imported


def test_a_batch_sent_before_is_asked_about_and_not_imported_again(tmp_path: Path) -> None:
    con, rows = _plan()
    fake = FakePackages(failed=[], status="Succeeded")
    execution = package_channel.execution_id("CLMSYNC", "run-1", str(rows[0].batch_id))
    fake.known.add(execution)  # the crashed push's import reached SCM
    options = PackageOptions("CLMSYNC", 60.0, tmp_path)
    package_channel.push_batch(con, fake, "run-1", rows, sent_before=True, options=options)  # type: ignore[arg-type]
    assert not [c for c in fake.calls if c.startswith(("ImportFromPackage", "upload"))]
    assert [o[1] for o in _outcomes(con)] == ["succeeded"] * 5


@pytest.mark.parametrize("may_import", [True, False])
def test_a_batch_scm_never_heard_of_is_imported_under_the_same_id_or_failed(
    tmp_path: Path, may_import: bool
) -> None:
    con, rows = _plan()
    fake = FakePackages(failed=[], status="Succeeded")
    options = PackageOptions("CLMSYNC", 60.0, tmp_path)
    package_channel.push_batch(con, fake, "run-1", rows, sent_before=True, options=options,  # type: ignore[arg-type]
                               may_import=may_import)  # fmt: skip
    imports = [c for c in fake.calls if c.startswith("ImportFromPackage")]
    statuses = {o[1] for o in _outcomes(con)}
    if may_import:
        assert imports == ["ImportFromPackage CLMSYNC-PUSH-run-1-purchase_agreement_lines-usmf-001"]
        assert statuses == {"succeeded"}
    else:
        assert imports == []
        assert statuses == {"failed"}
