"""Bootstrap: the export data projects clmsync needs in SCM, created or repaired from outside.

One export project per legal entity in scope (``catalog.export_project_name``), holding the
package entities of ``settings.sync.entities``. Running it again changes nothing (two reads per
project, no write); a drifted project is repaired and the report says what was changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import duckdb

from connectors import catalog
from connectors.odata import ODataClient
from connectors.projects import Change, ProjectSpec, ensure, export_project
from flows.settings import Settings
from flows.steps.extract_types import parallel_map
from warehouse import state


@dataclass(frozen=True)
class ProjectResult:
    """One project after bootstrap: the changes made to it (none when it was right)."""

    name: str
    legal_entity: str
    changes: tuple[Change, ...]

    @property
    def created(self) -> bool:
        return any(c.action == "create_project" for c in self.changes)


@dataclass
class ProjectReport:
    """What bootstrap found and changed, per project."""

    projects: list[ProjectResult] = field(default_factory=list)

    @property
    def changes(self) -> list[Change]:
        return [c for p in self.projects for c in p.changes]

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    @property
    def added_entities(self) -> frozenset[tuple[str, str]]:
        """(project, entity label) of project entities created now: SCM's first export of a
        new project entity is a full one without being asked."""
        return frozenset(
            (c.project, str(c.entity)) for c in self.changes if c.action == "add_entity"
        )

    def lines(self) -> list[str]:
        if not self.changed:
            return [f"{p.name}: up to date" for p in self.projects]
        return [str(c) for c in self.changes]


def package_entities(settings: Settings) -> tuple[catalog.Entity, ...]:
    """The package entities in scope, in data project sequence order."""
    return catalog.package_entities(settings.sync.entities)


def project_specs(
    settings: Settings, legal_entities: Iterable[str] | None = None
) -> list[ProjectSpec]:
    """The declared export project of each legal entity in scope."""
    chosen = [le.lower() for le in (legal_entities or settings.sync.legal_entities)]
    entities = package_entities(settings)
    return [export_project(settings.scm.data_project_prefix, le, entities) for le in chosen]


def bootstrap_projects(
    settings: Settings,
    odata: ODataClient,
    *,
    legal_entities: Iterable[str] | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    run_id: str | None = None,
) -> ProjectReport:
    """Create or repair the export project of every legal entity in scope.

    With ``con`` and ``run_id`` the step is recorded in ``ops.runs`` (changes in its detail).
    """
    specs = project_specs(settings, legal_entities)
    workers = settings.sync.extract_concurrency
    if con is None or run_id is None:
        return _ensure_all(odata, specs, workers)
    with state.step(con, run_id, "bootstrap") as step:
        report = _ensure_all(odata, specs, workers)
        step.rows = len(report.changes)
        step.detail["changes"] = [str(c) for c in report.changes]
    return report


def _ensure_all(odata: ODataClient, specs: list[ProjectSpec], workers: int) -> ProjectReport:
    """Projects are independent of each other: they are checked side by side."""
    done = parallel_map(lambda spec: tuple(ensure(odata, spec)), specs, workers)
    return ProjectReport(
        [ProjectResult(s.name, s.legal_entity, c) for s, c in zip(specs, done, strict=True)]
    )
