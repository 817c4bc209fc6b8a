"""Failures during an SCM extract leave the warehouse as it was, and the next run recovers:
a truncated download, an execution that fails, a package short of the rows SCM counted."""

from __future__ import annotations

from typing import Any

import pytest

from connectors import catalog
from connectors.errors import CompletenessError, DownloadError, PackageJobFailed
from flows.steps.extract import extract_complete
from tests.integration.extract.harness import Harness, checksums
from warehouse import relations

USMF: dict[str, Any] = {
    "legal_entities": ["usmf"],
    "entities": ["VendorsV2"],
    "key_snapshot": False,
}
VENDORS = relations.scm("VendorsV2")
EXPORTS = (
    "POST /scm/data/DataManagementDefinitionGroups/Microsoft.Dynamics.DataEntities.ExportToPackage"
)


@pytest.fixture(scope="module")
def primed(make_harness: Any) -> Harness:
    harness = make_harness()
    assert harness.extract(**USMF).ok
    return harness


def _rename_vendor(h: Harness, name: str, offset: int) -> str:
    """Change one usmf vendor in SCM (so the next export has a row); returns its account."""
    account = h.store.execute(
        'SELECT "VendorAccountNumber" FROM scm."VendorsV2" WHERE "dataAreaId" = \'usmf\' '
        "ORDER BY 1 LIMIT 1 OFFSET ?",
        [offset],
    ).fetchall()[0][0]
    keys = {"dataAreaId": "usmf", "VendorAccountNumber": account}
    h.clients.odata.update("VendorsV2", keys, {"VendorOrganizationName": name})
    return str(account)


def _current_name(h: Harness, account: str) -> str:
    return str(
        h.scalar(
            'SELECT "VendorOrganizationName" FROM current_scm.vendors '
            'WHERE "dataAreaId" = \'usmf\' AND "VendorAccountNumber" = ?',
            [account],
        )
    )


def test_a_truncated_download_changes_nothing_and_the_next_run_lands_that_export(
    primed: Harness,
) -> None:
    h = primed
    account = _rename_vendor(h, "Truncated Transfers Ltd", 3)
    before = checksums(h)
    h.info.set_fault(kind="truncate", fraction=0.5)  # every download, every attempt
    failed = h.extract(**USMF)
    assert not failed.ok
    assert {type(r.exception) for r in failed.failures} == {DownloadError}
    assert not extract_complete(h.con, failed.run_id)
    assert checksums(h) == before
    # SCM moved its change tracking: the export is remembered, not lost.
    pending = h.rows(
        "SELECT DISTINCT pending_execution_id FROM ops.extract_state "
        "WHERE source = 'scm' AND legal_entity = 'usmf'"
    )
    assert len(pending) == 1
    assert pending[0][0]

    h.info.clear_faults()
    h.info.reset_stats()
    recovered = h.extract(**USMF)
    assert recovered.ok, recovered.failures
    assert extract_complete(h.con, recovered.run_id)
    vendors = recovered.find("VendorsV2", "usmf")
    assert (vendors[0].batch_id, vendors[0].landed) == (pending[0][0], 1)
    assert _current_name(h, account) == "Truncated Transfers Ltd"
    assert h.info.stats()["requests"][EXPORTS] == 1  # the new export only, after the pending one


def test_a_failed_execution_changes_nothing_and_the_next_run_exports_again(
    primed: Harness,
) -> None:
    h = primed
    account = _rename_vendor(h, "Failed Execution GmbH", 5)
    before = checksums(h)
    h.info.set_fault(kind="execution", outcome="Failed", count=1)
    failed = h.extract(**USMF)
    assert {type(r.exception) for r in failed.failures} == {PackageJobFailed}
    assert checksums(h) == before
    assert (
        h.scalar("SELECT count(pending_execution_id) FROM ops.extract_state WHERE source = 'scm'")
        == 0
    )
    recovered = h.extract(**USMF)
    assert recovered.ok, recovered.failures
    assert _current_name(h, account) == "Failed Execution GmbH"


def test_a_package_short_of_scm_count_fails_that_entity_and_lands_on_the_next_run(
    primed: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = primed
    account = _rename_vendor(h, "Short Count plc", 9)
    before = checksums(h)
    real = h.clients.packages.execution_job_details

    def overstated(execution_id: str) -> list[dict[str, Any]]:
        rows = real(execution_id)
        for row in rows:
            if row["EntityName"] == "Vendors V2":
                row["StagingRecordsCreatedCount"] += 1
        return rows

    monkeypatch.setattr(h.clients.packages, "execution_job_details", overstated)
    short = h.extract(**USMF)
    assert [(r.entity, r.status) for r in short.failures] == [("VendorsV2", "failed")]
    error = short.failures[0].exception
    assert isinstance(error, CompletenessError)
    assert (error.entity, error.legal_entity, error.expected, error.actual) == (
        "VendorsV2", "usmf", 2, 1,
    )  # fmt: skip
    assert "VendorsV2 (usmf): expected 2 rows, landed 1" in str(error)
    assert not extract_complete(h.con, short.run_id)
    after = checksums(h)
    for relation in (VENDORS.raw, VENDORS.current):
        assert after[relation] == before[relation]
    vendor_state = [r for r in after["ops.extract_state"] if r[1] == "VendorsV2" and r[2] == "usmf"]
    assert vendor_state == [
        r for r in before["ops.extract_state"] if r[1] == "VendorsV2" and r[2] == "usmf"
    ]

    # While that execution is not landed, the project is not exported again (a newer package
    # would overtake it, or replace it as the pending one and lose its changes).
    h.info.reset_stats()
    still = h.extract(**USMF)
    assert {(r.entity, r.status) for r in still.failures} == {
        ("VendorsV2", "failed"),
        *((e.name, "blocked") for e in catalog.package_entities() if e.name != "VendorsV2"),
    }
    assert EXPORTS not in h.info.stats()["requests"]

    monkeypatch.undo()
    again = h.extract(**USMF)
    assert again.ok, again.failures
    assert _current_name(h, account) == "Short Count plc"


def test_a_partially_succeeded_export_is_refused_kept_and_replaced_by_a_full_one(
    primed: Harness,
) -> None:
    h = primed
    account = _rename_vendor(h, "Partial Success Inc", 11)
    h.info.set_fault(kind="execution", outcome="PartiallySucceeded", count=1)
    refused = h.extract(**USMF)
    errors = [r.exception for r in refused.failures]
    assert {(type(e), getattr(e, "status", None)) for e in errors} == {
        (PackageJobFailed, "PartiallySucceeded")
    }
    assert "sync.partially_succeeded" in str(errors[0].hint)  # type: ignore[union-attr]
    pending = h.rows(
        "SELECT DISTINCT pending_execution_id FROM ops.extract_state "
        "WHERE source = 'scm' AND legal_entity = 'usmf'"
    )
    assert len(pending) == 1  # SCM moved its change tracking: the execution is not forgotten
    h.info.reset_stats()
    assert not h.extract(**USMF).ok  # still refused, and nothing exported over it
    assert EXPORTS not in h.info.stats()["requests"]

    names = [e.name for e in catalog.package_entities()]
    full = h.extract(legal_entities=["usmf"], entities=names, full=True, key_snapshot=False)
    assert full.ok, full.failures
    assert _current_name(h, account) == "Partial Success Inc"
