"""Exports through the package API: status sequence, the zip byte by byte, change tracking."""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Iterator

import pytest
from defusedxml import ElementTree

from connectors import catalog
from emulator.server import EmulatorInfo
from tests.integration.emulator.conftest import FAST, Scm
from tests.integration.emulator.dmf_helpers import (
    download,
    export,
    make_project,
    run_export,
    wait,
)
from tests.integration.emulator.tiny_world import SPECIAL_VENDORS, VENDORS_PER_LE

NS = "{http://schemas.microsoft.com/dynamics/2015/01/DataManagement}"
VENDORS = catalog.entity("VendorsV2")


def _csv(package: bytes, label: str) -> list[str]:
    """The lines of one CSV-Unicode member, after checking its encoding byte by byte."""
    data = zipfile.ZipFile(io.BytesIO(package)).read(f"{label}.csv")
    assert data[:2] == b"\xff\xfe"
    text = data[2:].decode("utf-16-le")
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")
    return text.split("\r\n")[:-1]


@pytest.fixture(scope="module")
def project(scm: Scm) -> str:
    make_project(scm, "EXP-FULL", ["Vendors V2", "Currencies"], DefaultRefreshType="FullPush")
    return "EXP-FULL"


@pytest.fixture(scope="module")
def package(emu: EmulatorInfo, scm: Scm, project: str) -> bytes:
    return run_export(emu, scm, project)


@pytest.fixture
def slow_executions(emu: EmulatorInfo) -> Iterator[None]:
    emu.configure(execution_queue_seconds=0.3, execution_fixed_seconds=0.4)
    yield
    emu.configure(**FAST)


def test_execution_goes_notrun_executing_succeeded(
    scm: Scm, project: str, slow_executions: None
) -> None:
    execution_id = export(scm, project)
    assert scm.value("GetExportedPackageUrl", {"executionId": execution_id}) == ""
    assert wait(scm, execution_id) == ["NotRun", "Executing", "Succeeded"]
    assert scm.value("GetExportedPackageUrl", {"executionId": execution_id}).startswith("https://")


def test_action_answers_have_the_flat_primitive_shape(
    scm: Scm, emu: EmulatorInfo, project: str
) -> None:
    response = scm.action(
        "ExportToPackage",
        {
            "definitionGroupId": project,
            "packageName": "p.zip",
            "executionId": "",
            "reExecute": False,
            "legalEntityId": "USMF",
        },
    )
    assert response.status_code == 200
    assert response.json() == {
        "@odata.context": f"{emu.scm_url}/data/$metadata#Edm.String",
        "value": response.json()["value"],
    }
    assert wait(scm, response.json()["value"])[-1] == "Succeeded"


def test_zip_layout(package: bytes) -> None:
    archive = zipfile.ZipFile(io.BytesIO(package))
    assert sorted(archive.namelist()) == [
        "Currencies.csv",
        "Manifest.xml",
        "PackageHeader.xml",
        "Vendors V2.csv",
    ]
    assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in archive.infolist())


def test_package_header_bytes(package: bytes) -> None:
    data = zipfile.ZipFile(io.BytesIO(package)).read("PackageHeader.xml")
    assert data[:2] == b"\xff\xfe"  # UTF-16 LE BOM, no XML declaration
    assert data[2:].decode("utf-16-le") == (
        '<DataManagementPackageHeader xmlns:i="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns="http://schemas.microsoft.com/dynamics/2015/01/DataManagement">'
        "<Description>EXP-FULL</Description>"
        "<ManifestType>Microsoft.Dynamics.AX.Framework.Tools.DataManagement.Serialization."
        "DataManagementPackageManifest</ManifestType>"
        "<PackageType>DefinitionGroup</PackageType><PackageVersion>2</PackageVersion>"
        "</DataManagementPackageHeader>"
    )


def test_manifest_elements_namespaces_and_maps(package: bytes) -> None:
    data = zipfile.ZipFile(io.BytesIO(package)).read("Manifest.xml")
    assert data[:2] == b"\xff\xfe"
    text = data[2:].decode("utf-16-le")
    assert text.startswith(
        '<DataManagementPackageManifest xmlns:i="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns="http://schemas.microsoft.com/dynamics/2015/01/DataManagement">'
    )
    root = ElementTree.fromstring(text)
    assert [c.tag for c in root] == [
        f"{NS}DefinitionGroupName",
        f"{NS}Description",
        f"{NS}PackageEntityList",
    ]
    entities = list(root.find(f"{NS}PackageEntityList"))
    assert [e.find(f"{NS}EntityName").text for e in entities] == ["Vendors V2", "Currencies"]
    vendors = entities[0]
    tags = [c.tag.removeprefix(NS) for c in vendors]
    assert tags == sorted(tags)  # alphabetical, as DataContractSerializer writes them
    assert vendors.find(f"{NS}InputFilePath").text == "Vendors V2.csv"
    assert vendors.find(f"{NS}SourceFormat").text == "CSV-Unicode"
    assert vendors.find(f"{NS}TargetEntity").text == "VendVendorV2Entity"
    assert (
        vendors.find(f"{NS}EntityTransformList").get(
            "{http://www.w3.org/2001/XMLSchema-instance}nil"
        )
        == "true"
    )
    maps = vendors.find(f"{NS}EntityMapList")
    fields = [m.find(f"{NS}EntityField").text for m in maps]
    assert sorted(fields) == sorted(f.column for f in VENDORS.fields)
    first = [c.tag.removeprefix(NS) for c in maps[0]]
    assert first == sorted(first)
    assert maps[0].find(f"{NS}XMLField").text == maps[0].find(f"{NS}EntityField").text


def test_csv_unicode_content(package: bytes) -> None:
    lines = _csv(package, "Vendors V2")
    assert lines[0] == ",".join(f'"{f.column}"' for f in VENDORS.fields)
    assert len(lines) - 1 == VENDORS_PER_LE + len(SPECIAL_VENDORS)  # usmf rows only
    columns = [f.column for f in VENDORS.fields]
    rows = [dict(zip(columns, line[1:-1].split('","'), strict=True)) for line in lines[1:]]
    second = next(r for r in rows if r["VENDORACCOUNTNUMBER"] == "US-V0000002")
    assert second["DATAAREAID"] == "usmf"
    assert second["CREDITLIMIT"] == "2001"
    assert second["ADDRESSVALIDFROM"] == "1/15/2024 8:30:00 AM"
    assert second["VENDORHOLDRELEASEDATE"] == "1/1/1900 12:00:00 AM"
    assert second["ONHOLDSTATUS"] == "No"
    first = next(r for r in rows if r["VENDORACCOUNTNUMBER"] == "US-V0000001")
    assert first["CREDITLIMIT"] == "1000.5"
    assert any(r["VENDORACCOUNTNUMBER"] == "US-O''HARA-000123".replace("''", "'") for r in rows)
    currencies = _csv(package, "Currencies")
    assert len(currencies) - 1 == 5  # shared entity: every row
    assert currencies[0] == '"CURRENCYCODE","NAME","SYMBOL","GENERALROUNDINGRULE"'


def test_export_runs_per_legal_entity(emu: EmulatorInfo, scm: Scm, project: str) -> None:
    lines = _csv(run_export(emu, scm, project, "demf"), "Vendors V2")
    assert len(lines) - 1 == VENDORS_PER_LE
    assert all(line.startswith('"demf",') for line in lines[1:])


def test_job_details_count_what_was_exported(scm: Scm, project: str) -> None:
    execution_id = export(scm, project)
    wait(scm, execution_id)
    body = scm.get(
        "DataManagementExecutionJobDetails", params={"$filter": f"JobId eq '{execution_id}'"}
    ).json()
    counts = {r["EntityName"]: r["StagingRecordsCreatedCount"] for r in body["value"]}
    assert counts == {"Vendors V2": VENDORS_PER_LE + len(SPECIAL_VENDORS), "Currencies": 5}


def test_export_needs_an_existing_project(scm: Scm) -> None:
    response = scm.action(
        "ExportToPackage",
        {
            "definitionGroupId": "NO-SUCH",
            "packageName": "x.zip",
            "executionId": "",
            "legalEntityId": "USMF",
        },
    )
    assert response.status_code == 400
    assert "NO-SUCH" in response.json()["error"]["innererror"]["message"]


def test_unknown_execution_id_is_400_were_not_found(scm: Scm) -> None:
    response = scm.action("GetExecutionSummaryStatus", {"executionId": "no-such-execution"})
    assert response.status_code == 400
    assert "were not found" in response.text


def test_status_right_after_queuing_can_be_not_found(
    emu: EmulatorInfo, scm: Scm, project: str
) -> None:
    emu.configure(status_visible_after=0.5)
    try:
        execution_id = export(scm, project)
        early = scm.action("GetExecutionSummaryStatus", {"executionId": execution_id})
        assert early.status_code == 400
        assert "were not found" in early.text
        time.sleep(0.6)
        assert wait(scm, execution_id)[-1] == "Succeeded"
    finally:
        emu.configure(status_visible_after=0)


def test_unknown_action_and_parameters(scm: Scm) -> None:
    assert scm.action("NoSuchAction", {}).status_code == 404
    wrong = scm.action("GetExecutionSummaryStatus", {"execution_id": "x"})
    assert wrong.status_code == 400
    assert (
        "The parameter 'execution_id' in the request payload is not a valid parameter" in wrong.text
    )


def test_an_execution_id_is_used_once(scm: Scm, project: str) -> None:
    export(scm, project, execution_id="my-export-1")
    again = scm.action(
        "ExportToPackage",
        {
            "definitionGroupId": project,
            "packageName": "x.zip",
            "executionId": "my-export-1",
            "legalEntityId": "USMF",
        },
    )
    assert again.status_code == 400
    assert "already exists" in again.text


# --- change tracking ---------------------------------------------------------------------------


def _exported_accounts(emu: EmulatorInfo, scm: Scm, project: str) -> set[str]:
    lines = _csv(run_export(emu, scm, project), "Vendors V2")
    return {line.split('","')[1] for line in lines[1:]}


def test_incremental_exports_carry_only_changes(emu: EmulatorInfo, scm: Scm) -> None:
    make_project(scm, "EXP-INCR", ["Vendors V2"])
    first = _exported_accounts(emu, scm, "EXP-INCR")
    assert len(first) == VENDORS_PER_LE + len(SPECIAL_VENDORS)  # the first export is full
    assert _exported_accounts(emu, scm, "EXP-INCR") == set()
    path = "VendorsV2(dataAreaId='usmf',VendorAccountNumber='US-V0000004')"
    assert scm.patch(path, {"VendorSearchName": "changed"}).status_code == 204
    created = scm.post(
        "VendorsV2", {"VendorOrganizationName": "Fresh", "VendorGroupId": "10"}
    ).json()
    demf = "VendorsV2(dataAreaId='demf',VendorAccountNumber='DE-V0000004')"
    assert scm.patch(demf, {"VendorSearchName": "other company"}).status_code == 204
    deleted = "VendorsV2(dataAreaId='usmf',VendorAccountNumber='US-V0000009')"
    assert scm.delete(deleted).status_code == 204
    assert _exported_accounts(emu, scm, "EXP-INCR") == {
        "US-V0000004",
        created["VendorAccountNumber"],
    }
    assert _exported_accounts(emu, scm, "EXP-INCR") == set()


def test_failed_export_does_not_move_the_watermark(emu: EmulatorInfo, scm: Scm) -> None:
    make_project(scm, "EXP-FAIL", ["Vendors V2"])
    _exported_accounts(emu, scm, "EXP-FAIL")
    scm.patch(
        "VendorsV2(dataAreaId='usmf',VendorAccountNumber='US-V0000005')", {"VendorSearchName": "x"}
    )
    emu.set_fault(kind="execution", outcome="Failed", count=1)
    execution_id = export(scm, "EXP-FAIL")
    assert wait(scm, execution_id)[-1] == "Failed"
    assert scm.value("GetExportedPackageUrl", {"executionId": execution_id}) == ""
    assert _exported_accounts(emu, scm, "EXP-FAIL") == {"US-V0000005"}


def test_full_push_re_creation_and_re_enabling_reset_tracking(emu: EmulatorInfo, scm: Scm) -> None:
    make_project(scm, "EXP-RESET", ["Vendors V2"])
    everything = _exported_accounts(emu, scm, "EXP-RESET")
    assert _exported_accounts(emu, scm, "EXP-RESET") == set()
    keys = "DefinitionGroupId='EXP-RESET',EntityName='Vendors V2'"
    detail = f"DataManagementDefinitionGroupDetails({keys})"
    assert scm.patch(detail, {"DefaultRefreshType": "FullPush"}).status_code == 204
    assert _exported_accounts(emu, scm, "EXP-RESET") == everything
    assert scm.patch(detail, {"DefaultRefreshType": "IncrementalPush"}).status_code == 204
    assert _exported_accounts(emu, scm, "EXP-RESET") == set()
    assert scm.patch(detail, {"Disable": "Yes"}).status_code == 204
    assert scm.patch(detail, {"Disable": "No"}).status_code == 204
    assert _exported_accounts(emu, scm, "EXP-RESET") == everything
    assert scm.delete(detail).status_code == 204
    make_detail = {
        "DefinitionGroupId": "EXP-RESET",
        "EntityName": "Vendors V2",
        "ExecutionUnit": 1,
        "LevelInExecutionUnit": 1,
        "SequenceInLevel": 1,
    }
    assert scm.post("DataManagementDefinitionGroupDetails", make_detail).status_code == 201
    assert _exported_accounts(emu, scm, "EXP-RESET") == everything
    assert (
        scm.value(
            "ResetVersionToken",
            {"definitionGroupId": "EXP-RESET", "entityName": "Vendors V2", "sourceName": ""},
        )
        is True
    )
    assert _exported_accounts(emu, scm, "EXP-RESET") == everything


# --- execution faults --------------------------------------------------------------------------


def test_partially_succeeded_export_still_has_a_package(
    emu: EmulatorInfo, scm: Scm, project: str
) -> None:
    emu.set_fault(kind="execution", outcome="PartiallySucceeded", count=1)
    execution_id = export(scm, project)
    assert wait(scm, execution_id)[-1] == "PartiallySucceeded"
    assert download(emu, scm, execution_id)[:2] == b"PK"


def test_stuck_execution_stays_executing(emu: EmulatorInfo, scm: Scm, project: str) -> None:
    emu.set_fault(kind="execution", outcome="Executing", count=1)
    execution_id = export(scm, project)
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:
        status = scm.value("GetExecutionSummaryStatus", {"executionId": execution_id})
        assert status in ("NotRun", "Executing")
        time.sleep(0.05)
    assert status == "Executing"
    assert scm.value("GetExportedPackageUrl", {"executionId": execution_id}) == ""
    # the next execution is not affected
    assert wait(scm, export(scm, project))[-1] == "Succeeded"


def test_delete_execution_history(scm: Scm, project: str) -> None:
    execution_id = export(scm, project)
    wait(scm, execution_id)
    assert scm.action("DeleteExecutionHistoryJob", {"executionId": execution_id}).status_code == 204
    assert scm.action("GetExecutionSummaryStatus", {"executionId": execution_id}).status_code == 400
    jobs = scm.get(
        "DataManagementExecutionJobDetails", params={"$filter": f"JobId eq '{execution_id}'"}
    )
    assert jobs.json()["value"] == []
