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
import re
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Literal

import duckdb

from connectors import catalog, projects
from connectors.dmf import new_execution_id
from connectors.errors import (
    BlobUrlExpired,
    DownloadError,
    ODataError,
    PackageFormatError,
    PackageJobFailed,
    PackageJobTimeout,
)
from connectors.odata import ODataClient
from connectors.package import PackageReader, RowError
from flows.steps.extract_types import EntityResult, ExtractContext
from warehouse import landing, state
from warehouse.db import transaction

log = logging.getLogger(__name__)

SOURCE: Literal["scm"] = "scm"


def _result(entity: catalog.Entity, le: str, execution_id: str | None = None) -> EntityResult:
    return EntityResult(SOURCE, entity.name, le, "package", batch_id=execution_id)


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
                    blocked = _result(entity, le)
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
    """Consume a pending execution: land it if it succeeded, forget it if it failed."""
    log.info("%s: finishing pending execution %s", project, execution_id)
    try:
        ctx.clients.packages.wait(
            execution_id,
            timeout=ctx.settings.scm.package_timeout_seconds,
            partially_succeeded=ctx.settings.sync.partially_succeeded,
        )
    except PackageJobFailed as exc:
        log.warning("%s: pending execution %s ended %s", project, execution_id, exc.status)
        for entity in entities:
            state.clear_pending(cur, SOURCE, entity.name, le)
        return []
    except Exception as exc:
        return [_result(e, le, execution_id).fail(exc) for e in entities]
    try:
        path, counts = _fetch(ctx, execution_id)
    except DownloadError as exc:
        if isinstance(exc, BlobUrlExpired) or "404" not in exc.reason:
            return [_result(e, le, execution_id).fail(exc) for e in entities]
        # The package is gone from blob storage (SCM keeps it 7 days): its changes can only
        # come back through a full export.
        log.warning("%s: package of %s is gone; exporting in full", project, execution_id)
        for entity in entities:
            state.clear_pending(cur, SOURCE, entity.name, le)
            needs_full.add(entity.name)
        return []
    except Exception as exc:
        return [_result(e, le, execution_id).fail(exc) for e in entities]
    return _land_package(ctx, cur, path, counts, le, execution_id, started, entities)


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
            except PackageJobFailed:
                for name in names:
                    state.clear_pending(cur, SOURCE, name, le)
                raise
            except PackageJobTimeout:
                # SCM may not have read the refresh types yet: leave them for this execution
                # (the next bootstrap sets them back once it has surely started).
                restore = False
                raise
            step.detail["status"] = status
    except Exception as exc:
        return [_result(e, le, execution_id).fail(exc) for e in entities]
    finally:
        if restore:
            _restore(odata, project, toggled)
    try:
        path, counts = _fetch(ctx, execution_id)
    except Exception as exc:
        return [_result(e, le, execution_id).fail(exc) for e in entities]
    return _land_package(ctx, cur, path, counts, le, execution_id, started, entities)


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


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def package_path(landing_dir: Path, execution_id: str) -> Path:
    """Where an execution's package is downloaded to."""
    return Path(landing_dir) / "scm" / f"{_UNSAFE.sub('_', execution_id)}.zip"


def _fetch(ctx: ExtractContext, execution_id: str) -> tuple[Path, dict[str, int]]:
    """Download the execution's package (a fresh URL when the first one has expired) and read
    the rows SCM says it exported per entity (``DataManagementExecutionJobDetails``)."""
    packages = ctx.clients.packages
    dest = package_path(ctx.settings.warehouse.landing_dir, execution_id)
    try:
        packages.download(packages.exported_package_url(execution_id), dest)
    except BlobUrlExpired:
        log.info("package URL of %s expired; asking SCM for a fresh one", execution_id)
        packages.download(packages.exported_package_url(execution_id), dest)
    counts = {
        str(row.get("EntityName", "")).lower(): int(row.get("StagingRecordsCreatedCount") or 0)
        for row in packages.execution_job_details(execution_id)
    }
    return dest, counts


def _land_package(
    ctx: ExtractContext,
    cur: duckdb.DuckDBPyConnection,
    path: Path,
    counts: dict[str, int],
    le: str,
    execution_id: str,
    extracted_at: datetime,
    entities: Sequence[catalog.Entity],
) -> list[EntityResult]:
    """Land each of ``entities`` from a downloaded package, then remove the file (unless the
    run keeps packages)."""
    results = []
    try:
        with PackageReader(path) as reader:
            empty = [e for e in entities if _empty(reader, e, counts.get(e.label.lower()))]
            if empty:
                results += _advance_unchanged(ctx, cur, le, execution_id, empty)
            for entity in entities:
                if entity in empty:
                    continue
                results.append(
                    land_entity(
                        ctx, cur, reader, entity, le, execution_id, extracted_at,
                        counts.get(entity.label.lower()),
                    )
                )  # fmt: skip
    except PackageFormatError as exc:  # the package itself is unreadable
        results = [_result(e, le, execution_id).fail(exc) for e in entities]
    finally:
        if not ctx.keep_packages:
            path.unlink(missing_ok=True)
    if ctx.keep_packages:
        for result in results:
            result.package = path
    return results


def _empty(reader: PackageReader, entity: catalog.Entity, expected: int | None) -> bool:
    """True when SCM exported no row of ``entity`` and its data file indeed holds none."""
    if expected != 0:
        return False
    found = next((p for p in reader.entities() if p.label.lower() == entity.label.lower()), None)
    if found is None:
        return False
    errors: list[RowError] = []
    stream = reader.open_csv(found.label, on_error=errors.append)
    try:
        return not any(batch.num_rows for batch in stream) and not errors
    finally:
        stream.close()


def _advance_unchanged(
    ctx: ExtractContext,
    cur: duckdb.DuckDBPyConnection,
    le: str,
    execution_id: str,
    entities: Sequence[catalog.Entity],
) -> list[EntityResult]:
    """Entities the execution carried no row of: their watermark moves (in one transaction,
    with one step for all of them); nothing is landed."""
    results = [_result(e, le, execution_id) for e in entities]
    watermark = state.Watermark(execution_id=execution_id)
    try:
        with state.step(cur, ctx.run_id, "scm_land", legal_entity=le) as step:
            with transaction(cur):
                for entity in entities:
                    state.advance(
                        cur, SOURCE, entity.name, le, watermark, rows=0, run_id=ctx.run_id
                    )
            step.status = "unchanged"
            step.detail.update(execution_id=execution_id, unchanged=[e.name for e in entities])
    except Exception as exc:
        return [r.fail(exc) for r in results]
    for result in results:
        result.status, result.expected = "unchanged", 0
    return results


def land_entity(
    ctx: ExtractContext,
    cur: duckdb.DuckDBPyConnection,
    reader: PackageReader,
    entity: catalog.Entity,
    le: str,
    execution_id: str,
    extracted_at: datetime,
    expected: int | None,
) -> EntityResult:
    """Land one entity's data file of a package, with its watermark, in one transaction."""
    result = _result(entity, le, execution_id)
    result.expected = expected
    begin = time.perf_counter()
    try:
        with state.step(cur, ctx.run_id, "scm_land", entity=entity.name, legal_entity=le) as step:
            found = next(
                (p for p in reader.entities() if p.label.lower() == entity.label.lower()), None
            )
            if found is None:
                # This package will never hold it: forget it, so the next run exports again.
                state.clear_pending(cur, SOURCE, entity.name, le)
                raise PackageFormatError(
                    reader.path.name, f"entity '{entity.label}' is not in the package"
                )
            errors: list[RowError] = []
            landed = landing.land_scm(
                cur, entity, reader.open_csv(found.label, on_error=errors.append),
                run_id=ctx.run_id, execution_id=execution_id, source_file=found.file,
                legal_entity=le, extracted_at=extracted_at, bad_rows=errors,
                expected_rows=expected, watermark=state.Watermark(execution_id=execution_id),
            )  # fmt: skip
            result.extracted, result.landed = landed.rows_in, landed.landed
            result.quarantined, result.load_id = landed.quarantined, landed.load_id
            result.status = "unchanged" if landed.skipped else "succeeded"
            step.rows = landed.landed
            step.detail.update(
                execution_id=execution_id, extracted=landed.rows_in,
                quarantined=landed.quarantined, expected=expected, skipped=landed.skipped,
            )  # fmt: skip
    except Exception as exc:
        result.fail(exc)
    finally:
        result.seconds = time.perf_counter() - begin
    return result
