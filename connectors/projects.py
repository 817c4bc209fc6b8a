"""The export data projects clmsync owns in SCM, declared here and kept so through OData.

A data project is a ``DataManagementDefinitionGroups`` row with one
``DataManagementDefinitionGroupDetails`` row per entity (reference §7.5). clmsync exports each
legal entity through a project of its own, holding the package entities it extracts in
``CSV-Unicode`` with incremental push (change tracking) and the catalog's sequencing levels.

:func:`plan` compares what SCM holds with the declaration and lists the changes, without any
call; :func:`ensure` reads, plans and applies them, so a project that is already right costs two
reads and no write. Drift is repaired and reported: a missing project or entity is created, a
changed setting is set back, an entity clmsync does not use is removed. :func:`set_refresh_type`
is SCM's documented switch between incremental and full push for one entity of a project.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from connectors import catalog
from connectors.odata import ODataClient, literal

log = logging.getLogger(__name__)

GROUPS = "DataManagementDefinitionGroups"
DETAILS = "DataManagementDefinitionGroupDetails"
SOURCE_FORMAT = "CSV-Unicode"
INCREMENTAL = "IncrementalPush"
FULL = "FullPush"

ChangeAction = Literal[
    "create_project", "update_project", "add_entity", "update_entity", "remove_entity"
]


@dataclass(frozen=True)
class DetailSpec:
    """One entity of a project as clmsync declares it."""

    entity: catalog.Entity
    level: int
    sequence: int
    execution_unit: int = 1
    source_format: str = SOURCE_FORMAT
    refresh_type: str = INCREMENTAL

    @property
    def label(self) -> str:
        return self.entity.label

    def checked(self) -> dict[str, object]:
        """The fields compared with SCM's record (and set back when they differ)."""
        return {
            "SourceFormat": self.source_format,
            "ExecutionUnit": self.execution_unit,
            "LevelInExecutionUnit": self.level,
            "SequenceInLevel": self.sequence,
            "DefaultRefreshType": self.refresh_type,
            "Disable": "No",
        }

    def record(self, project: str) -> dict[str, object]:
        """The body that creates the detail."""
        return {
            "DefinitionGroupId": project,
            "EntityName": self.label,
            **self.checked(),
            "AutoGenerateMapping": "Yes",
        }


@dataclass(frozen=True)
class ProjectSpec:
    """An export project: its name, the legal entity it exports and its entities."""

    name: str
    legal_entity: str
    details: tuple[DetailSpec, ...]
    description: str = ""

    def checked(self) -> dict[str, object]:
        return {"OperationType": "Export", "GenerateDataPackage": "Yes"}

    def record(self) -> dict[str, object]:
        return {
            "Name": self.name,
            "Description": self.description or f"clmsync export of {self.legal_entity}",
            "ProjectCategory": "Integration",
            **self.checked(),
        }


def export_project(
    prefix: str, legal_entity: str, entities: Iterable[catalog.Entity]
) -> ProjectSpec:
    """The export project of ``legal_entity`` holding ``entities`` (package entities), sequenced
    by catalog level, in catalog order within a level."""
    chosen = sorted(
        (e for e in entities if e.extract == "package"),
        key=lambda e: (e.level, catalog.ENTITIES.index(e)),
    )
    in_level: dict[int, int] = {}
    details = []
    for entity in chosen:
        in_level[entity.level] = in_level.get(entity.level, 0) + 1
        details.append(DetailSpec(entity, level=entity.level, sequence=in_level[entity.level]))
    le = legal_entity.lower()
    return ProjectSpec(catalog.export_project_name(prefix, le), le, tuple(details))


@dataclass(frozen=True)
class Change:
    """One change made (or to make) to a project. ``fields``: name → (SCM's value, declared)."""

    project: str
    action: ChangeAction
    entity: str | None = None
    fields: Mapping[str, tuple[object, object]] = field(default_factory=dict)

    def __str__(self) -> str:
        what = f"{self.project}: {self.action.replace('_', ' ')}"
        if self.entity:
            what += f" '{self.entity}'"
        if self.fields:
            shown = ", ".join(f"{k} {b!r} -> {a!r}" for k, (b, a) in self.fields.items())
            what += f" ({shown})"
        return what


def _same(have: object, want: object) -> bool:
    if isinstance(want, int) and not isinstance(want, bool):
        try:
            return int(str(have)) == want
        except ValueError:
            return False
    return str(have or "").strip().lower() == str(want).lower()


def _differences(
    record: Mapping[str, Any], wanted: Mapping[str, object]
) -> dict[str, tuple[object, object]]:
    return {k: (record.get(k), v) for k, v in wanted.items() if not _same(record.get(k), v)}


def plan(
    spec: ProjectSpec, group: Mapping[str, Any] | None, details: Sequence[Mapping[str, Any]]
) -> list[Change]:
    """The changes that make SCM's project (``group`` and its ``details``) match ``spec``."""
    if group is None:
        return [Change(spec.name, "create_project")] + [
            Change(spec.name, "add_entity", d.label) for d in spec.details
        ]
    changes: list[Change] = []
    differs = _differences(group, spec.checked())
    if differs:
        changes.append(Change(spec.name, "update_project", fields=differs))
    held = {str(d.get("EntityName", "")).lower(): d for d in details}
    for wanted in spec.details:
        found = held.pop(wanted.label.lower(), None)
        if found is None:
            changes.append(Change(spec.name, "add_entity", wanted.label))
            continue
        differs = _differences(found, wanted.checked())
        if differs:
            changes.append(Change(spec.name, "update_entity", wanted.label, differs))
    changes.extend(
        Change(spec.name, "remove_entity", str(extra.get("EntityName"))) for extra in held.values()
    )
    return changes


def read(odata: ODataClient, name: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """SCM's record of project ``name`` (None when absent) and its entity records."""
    group = odata.get(GROUPS, {"Name": name})
    if group is None:
        return None, []
    details: list[dict[str, Any]] = []
    for page in odata.pages(DETAILS, filter=f"DefinitionGroupId eq {literal(name)}"):
        details.extend(page)
    return group, details


def apply(odata: ODataClient, spec: ProjectSpec, changes: Sequence[Change]) -> None:
    """Make ``changes`` in SCM, in order (the project before its entities)."""
    by_label = {d.label.lower(): d for d in spec.details}
    for change in changes:
        log.info("data project %s", change)
        if change.action == "create_project":
            odata.create(GROUPS, spec.record())
        elif change.action == "update_project":
            odata.update(GROUPS, {"Name": spec.name}, {k: a for k, (_, a) in change.fields.items()})
        elif change.action == "add_entity":
            odata.create(DETAILS, by_label[str(change.entity).lower()].record(spec.name))
        elif change.action == "update_entity":
            odata.update(
                DETAILS,
                {"DefinitionGroupId": spec.name, "EntityName": change.entity},
                {k: a for k, (_, a) in change.fields.items()},
            )
        else:
            odata.delete(DETAILS, {"DefinitionGroupId": spec.name, "EntityName": change.entity})


def ensure(odata: ODataClient, spec: ProjectSpec) -> list[Change]:
    """Create or repair project ``spec`` in SCM; returns what was changed (empty: nothing)."""
    group, details = read(odata, spec.name)
    changes = plan(spec, group, details)
    apply(odata, spec, changes)
    return changes


def set_refresh_type(
    odata: ODataClient, project: str, entity_label: str, refresh_type: str
) -> None:
    """Switch one entity of a project between incremental (``IncrementalPush``) and full
    (``FullPush``) export: SCM's documented way to force the next export to carry every row."""
    if refresh_type not in (INCREMENTAL, FULL):
        raise ValueError(f"refresh type must be {INCREMENTAL} or {FULL}, not {refresh_type!r}")
    odata.update(
        DETAILS,
        {"DefinitionGroupId": project, "EntityName": entity_label},
        {"DefaultRefreshType": refresh_type},
    )
