"""The package API against the emulator: export, download, import, executions and faults."""

from __future__ import annotations

import time
from pathlib import Path

import pyarrow as pa
import pytest

from connectors.errors import BlobUrlExpired, ODataRequestError, PackageJobFailed
from connectors.package import PackageReader, RowError
from connectors.package_writer import PackageWriter
from emulator.server import EmulatorInfo
from tests.integration.connectors.conftest import Clients

PROJECT = "CLMSYNC-EXPORT-USMF"


@pytest.fixture(scope="module")
def project(clients: Clients) -> str:
    """An export data project with vendors and contracts, created over OData."""
    odata = clients.odata
    odata.create(
        "DataManagementDefinitionGroups",
        {
            "Name": PROJECT,
            "Description": "clmsync export",
            "OperationType": "Export",
            "ProjectCategory": "Integration",
            "GenerateDataPackage": "Yes",
        },
    )
    for sequence, label in enumerate(("Vendors V2", "CLM integration contract"), 1):
        odata.create(
            "DataManagementDefinitionGroupDetails",
            {
                "DefinitionGroupId": PROJECT,
                "EntityName": label,
                "SourceFormat": "CSV-Unicode",
                "ExecutionUnit": 1,
                "LevelInExecutionUnit": 1,
                "SequenceInLevel": sequence,
                "DefaultRefreshType": "FullPush",
            },
        )
    return PROJECT


def _export(clients: Clients, project: str, tmp_path: Path, **faults: object) -> Path:
    api = clients.packages
    execution = api.export_to_package(project, "vendors.zip", "usmf")
    assert api.wait(execution, timeout=30, partially_succeeded="fail") == "Succeeded"
    url = api.exported_package_url(execution, timeout=10)
    return api.download(url, tmp_path / f"{execution}.zip")


def test_export_wait_download_and_read(clients: Clients, project: str, tmp_path: Path) -> None:
    package = _export(clients, project, tmp_path)
    errors: list[RowError] = []
    with PackageReader(package) as reader:
        labels = [e.label for e in reader.entities()]
        assert labels == ["Vendors V2", "CLM integration contract"]
        assert reader.header.version in (1, 2)
        table = reader.open_csv("Vendors V2", on_error=errors.append).read_all()
    assert errors == []
    accounts = set(table.column("VendorAccountNumber").to_pylist())
    expected = {
        r["VendorAccountNumber"]
        for p in clients.odata.pages("VendorsV2", filter="dataAreaId eq 'usmf'", cross_company=True)
        for r in p
    }
    assert accounts == expected
    assert "US-O'HARA-000123" in accounts
    assert table.column("_row_number").to_pylist() == list(range(1, table.num_rows + 1))


def test_status_polls_before_the_execution_exists_count_as_pending(
    clients: Clients, emu: EmulatorInfo, project: str
) -> None:
    emu.configure(status_visible_after=0.3)
    try:
        execution = clients.packages.export_to_package(project, "v.zip", "usmf")
        assert (
            clients.packages.wait(execution, timeout=30, partially_succeeded="fail") == "Succeeded"
        )
    finally:
        emu.configure(status_visible_after=0.0)
    assert any(k.endswith(" 400") for k in emu.stats()["responses"])


def test_a_truncated_download_is_retried(
    clients: Clients, emu: EmulatorInfo, project: str, tmp_path: Path
) -> None:
    emu.set_fault(kind="truncate", count=1, fraction=0.4)
    emu.reset_stats()
    package = _export(clients, project, tmp_path)
    with PackageReader(package) as reader:
        assert reader.open_csv("Vendors V2").read_all().num_rows > 0
    assert emu.stats()["requests"]["GET /blob/dmf"] == 2


def test_an_expired_blob_url_is_refused_and_a_fresh_one_works(
    clients: Clients, emu: EmulatorInfo, project: str, tmp_path: Path
) -> None:
    api = clients.packages
    execution = api.export_to_package(project, "vendors.zip", "usmf")
    api.wait(execution, timeout=30, partially_succeeded="fail")
    emu.set_fault(kind="blob_expired", count=1)
    stale = api.exported_package_url(execution)
    with pytest.raises(BlobUrlExpired):
        api.download(stale, tmp_path / "p.zip")
    fresh = api.exported_package_url(execution)
    assert api.download(fresh, tmp_path / "p.zip").stat().st_size > 0


def test_partially_succeeded_and_failed_executions(
    clients: Clients, emu: EmulatorInfo, project: str
) -> None:
    api = clients.packages
    emu.set_fault(kind="execution", outcome="PartiallySucceeded", count=2)
    first = api.export_to_package(project, "a.zip", "usmf")
    assert api.wait(first, timeout=30, partially_succeeded="accept") == "PartiallySucceeded"
    second = api.export_to_package(project, "b.zip", "usmf")
    with pytest.raises(PackageJobFailed) as caught:
        api.wait(second, timeout=30, partially_succeeded="fail")
    assert caught.value.status == "PartiallySucceeded"
    emu.set_fault(kind="execution", outcome="Failed", count=1)
    third = api.export_to_package(project, "c.zip", "usmf")
    with pytest.raises(PackageJobFailed, match="ended Failed"):
        api.wait(third, timeout=30, partially_succeeded="accept")


def test_writer_package_imports_into_scm(clients: Clients, tmp_path: Path) -> None:
    api = clients.packages
    rows = [
        {
            "LegalEntityId": "usmf",
            "ExternalContractId": f"K-930000{n}",
            "ContractType": "PurchaseAgreement",
            "ContractStatus": "Executed",
            "ContractName": f'Imported "{n}", with comma',
            "EffectiveDate": "2025-03-01",
            "ExpirationDate": "2026-02-28",
        }
        for n in (1, 2)
    ]
    rows.append(  # not a member of the enum: refused on the way into staging
        {
            "LegalEntityId": "usmf",
            "ExternalContractId": "K-9300009",
            "ContractType": "PurchaseAgreement",
            "ContractStatus": "NotAStatus",
        }
    )
    rows.append(  # a second record under an existing natural key: SCM refuses it
        {
            "LegalEntityId": "usmf",
            "ExternalContractId": "K-0000001",
            "ContractType": "PurchaseAgreement",
            "ContractStatus": "Executed",
            "ContractName": "Duplicate",
        }
    )
    package = tmp_path / "import.zip"
    with PackageWriter(package, definition_group="CLMSYNC-IMPORT-USMF") as writer:
        writer.add_entity("CLMIntegrationContracts", rows)
    blob_id, url = api.azure_write_url(package.name)
    assert blob_id
    api.upload(url, package)
    execution = api.import_from_package(url, "CLMSYNC-IMPORT-USMF", "usmf")
    with pytest.raises(PackageJobFailed) as caught:
        api.wait(execution, timeout=30, partially_succeeded="fail")
    assert caught.value.status == "PartiallySucceeded"
    assert api.wait(execution, timeout=30, partially_succeeded="accept") == "PartiallySucceeded"
    errors = api.execution_errors(execution)
    assert any("already exists" in e.message for e in errors)
    staged = api.staging_error_rows(execution, "CLM integration contract")
    assert [(r["EXTERNALCONTRACTID"], r["CONTRACTSTATUS"]) for r in staged] == [
        ("K-9300009", "NotAStatus")
    ]
    keys = api.target_error_keys(execution, "CLM integration contract")
    assert [k.get("EXTERNALCONTRACTID") for k in keys] == ["K-0000001"]
    for n in (1, 2):
        found = [
            r
            for p in clients.odata.pages(
                "CLMIntegrationContracts", filter=f"ExternalContractId eq 'K-930000{n}'"
            )
            for r in p
        ]
        assert len(found) == 1
        assert found[0]["ContractName"] == f'Imported "{n}", with comma'
        assert found[0]["ContractId"]  # assigned by SCM's number sequence
        assert found[0]["EffectiveDate"].startswith("2025-03-01")
    details = api.execution_job_details(execution)
    assert details
    assert details[0]["EntityName"] == "CLM integration contract"
    api.delete_execution_history(execution)
    with pytest.raises(ODataRequestError, match="were not found"):
        api.execution_status(execution)


def test_an_import_without_an_answer_is_not_sent_again(
    clients: Clients, emu: EmulatorInfo, tmp_path: Path
) -> None:
    package = tmp_path / "slow.zip"
    with PackageWriter(package, definition_group="CLMSYNC-IMPORT-USMF") as writer:
        writer.add_entity(
            "Currencies", pa.table({"CurrencyCode": ["CHF"], "Name": ["Swiss franc"]})
        )
    _, url = clients.packages.azure_write_url(package.name)
    clients.packages.upload(url, package)
    emu.set_fault(
        kind="latency",
        path="/scm/data/DataManagementDefinitionGroups/"
        "Microsoft.Dynamics.DataEntities.ImportFromPackage",
        latency_ms=1500,
    )
    impatient = type(clients.packages)(clients.odata, poll=0.05, max_poll=0.2, import_timeout=0.5)
    emu.reset_stats()
    with pytest.raises(PackageJobFailed) as caught:
        impatient.import_from_package(url, "CLMSYNC-IMPORT-USMF", "usmf")
    sent = [v for k, v in emu.stats()["requests"].items() if k.endswith("ImportFromPackage")]
    assert sent == [1]
    execution = caught.value.execution_id
    assert execution in str(caught.value)
    assert "look up" in str(caught.value)
    # The caller can ask about the execution it named instead of importing again (here the
    # emulator dropped the request with the connection, so SCM never created it).
    time.sleep(1.2)
    with pytest.raises(ODataRequestError, match="were not found"):
        impatient.execution_status(execution)
