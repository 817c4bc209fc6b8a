"""The declared export projects and the diff that keeps SCM's copy as declared."""

from __future__ import annotations

from typing import Any

import pytest

from connectors import catalog, projects

PACKAGE = catalog.package_entities()


def _spec() -> projects.ProjectSpec:
    return projects.export_project("CLMSYNC", "USMF", PACKAGE)


def _as_scm_holds(spec: projects.ProjectSpec) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    group = {"Name": spec.name, "OperationType": "Export", "GenerateDataPackage": "Yes"}
    details = []
    for d in spec.details:
        record = d.record(spec.name)
        # SCM answers numbers as numbers and may spell values its own way.
        record["SourceFormat"] = "csv-unicode"
        details.append(record)
    return group, details


def test_one_project_per_legal_entity_sequenced_by_catalog_level() -> None:
    spec = _spec()
    assert (spec.name, spec.legal_entity) == ("CLMSYNC-EXPORT-USMF", "usmf")
    placed = [(d.entity.name, d.level, d.sequence) for d in spec.details]
    assert placed == [
        ("VendorsV2", 1, 1),
        ("CLMIntegrationReleasedProducts", 1, 2),
        ("ContactPersons", 2, 1),
        ("CLMIntegrationContracts", 3, 1),
        ("CLMIntegrationPurchaseAgreements", 4, 1),
        ("CLMIntegrationPurchaseAgreementLines", 5, 1),
    ]
    record = spec.details[0].record(spec.name)
    assert record["SourceFormat"] == "CSV-Unicode"
    assert record["DefaultRefreshType"] == "IncrementalPush"
    assert record["EntityName"] == "Vendors V2"


def test_reference_sets_are_never_put_in_a_project() -> None:
    spec = projects.export_project("P", "demf", catalog.synced_entities())
    assert {d.entity.extract for d in spec.details} == {"package"}


def test_a_missing_project_is_created_with_all_its_entities() -> None:
    changes = projects.plan(_spec(), None, [])
    assert changes[0].action == "create_project"
    assert [c.entity for c in changes[1:]] == [e.label for e in PACKAGE]
    assert {c.action for c in changes[1:]} == {"add_entity"}


def test_a_project_as_declared_needs_no_change() -> None:
    group, details = _as_scm_holds(_spec())
    assert projects.plan(_spec(), group, details) == []


def test_drift_is_named_field_by_field() -> None:
    spec = _spec()
    group, details = _as_scm_holds(spec)
    group["GenerateDataPackage"] = "No"
    details = [d for d in details if d["EntityName"] != "Contacts V2"]
    details[0]["DefaultRefreshType"] = "FullPush"
    details[0]["SequenceInLevel"] = 4
    details.append({"DefinitionGroupId": spec.name, "EntityName": "Currencies"})
    changes = projects.plan(spec, group, details)
    assert [str(c) for c in changes] == [
        "CLMSYNC-EXPORT-USMF: update project (GenerateDataPackage 'No' -> 'Yes')",
        "CLMSYNC-EXPORT-USMF: update entity 'Vendors V2' (SequenceInLevel 4 -> 1, "
        "DefaultRefreshType 'FullPush' -> 'IncrementalPush')",
        "CLMSYNC-EXPORT-USMF: add entity 'Contacts V2'",
        "CLMSYNC-EXPORT-USMF: remove entity 'Currencies'",
    ]


def test_only_the_two_documented_refresh_types_are_set() -> None:
    with pytest.raises(ValueError, match="IncrementalPush or FullPush"):
        projects.set_refresh_type(None, "P", "Vendors V2", "Incremental")  # type: ignore[arg-type]
