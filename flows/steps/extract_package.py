"""Landing a downloaded SCM package: every entity file of it, with its watermark.

Each entity is landed in one transaction with its watermark (the execution id), checked against
the rows SCM says it exported (``DataManagementExecutionJobDetails``); rows the reader cannot
parse go to the quarantine. Entities the execution carried no row of only move their watermark,
all in one transaction: nothing is landed for them.
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

from connectors import catalog
from connectors.errors import BlobUrlExpired, PackageFormatError
from connectors.package import PackageReader, RowError
from flows.steps.extract_types import EntityResult, ExtractContext
from warehouse import landing, state
from warehouse.db import transaction

log = logging.getLogger(__name__)

SOURCE: Literal["scm"] = "scm"


def result_for(entity: catalog.Entity, le: str, execution_id: str | None = None) -> EntityResult:
    return EntityResult(SOURCE, entity.name, le, "package", batch_id=execution_id)


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def package_path(landing_dir: Path, execution_id: str) -> Path:
    """Where an execution's package is downloaded to."""
    return Path(landing_dir) / "scm" / f"{_UNSAFE.sub('_', execution_id)}.zip"


def remove_abandoned(landing_dir: Path, project: str, *, keep_packages: bool) -> list[str]:
    """Remove the downloads of ``project`` a killed run left in the landing folder: a package
    (or a ``.part`` of one) is removed once its entities are landed, but a run killed in between
    leaves it, and the next export has a new execution id, so it would stay for good. Call it
    when the project has no pending execution: then every file of it is abandoned. With
    ``keep_packages`` only partial downloads go; packages an earlier call kept on purpose are
    cleared by the project's next export made without it (move them away to keep them longer).
    Returns the names removed."""
    folder = Path(landing_dir) / "scm"
    prefix = f"{_UNSAFE.sub('_', project)}-"
    patterns = ("*.zip.part",) if keep_packages else ("*.zip.part", "*.zip")
    removed = []
    for pattern in patterns:
        for path in folder.glob(prefix + pattern):
            path.unlink(missing_ok=True)
            removed.append(path.name)
    if removed:
        log.info("%s: removed %d download(s) a stopped run left behind", project, len(removed))
    return removed


def fetch(ctx: ExtractContext, execution_id: str) -> tuple[Path, dict[str, int]]:
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


def land_package(
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
        results = [result_for(e, le, execution_id).fail(exc) for e in entities]
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
    results = [result_for(e, le, execution_id) for e in entities]
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
    result = result_for(entity, le, execution_id)
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
