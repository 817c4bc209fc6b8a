"""A data package landed by hand (``clmsync land-package FILE.zip``).

Someone downloaded a package from SCM's Data management workspace and wants it in the warehouse:
it goes through the same reader, checks, quarantine and lineage as an exported package, under an
execution id made from the zip's checksum, so landing the same file again changes nothing.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import duckdb

from connectors.errors import ClmSyncError, PackageFormatError
from connectors.package import PackageReader, RowError
from flows.steps.extract_types import EntityResult, ExtractReport
from warehouse import current, landing, state


def first_error(report: ExtractReport) -> BaseException | None:
    """The error of the report's first failure (what a failed step records)."""
    for result in report.failures:
        if result.exception is not None:
            return result.exception
    errors = [f"{s.entity} ({s.legal_entity}): {s.error}" for s in report.snapshots if s.error]
    return ClmSyncError("key snapshot failed: " + "; ".join(errors)) if errors else None


def summary(report: ExtractReport) -> dict[str, object]:
    """Counts for ``ops.runs`` and logs."""
    return {
        "extracted": report.total("extracted"),
        "landed": report.total("landed"),
        "quarantined": report.total("quarantined"),
        "failed": [f"{r.entity}/{r.legal_entity or '-'}: {r.error}" for r in report.failures],
        "tombstoned": sum(s.tombstoned for s in report.snapshots),
        "revived": sum(s.revived for s in report.snapshots),
        "project_changes": report.project_changes,
    }


def file_checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def land_package_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    run_id: str,
    legal_entity: str | None = None,
) -> ExtractReport:
    """Land a package downloaded by hand (e.g. from SCM's Data management workspace).

    The same reader, checks, quarantine and lineage as an exported package; the execution id is
    ``file-sha256:<checksum of the zip>``, so landing the same file again (under any name)
    changes nothing. Watermarks do not move: a file is not part of change tracking.
    """
    begin = time.perf_counter()
    report = ExtractReport(run_id)
    execution_id = f"file-sha256:{file_checksum(path)}"
    le = legal_entity.lower() if legal_entity else None
    with state.step(con, run_id, "land_package", entity=Path(path).name, legal_entity=le) as step:
        with PackageReader(Path(path)) as reader:
            for item in reader.entities():
                result = EntityResult("scm", item.label, le, "package_file", batch_id=execution_id)
                report.results.append(result)
                if item.entity is None or item.entity.direction == "control":
                    result.fail(
                        PackageFormatError(
                            Path(path).name, f"entity '{item.label}' is not one clmsync lands"
                        )
                    )
                    continue
                result.entity = item.entity.name
                result.legal_entity = le if item.entity.company_specific else None
                errors: list[RowError] = []
                try:
                    landed = landing.land_scm(
                        con, item.entity, reader.open_csv(item.label, on_error=errors.append),
                        run_id=run_id, execution_id=execution_id, source_file=item.file,
                        legal_entity=result.legal_entity, bad_rows=errors,
                    )  # fmt: skip
                except Exception as exc:
                    result.fail(exc)
                    continue
                result.extracted, result.landed = landed.rows_in, landed.landed
                result.quarantined, result.load_id = landed.quarantined, landed.load_id
                result.status = "unchanged" if landed.skipped else "succeeded"
        for done in current.refresh_all(con, run_id=run_id):
            report.refreshed[done.relation] = done.applied
        step.rows = report.total("landed")
        step.detail.update(summary(report), execution_id=execution_id)
        failure = first_error(report)
        if failure is not None:
            step.status = "failed"
    report.seconds = time.perf_counter() - begin
    return report
