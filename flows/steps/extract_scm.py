"""SCM extract through data packages: one export project per legal entity.

Per project: ``ExportToPackage`` → wait → ``GetExportedPackageUrl`` → download into the landing
folder → :class:`PackageReader` → land every entity's CSV (rows the reader cannot parse go to the
quarantine) with its watermark, in one transaction per entity.

SCM moves a project's change tracking as soon as an export succeeds, so an export whose package
is lost can never be asked for again. The execution is therefore recorded as *pending* for every
entity of the project the moment SCM accepts it (before the wait, so a run that dies while
waiting does not forget it either); landing an entity clears its mark, a failed execution clears
all of them. A run first finishes pending executions (status, a fresh URL for the same execution,
download, land) and exports again only when none is left: an older package landed after a newer
one, or a pending one overwritten by a new export, would lose changes.

A package carries every entity of its project, so all of them are landed, whatever entities the
run was asked for. An entity never landed in this warehouse, or asked for in ``full``, is
exported with ``DefaultRefreshType = FullPush`` for that export and set back afterwards.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Literal

import duckdb

from connectors import catalog, projects
from connectors.dmf import new_execution_id
from connectors.errors import (
    BlobUrlExpired,
    DownloadError,
    ODataError,
    ODataRequestError,
    PackageJobFailed,
    PackageJobTimeout,
)
from connectors.odata import ODataClient
from flows.steps.extract_package import fetch, land_package, result_for
from flows.steps.extract_types import EntityResult, ExtractContext
from warehouse import state

log = logging.getLogger(__name__)

SOURCE: Literal["scm"] = "scm"


def _states(
    cur: duckdb.DuckDBPyConnection, le: str
) -> dict[str, tuple[str | None, datetime | None, str | None]]:
    """Entity → (pending execution, when it was started, last execution landed), in one read."""
    rows = cur.execute(
        "SELECT entity, pending_execution_id, pending_at, last_execution_id "
        "FROM ops.extract_state WHERE source = ? AND legal_entity = ?",
        [SOURCE, le],
    ).fetchall()
    return {str(r[0]): (r[1], r[2], r[3]) for r in rows}


def _pending(
    cur: duckdb.DuckDBPyConnection, entities: Sequence[catalog.Entity], le: str
) -> dict[str, tuple[datetime, list[catalog.Entity]]]:
    """Pending executions of the project: id → (when it was started, its entities)."""
    found: dict[str, tuple[datetime, list[catalog.Entity]]] = {}
    states = _states(cur, le)
    for entity in entities:
        pending, since, _ = states.get(entity.name, (None, None, None))
        if pending and since is not None:
            found.setdefault(pending, (since, []))[1].append(entity)
    return found


def extract_project(
    ctx: ExtractContext, legal_entity: str, entities: Sequence[catalog.Entity]
) -> list[EntityResult]:
    """Finish the project's pending executions, then export and land it once."""
    le = legal_entity.lower()
    project = catalog.export_project_name(ctx.settings.scm.data_project_prefix, le)
    results: list[EntityResult] = []
    needs_full: set[str] = {e.name for e in entities if e.name in ctx.full}
    with ctx.cursor() as cur:
        pending = _pending(cur, entities, le)
        for execution_id, (started, members) in sorted(pending.items(), key=lambda p: p[1][0]):
            superseded = [e for e in members if e.name in needs_full]
            for entity in superseded:  # a full export asked for replaces what is pending
                state.clear_pending(cur, SOURCE, entity.name, le)
            todo = [e for e in members if e.name not in needs_full]
            if todo:
                results += _recover(ctx, cur, project, le, execution_id, started, todo, needs_full)
        left = _pending(cur, entities, le)
        if left:
            waiting = {e.name for _, members in left.values() for e in members}
            for entity in entities:
                if entity.name not in waiting:
                    blocked = result_for(entity, le)
                    blocked.status = "blocked"
                    blocked.error = (
                        f"not exported: execution(s) {', '.join(sorted(left))} of project "
                        f"{project} are not landed yet"
                    )
                    results.append(blocked)
            return results
        states = _states(cur, le)
        first = {e.name for e in entities if not states.get(e.name, (None, None, None))[2]}
        exported = _export_and_land(ctx, cur, project, le, entities, needs_full | first)
        for result in exported:
            # A full push holds every key: it is a key snapshot as well.
            result.whole_set = result.entity in needs_full | first and result.status == "succeeded"
            result.first = result.entity in first
        results += exported
    return results


def _recover(
    ctx: ExtractContext,
    cur: duckdb.DuckDBPyConnection,
    project: str,
    le: str,
    execution_id: str,
    started: datetime,
    entities: list[catalog.Entity],
    needs_full: set[str],
) -> list[EntityResult]:
    """Consume a pending execution: land it if it succeeded, forget it if it failed. One that
    SCM no longer knows (its history is cleaned up after some days) is forgotten too, and its
    entities are exported in full, since its changes cannot be asked for again."""
    log.info("%s: finishing pending execution %s", project, execution_id)
    if _forgotten(ctx, execution_id, started):
        log.warning(
            "%s: SCM no longer knows execution %s; exporting in full", project, execution_id
        )
        for entity in entities:
            state.clear_pending(cur, SOURCE, entity.name, le)
            needs_full.add(entity.name)
        return []
    try:
        ctx.clients.packages.wait(
            execution_id,
            timeout=ctx.settings.scm.package_timeout_seconds,
            partially_succeeded=ctx.settings.sync.partially_succeeded,
        )
    except PackageJobFailed as exc:
        if exc.status == "PartiallySucceeded":  # refused by policy, yet SCM moved on: keep it
            return [result_for(e, le, execution_id).fail(_refused(exc)) for e in entities]
        log.warning("%s: pending execution %s ended %s", project, execution_id, exc.status)
        for entity in entities:
            state.clear_pending(cur, SOURCE, entity.name, le)
        return []
    except Exception as exc:
        return [result_for(e, le, execution_id).fail(exc) for e in entities]
    try:
        path, counts = fetch(ctx, execution_id)
    except DownloadError as exc:
        if isinstance(exc, BlobUrlExpired) or "404" not in exc.reason:
            return [result_for(e, le, execution_id).fail(exc) for e in entities]
        # The package is gone from blob storage (SCM keeps it 7 days): its changes can only
        # come back through a full export.
        log.warning("%s: package of %s is gone; exporting in full", project, execution_id)
        for entity in entities:
            state.clear_pending(cur, SOURCE, entity.name, le)
            needs_full.add(entity.name)
        return []
    except Exception as exc:
        return [result_for(e, le, execution_id).fail(exc) for e in entities]
    return land_package(ctx, cur, path, counts, le, execution_id, started, entities)


def _forgotten(ctx: ExtractContext, execution_id: str, started: datetime) -> bool:
    """True when SCM answers "not found" for an execution started longer ago than any
    execution may take (right after queuing, "not found" only means "not yet")."""
    try:
        ctx.clients.packages.execution_status(execution_id)
    except ODataRequestError as exc:
        age = (state.utcnow() - started).total_seconds()
        gone = exc.status == 400 and "were not found" in exc.server_message
        return gone and age > ctx.settings.scm.package_timeout_seconds
    return False


def _export_and_land(
    ctx: ExtractContext,
    cur: duckdb.DuckDBPyConnection,
    project: str,
    le: str,
    entities: Sequence[catalog.Entity],
    needs_full: set[str],
) -> list[EntityResult]:
    odata = ctx.clients.odata
    packages = ctx.clients.packages
    full = [e for e in entities if e.name in needs_full]
    # SCM's first export of a project entity created just now is a full one anyway.
    toggled = [e for e in full if (project, e.label) not in ctx.added_entities]
    names = [e.name for e in entities]
    execution_id = new_execution_id(project)
    started = state.utcnow()
    restore = True
    try:
        with state.step(cur, ctx.run_id, "scm_export", legal_entity=le) as step:
            for entity in toggled:
                projects.set_refresh_type(odata, project, entity.label, projects.FULL)
            execution_id = _start(ctx, project, le, execution_id)
            started = state.utcnow()
            state.set_pending(cur, SOURCE, names, le, execution_id, run_id=ctx.run_id)
            step.detail.update(
                project=project, execution_id=execution_id, full=sorted(e.name for e in full)
            )
            try:
                status = packages.wait(
                    execution_id,
                    timeout=ctx.settings.scm.package_timeout_seconds,
                    partially_succeeded=ctx.settings.sync.partially_succeeded,
                )
            except PackageJobFailed as exc:
                if exc.status == "PartiallySucceeded":
                    raise _refused(exc) from exc
                for name in names:  # SCM kept its change tracking: nothing to remember
                    state.clear_pending(cur, SOURCE, name, le)
                raise
            except PackageJobTimeout:
                # SCM may not have read the refresh types yet: leave them for this execution
                # (the next bootstrap sets them back once it has surely started).
                restore = False
                raise
            step.detail["status"] = status
    except Exception as exc:
        return [result_for(e, le, execution_id).fail(exc) for e in entities]
    finally:
        if restore:
            _restore(odata, project, toggled)
    try:
        path, counts = fetch(ctx, execution_id)
    except Exception as exc:
        return [result_for(e, le, execution_id).fail(exc) for e in entities]
    return land_package(ctx, cur, path, counts, le, execution_id, started, entities)


def _refused(exc: PackageJobFailed) -> PackageJobFailed:
    """A ``PartiallySucceeded`` export refused by ``sync.partially_succeeded = "fail"``. SCM
    moved its change tracking all the same, so the execution stays pending (its changes are
    not asked for again) and its entities fail until someone decides."""
    refused = PackageJobFailed(
        exc.execution_id, exc.status, detail="refused by sync.partially_succeeded = fail",
        errors=exc.errors,
    )  # fmt: skip
    refused.hint = (
        "Look at the execution's errors in SCM, then run `clmsync extract --full` (a fresh full "
        'export replaces it) or set sync.partially_succeeded = "accept" to land it as it is.'
    )
    return refused


def _start(ctx: ExtractContext, project: str, le: str, execution_id: str) -> str:
    """``ExportToPackage`` under an execution id chosen here, so that when the answer is lost
    the execution can be found again instead of being started twice."""
    packages = ctx.clients.packages
    try:
        return packages.export_to_package(project, f"{execution_id}.zip", le.upper(), execution_id)
    except ODataError as exc:
        if exc.status != 0:
            raise
        try:
            packages.execution_status(execution_id)
        except ODataError:
            raise exc from None
        log.warning("%s: ExportToPackage answer lost; execution %s exists", project, execution_id)
        return execution_id


def _restore(odata: ODataClient, project: str, entities: Sequence[catalog.Entity]) -> None:
    for entity in entities:
        try:
            projects.set_refresh_type(odata, project, entity.label, projects.INCREMENTAL)
        except ODataError as exc:  # bootstrap repairs it next run; the export itself is fine
            log.warning("%s: could not set %s back to incremental: %s", project, entity.name, exc)
