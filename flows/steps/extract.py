"""Extract: both systems' data into the warehouse, only what changed, nothing twice, nothing lost.

The API other parts call (keyword arguments after ``*``; stable)::

    extract_all(settings, clients, con, *, run_id, entities=None, legal_entities=None,
                full=frozenset(), key_snapshot=None, bootstrap=True, keep_packages=False)
        -> ExtractReport          # SCM packages + SCM OData reference sets + CLM
    extract_scm(settings, clients, con, *, run_id, ...)   -> ExtractReport   # SCM only
    extract_clm(settings, clients, con, *, run_id, entities=None, full=frozenset())
        -> ExtractReport          # CLM only (API or export folders, as the settings say)
    land_package_file(con, path, *, run_id, legal_entity=None) -> ExtractReport
    extract_complete(con, run_id) -> bool      # may later steps use this run's data?
    (land_package_file lives in flows.steps.extract_file and is re-exported here)
    bootstrap_projects(settings, odata, ...)   -> ProjectReport   (flows.steps.bootstrap)

``clients`` comes from :func:`flows.clients.build_clients`, ``con`` from
:func:`warehouse.db.connect` (the run's one connection: every unit works on a cursor of it),
``run_id`` from :func:`warehouse.state.new_run_id`. ``entities`` names SCM entity sets and/or CLM
objects (default: ``settings.sync.entities`` and every CLM object); ``full`` names those to
extract in full (``True``: all selected). ``key_snapshot``: ``None`` follows
``settings.sync.key_snapshot_every_runs``, ``True``/``False`` forces it on (every key read)
or off.

A run: bootstrap the export projects → SCM's ``$count`` of the entities due for a key snapshot
→ the units (one per SCM project, per reference set and legal entity, per CLM object) on up to
``settings.sync.extract_concurrency`` threads → refresh the current state of what landed → key
snapshots (a key read only where the count leaves a delete possible). The report says per
entity and legal entity what was extracted, landed, quarantined and expected. A failed entity
does not stop the others, but the run's ``extract`` step in ``ops.runs`` is then recorded as
failed, and :func:`extract_complete` tells later steps (models, loader) not to run on the
partial data.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial

import duckdb

from connectors import catalog
from connectors.errors import ConfigError
from flows.clients import Clients
from flows.settings import Settings
from flows.steps import extract_odata
from flows.steps.bootstrap import ProjectReport, bootstrap_projects, package_entities
from flows.steps.extract_clm import extract_clm_api, extract_clm_exports
from flows.steps.extract_file import first_error, land_package_file, summary
from flows.steps.extract_odata import extract_reference, snapshot_due, snapshot_from_landing
from flows.steps.extract_scm import extract_project
from flows.steps.extract_types import (
    EntityResult,
    ExtractContext,
    ExtractReport,
    Scope,
    SnapshotInfo,
    Unit,
    parallel_map,
    run_units,
)
from warehouse import current, relations, state

log = logging.getLogger(__name__)

CHECKPOINT_THRESHOLD = "1GB"
# Rows landed or refreshed since the last checkpoint past which the refresh checkpoints first.
CHECKPOINT_ROWS = 100_000

Runner = Callable[[Sequence[Unit], int], list[EntityResult]]

__all__ = [
    "ExtractPlan",
    "ExtractReport",
    "ProjectReport",
    "bootstrap_projects",
    "build_units",
    "extract_all",
    "extract_clm",
    "extract_complete",
    "extract_scm",
    "finish",
    "land_package_file",
    "plan_extract",
    "summary",
]


@dataclass(frozen=True)
class ExtractPlan:
    """What one run extracts. ``package``: the entities of the export projects (all of them
    land whenever a project is exported, since SCM moved their change tracking)."""

    legal_entities: tuple[str, ...]
    package: tuple[catalog.Entity, ...]
    odata: tuple[catalog.Entity, ...]
    clm: tuple[catalog.ClmObject, ...]
    full: frozenset[str]


def _resolve(names: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for name in names:
        try:
            found.add(catalog.entity(name).name)
        except KeyError:
            try:
                found.add(catalog.clm_object(name).name)
            except KeyError:
                raise ConfigError(
                    "entity", f"{name!r} is neither an SCM entity set nor a CLM object"
                ) from None
    return found


def plan_extract(
    settings: Settings,
    entities: Iterable[str] | None = None,
    legal_entities: Iterable[str] | None = None,
    full: Iterable[str] | bool = frozenset(),
    *,
    scm: bool = True,
    clm: bool = True,
) -> ExtractPlan:
    """Resolve names and scope into what the run does (unknown names raise ConfigError)."""
    wanted = _resolve(entities) if entities is not None else None
    in_scope = {catalog.entity(n).name for n in settings.sync.entities}
    if wanted is not None:
        scm_names = {n for n in wanted if n in {e.name for e in catalog.ENTITIES}}
        outside = scm_names - in_scope
        if outside:
            raise ConfigError("entity", f"{sorted(outside)} not in sync.entities")
    selected = [
        e
        for e in catalog.synced_entities()
        if scm and e.name in in_scope and (wanted is None or e.name in wanted)
    ]
    objects = tuple(o for o in catalog.CLM_OBJECTS if clm and (wanted is None or o.name in wanted))
    package = package_entities(settings) if any(e.extract == "package" for e in selected) else ()
    les = tuple(le.lower() for le in (legal_entities or settings.sync.legal_entities))
    every = {e.name for e in selected} | {o.name for o in objects}
    chosen = every if full is True else (_resolve(full) if full else set()) & every
    return ExtractPlan(
        legal_entities=les,
        package=tuple(package),
        odata=tuple(e for e in selected if e.extract == "odata"),
        clm=objects,
        full=frozenset(chosen),
    )


def build_units(ctx: ExtractContext, plan: ExtractPlan) -> list[Unit]:
    """The run's units of work (see :mod:`flows.steps.extract_types`)."""
    units: list[Unit] = []
    if plan.package:
        for le in plan.legal_entities:
            scope = tuple(Scope("scm", e.name, le, "package") for e in plan.package)
            units.append(Unit(f"scm:{le}", scope, partial(extract_project, ctx, le, plan.package)))
    for entity in plan.odata:
        companies: tuple[str | None, ...] = (None,)
        if entity.company_specific:
            companies = plan.legal_entities
        scope = tuple(Scope("scm", entity.name, le, "odata") for le in companies)
        run = partial(extract_reference, ctx, entity, plan.legal_entities)
        units.append(Unit(f"odata:{entity.name}", scope, run))
    if plan.clm and ctx.clients.clm is not None:
        for obj in plan.clm:
            scope = (Scope("clm", obj.name, None, "clm_api"),)
            units.append(Unit(f"clm:{obj.name}", scope, partial(extract_clm_api, ctx, obj)))
    elif plan.clm and ctx.clients.clm_export_folder is not None:
        scope = tuple(Scope("clm", o.name, None, "clm_export") for o in plan.clm)
        units.append(Unit("clm:exports", scope, partial(extract_clm_exports, ctx, plan.clm)))
    return units


def due_snapshots(
    ctx: ExtractContext, plan: ExtractPlan, key_snapshot: bool | None
) -> list[tuple[catalog.Entity, str]]:
    """The package entities and legal entities whose key snapshot this run takes (unless a
    whole-set landing of this run is one already)."""
    if key_snapshot is False:
        return []
    every = ctx.settings.sync.key_snapshot_every_runs
    return [
        (entity, company)
        for entity in plan.package
        for company in plan.legal_entities
        if key_snapshot or snapshot_due(ctx.con, entity.name, company, every)
    ]


def finish(
    ctx: ExtractContext,
    plan: ExtractPlan,
    report: ExtractReport,
    *,
    due: Sequence[tuple[catalog.Entity, str]] = (),
    counts: Mapping[tuple[str, str | None], int] | None = None,
) -> None:
    """After the units: refresh the current state of every relation with new landings (one
    after the other), then take the key snapshots: a whole-set landing (full push, reference
    set) is one already; the ``due`` package entities get an OData one, spared by SCM's count
    from before the exports (``counts``) when that count rules out deletes and this run's
    export of the entity landed."""
    workers = ctx.settings.sync.extract_concurrency
    waiting = {
        str(r[0])
        for r in ctx.con.execute(
            "SELECT DISTINCT relation FROM ops.landed_files WHERE current_refreshed_at IS NULL"
        ).fetchall()
    }
    tables = [t for t in relations.all_source_tables() if t.relation_name in waiting]

    # One relation at a time, with a checkpoint before and after each large one: committed but
    # uncheckpointed data stays in DuckDB's memory (see deferred_checkpoints), so refreshing
    # every relation at once on top of a whole extract's landings took the process to 6.5 GB on
    # a 1M-vendor world. DuckDB parallelises each statement itself.
    unwritten = report.total("landed")
    for table in tables:
        if unwritten >= CHECKPOINT_ROWS:
            _checkpoint(ctx.con)
            unwritten = 0
        with ctx.cursor() as cur:
            done = current.refresh_current(cur, table, run_id=ctx.run_id)
        report.refreshed[done.relation] = done.applied
        unwritten += done.changed
    takes: list[partial[SnapshotInfo]] = []
    covered: set[tuple[str, str | None]] = set()
    for result in report.results:
        # Quarantined rows' keys would be taken for deleted ones: no snapshot from those. A
        # first landing has nothing older to compare with: it needs no snapshot at all.
        whole = result.whole_set and not result.quarantined and result.load_id is not None
        if result.source == "scm" and whole:
            covered.add((result.entity, result.legal_entity))
            if not result.first:
                takes.append(partial(snapshot_from_landing, ctx, result))
    for entity, company in due:
        if (entity.name, company) in covered:
            continue
        counted = (counts or {}).get((entity.name, extract_odata.snapshot_scope(entity, company)))
        landed = [r.status for r in report.find(entity.name, company)]
        if not landed or any(status not in ("succeeded", "unchanged") for status in landed):
            counted = None  # what SCM held may not all have landed: read the keys
        takes.append(partial(extract_odata.key_snapshot, ctx, entity, company, counted=counted))
    report.snapshots += parallel_map(lambda take: take(), takes, workers)


def _checkpoint(con: duckdb.DuckDBPyConnection) -> None:
    """Write committed data out now; a failure costs memory, never data (it is committed)."""
    try:
        con.execute("CHECKPOINT")
    except duckdb.Error as exc:
        log.warning("checkpoint during the extract failed: %s", exc)


@contextmanager
def deferred_checkpoints(
    con: duckdb.DuckDBPyConnection, threshold: str = CHECKPOINT_THRESHOLD
) -> Iterator[None]:
    """Checkpoint once, at the end, rather than after landing after landing.

    Each landing commits on its own; past DuckDB's WAL threshold (16 MiB) every commit is
    followed by a checkpoint that rewrites the tables' last row groups, so a full extract of
    many files rewrote the same data again and again (measured on a 100k-vendor world: 30
    package files landed in 31 s with the default threshold, in 17 s with one checkpoint at the
    end, that checkpoint included). Not never, though: committed data waits in DuckDB's memory
    until it is checkpointed, so the threshold (1 GB) bounds what a large extract holds (a
    1M-vendor extract wrote a 1.9 GB WAL). The setting is the database's, so it is restored after.
    """
    previous = con.execute("SELECT current_setting('checkpoint_threshold')").fetchall()[0][0]
    con.execute(f"SET checkpoint_threshold = '{threshold}'")
    try:
        yield
    finally:
        con.execute(f"SET checkpoint_threshold = '{previous}'")
        try:
            con.execute("CHECKPOINT")
        except duckdb.Error as exc:  # the data is committed; DuckDB checkpoints later itself
            log.warning("checkpoint after the extract failed: %s", exc)


def extract_all(
    settings: Settings,
    clients: Clients,
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    entities: Iterable[str] | None = None,
    legal_entities: Iterable[str] | None = None,
    full: Iterable[str] | bool = frozenset(),
    key_snapshot: bool | None = None,
    bootstrap: bool = True,
    keep_packages: bool = False,
    scm: bool = True,
    clm: bool = True,
    runner: Runner = run_units,
) -> ExtractReport:
    """Extract SCM (packages and reference sets) and the CLM; see the module docstring.

    ``runner`` runs the units (default: a thread pool of ``extract_concurrency``); the Prefect
    flow passes one that submits each unit as a task.
    """
    begin = time.perf_counter()
    plan = plan_extract(settings, entities, legal_entities, full, scm=scm, clm=clm)
    report = ExtractReport(run_id)
    ctx = ExtractContext(settings, clients, con, run_id, plan.full, keep_packages=keep_packages)
    failure: BaseException | None = None
    try:
        with state.step(con, run_id, "extract") as step, deferred_checkpoints(con):
            if plan.package and bootstrap:
                plan = _bootstrap(ctx, plan, report)
            due = due_snapshots(ctx, plan, key_snapshot)
            # counted before the exports begin (a forced snapshot reads the keys anyway)
            counts = extract_odata.snapshot_counts(ctx, due) if key_snapshot is None else {}
            report.results += runner(build_units(ctx, plan), settings.sync.extract_concurrency)
            finish(ctx, plan, report, due=due, counts=counts)
            report.packages = sorted({r.package for r in report.results if r.package})
            step.rows = report.total("landed")
            step.detail.update(summary(report))
            failure = first_error(report)
            if failure is not None:
                raise failure  # recorded as the step's error; the report carries the rest
    except BaseException as exc:
        if exc is not failure:
            raise
    report.seconds = time.perf_counter() - begin
    return report


def _bootstrap(ctx: ExtractContext, plan: ExtractPlan, report: ExtractReport) -> ExtractPlan:
    """Create or repair the export projects; when that fails, the package entities fail."""
    try:
        projects = bootstrap_projects(
            ctx.settings, ctx.clients.odata, legal_entities=plan.legal_entities,
            con=ctx.con, run_id=ctx.run_id,
        )  # fmt: skip
    except Exception as exc:
        report.results += [
            EntityResult("scm", e.name, le, "package").fail(exc)
            for le in plan.legal_entities
            for e in plan.package
        ]
        return ExtractPlan(plan.legal_entities, (), plan.odata, plan.clm, plan.full)
    report.project_changes = [str(c) for c in projects.changes]
    ctx.added_entities = projects.added_entities
    return plan


def extract_scm(
    settings: Settings,
    clients: Clients,
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    entities: Iterable[str] | None = None,
    legal_entities: Iterable[str] | None = None,
    full: Iterable[str] | bool = frozenset(),
    key_snapshot: bool | None = None,
    bootstrap: bool = True,
    keep_packages: bool = False,
) -> ExtractReport:
    """SCM only: the export projects' packages and the OData reference sets."""
    return extract_all(
        settings, clients, con, run_id=run_id, entities=entities, legal_entities=legal_entities,
        full=full, key_snapshot=key_snapshot, bootstrap=bootstrap, keep_packages=keep_packages,
        clm=False,
    )  # fmt: skip


def extract_clm(
    settings: Settings,
    clients: Clients,
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    entities: Iterable[str] | None = None,
    full: Iterable[str] | bool = frozenset(),
) -> ExtractReport:
    """The CLM only: its API or its export folders, as the settings say."""
    return extract_all(
        settings, clients, con, run_id=run_id, entities=entities, full=full, scm=False,
        bootstrap=False,
    )  # fmt: skip


def extract_complete(con: duckdb.DuckDBPyConnection, run_id: str) -> bool:
    """True when run ``run_id`` has an ``extract`` step and none of them failed: later steps
    (models, loader) must not run on a partial extract."""
    rows = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE status <> 'succeeded') FROM ops.runs "
        "WHERE run_id = ? AND step = 'extract'",
        [run_id],
    ).fetchall()
    steps, bad = rows[0]
    return bool(steps) and not bad
