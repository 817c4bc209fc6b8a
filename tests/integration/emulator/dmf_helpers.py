"""Helpers for package API tests: data projects, running executions, downloading packages."""

from __future__ import annotations

import time

from emulator.server import EmulatorInfo
from tests.integration.emulator.conftest import Scm


def make_project(scm: Scm, name: str, labels: list[str], **detail: str) -> None:
    """Create an export data project with ``labels`` (through OData, as a client would)."""
    group = {
        "Name": name,
        "Description": name,
        "OperationType": "Export",
        "ProjectCategory": "Integration",
        "GenerateDataPackage": "Yes",
    }
    assert scm.post("DataManagementDefinitionGroups", group).status_code == 201
    for sequence, label in enumerate(labels, 1):
        row = {
            "DefinitionGroupId": name,
            "EntityName": label,
            "SourceFormat": "CSV-Unicode",
            "ExecutionUnit": 1,
            "LevelInExecutionUnit": 1,
            "SequenceInLevel": sequence,
            **detail,
        }
        response = scm.post("DataManagementDefinitionGroupDetails", row)
        assert response.status_code == 201, response.text


def export(scm: Scm, project: str, legal_entity: str = "USMF", execution_id: str = "") -> str:
    body = {
        "definitionGroupId": project,
        "packageName": f"{project}.zip",
        "executionId": execution_id,
        "reExecute": False,
        "legalEntityId": legal_entity,
    }
    return str(scm.value("ExportToPackage", body))


def wait(scm: Scm, execution_id: str, timeout: float = 15.0) -> list[str]:
    """Poll until a final status; returns the distinct statuses seen, in order."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = scm.action("GetExecutionSummaryStatus", {"executionId": execution_id})
        if response.status_code == 200:
            status = response.json()["value"]
            if not seen or seen[-1] != status:
                seen.append(status)
            if status in ("Succeeded", "PartiallySucceeded", "Failed", "Canceled"):
                return seen
        time.sleep(0.02)
    raise AssertionError(f"execution {execution_id} did not finish: {seen}")


def download(emu: EmulatorInfo, scm: Scm, execution_id: str) -> bytes:
    url = scm.value("GetExportedPackageUrl", {"executionId": execution_id})
    assert url, "no package URL"
    with emu.session() as plain:  # the SAS is the credential: no bearer token to the blob
        response = plain.get(url, timeout=60)
    assert response.status_code == 200, response.text
    return response.content


def run_export(emu: EmulatorInfo, scm: Scm, project: str, legal_entity: str = "USMF") -> bytes:
    execution_id = export(scm, project, legal_entity)
    assert wait(scm, execution_id)[-1] == "Succeeded"
    return download(emu, scm, execution_id)
