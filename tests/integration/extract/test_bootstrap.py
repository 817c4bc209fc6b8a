"""Bootstrap against the emulator: the export projects are created, a second run writes
nothing, drift is repaired and reported, and a full extract of one entity switches its refresh
type for that export only."""

from __future__ import annotations

from typing import Any

import pytest

from connectors import catalog, projects
from flows.steps.bootstrap import bootstrap_projects
from tests.integration.extract.harness import Harness

PACKAGE = catalog.package_entities()
USMF_PROJECT = "CLMSYNC-EXPORT-USMF"
DETAILS = "DataManagementDefinitionGroupDetails"


@pytest.fixture(scope="module")
def harness(make_harness: Any) -> Harness:
    return make_harness()


def _details(h: Harness, project: str) -> dict[str, dict[str, Any]]:
    _, rows = projects.read(h.clients.odata, project)
    return {r["EntityName"]: r for r in rows}


def _writes(h: Harness) -> list[str]:
    return [
        endpoint
        for endpoint in h.info.stats()["requests"]
        if endpoint.split()[0] in ("POST", "PATCH", "DELETE")
        and "DataManagementDefinition" in endpoint
    ]


def test_projects_are_created_once_and_a_second_run_writes_nothing(harness: Harness) -> None:
    h = harness
    first = bootstrap_projects(h.settings, h.clients.odata)
    assert [p.name for p in first.projects if p.created] == [
        f"CLMSYNC-EXPORT-{le.upper()}" for le in h.settings.sync.legal_entities
    ]
    details = _details(h, USMF_PROJECT)
    assert set(details) == {e.label for e in PACKAGE}
    for entity in PACKAGE:
        row = details[entity.label]
        assert row["SourceFormat"] == "CSV-Unicode"
        assert row["DefaultRefreshType"] == "IncrementalPush"
        assert row["LevelInExecutionUnit"] == entity.level
    group = h.clients.odata.get("DataManagementDefinitionGroups", {"Name": USMF_PROJECT})
    assert group is not None
    assert group["OperationType"] == "Export"

    h.info.reset_stats()
    second = bootstrap_projects(h.settings, h.clients.odata)
    assert not second.changed
    assert second.lines() == [f"{p.name}: up to date" for p in second.projects]
    assert _writes(h) == []


def test_drift_is_repaired_and_reported(harness: Harness) -> None:
    h = harness
    bootstrap_projects(h.settings, h.clients.odata)
    odata = h.clients.odata
    odata.delete(DETAILS, {"DefinitionGroupId": USMF_PROJECT, "EntityName": "Contacts V2"})
    odata.update(
        DETAILS,
        {"DefinitionGroupId": USMF_PROJECT, "EntityName": "Vendors V2"},
        {"SourceFormat": "XML-Element", "DefaultRefreshType": "FullPush"},
    )
    odata.create(
        DETAILS,
        {"DefinitionGroupId": USMF_PROJECT, "EntityName": "Currencies", "ExecutionUnit": 1,
         "LevelInExecutionUnit": 1, "SequenceInLevel": 9, "SourceFormat": "CSV-Unicode"},
    )  # fmt: skip

    repaired = bootstrap_projects(h.settings, h.clients.odata)
    changes = {(c.project, c.action, c.entity): dict(c.fields) for c in repaired.changes}
    assert changes == {
        (USMF_PROJECT, "add_entity", "Contacts V2"): {},
        (USMF_PROJECT, "update_entity", "Vendors V2"): {
            "SourceFormat": ("XML-Element", "CSV-Unicode"),
            "DefaultRefreshType": ("FullPush", "IncrementalPush"),
        },
        (USMF_PROJECT, "remove_entity", "Currencies"): {},
    }
    assert set(_details(h, USMF_PROJECT)) == {e.label for e in PACKAGE}
    assert not bootstrap_projects(h.settings, h.clients.odata).changed


def test_a_full_extract_of_one_entity_pushes_it_whole_and_sets_it_back(harness: Harness) -> None:
    h = harness
    only: dict[str, Any] = {"legal_entities": ["usmf"], "entities": ["VendorsV2"]}
    assert h.extract(**only, key_snapshot=False).ok
    vendors = h.store.execute(
        'SELECT count(*) FROM scm."VendorsV2" WHERE "dataAreaId" = \'usmf\''
    ).fetchall()[0][0]

    report = h.extract(**only, full=["VendorsV2"], key_snapshot=False)
    assert report.ok, report.failures
    landed = {r.entity: r.landed for r in report.results}
    assert landed["VendorsV2"] == vendors
    assert {n for n, rows in landed.items() if rows} == {"VendorsV2"}  # the others: incremental
    assert _details(h, USMF_PROJECT)["Vendors V2"]["DefaultRefreshType"] == "IncrementalPush"
    # A full push holds every key, so it served as the key snapshot.
    assert [(s.entity, s.method, s.keys) for s in report.snapshots] == [
        ("VendorsV2", "landing", vendors)
    ]
