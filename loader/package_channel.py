"""The package channel: one plan batch becomes one data package import.

``GetAzureWriteUrl`` → upload → ``ImportFromPackage`` with an execution id derived from the plan
batch (``<prefix>-PUSH-<run id>-<batch>``, the same on every attempt) → wait → execution errors,
the error-keys file and the staging error file, mapped back to plan rows by their keys (updates)
or natural keys (creates). Rows not named by any error succeeded.

The rows are marked ``sent`` with the execution id before ``ImportFromPackage`` leaves. A batch
that was sent before (a crash, a timeout) first asks SCM about its execution id: known, it is
waited for and read; unknown, it is imported under that same id, which SCM accepts once only, so
one batch is never imported twice.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from connectors import catalog
from connectors.catalog import Entity
from connectors.dmf import ExecutionError, PackageApi
from connectors.errors import ODataRequestError, PackageJobFailed
from connectors.package_writer import PackageWriter
from loader import bodies, ledger, readback
from loader.ledger import Outcome
from loader.model import PlanRow, ProgressCallback, PushProgress

log = logging.getLogger(__name__)


@dataclass
class PackageOptions:
    project_prefix: str = "CLMSYNC"
    timeout: float = 3600.0
    workdir: Path = Path("push")


def project_name(prefix: str, legal_entity: str | None) -> str:
    """The import data project of one legal entity (created by SCM from the first package)."""
    return f"{prefix}-IMPORT-{(legal_entity or 'SHARED').upper()}"


def execution_id(prefix: str, run_id: str, batch_id: str) -> str:
    """The execution id of a plan batch: derived, so every attempt uses the same one."""
    return f"{prefix}-PUSH-{run_id}-{batch_id}"


def push_batch(
    con: duckdb.DuckDBPyConnection,
    packages: PackageApi,
    run_id: str,
    rows: Sequence[PlanRow],
    *,
    sent_before: bool,
    options: PackageOptions,
    progress: ProgressCallback | None = None,
    may_import: bool = True,
) -> None:
    """Import one batch (rows of one entity, legal entity and batch id) and record every row.

    With ``may_import`` False (settling an older run's batch) an execution SCM does not know is
    not started: its rows fail as interrupted.
    """
    first = rows[0]
    entity = catalog.entity(first.entity)
    batch = str(first.batch_id)
    execution = execution_id(options.project_prefix, run_id, batch)
    seqs = [r.seq for r in rows]
    status = _known_status(packages, execution) if sent_before else None
    if status is None and not may_import:
        reason = "interrupted before ImportFromPackage reached SCM: not applied"
        ledger.record(con, run_id, [Outcome(s, "failed", reason=reason) for s in seqs])
        return
    if status is None:
        project = project_name(options.project_prefix, first.legal_entity)
        path = _write(entity, rows, project, options.workdir / f"{execution}.zip")
        _, url = packages.azure_write_url(path.name)
        packages.upload(url, path)
        ledger.mark_sent(
            con, run_id, seqs, channel="package", batch_id=batch, execution_id=execution
        )
        _import(packages, url, project, first.legal_entity, execution)
        path.unlink(missing_ok=True)
        log.info("%s (%s): batch %s of %d rows imported as execution %s",
                 entity.name, first.legal_entity, batch, len(rows), execution)  # fmt: skip
    else:
        log.info("batch %s: execution %s is already known to SCM (%s); not importing again",
                 batch, execution, status)  # fmt: skip
    try:
        status = packages.wait(execution, timeout=options.timeout, partially_succeeded="accept")
    except PackageJobFailed as exc:
        status = exc.status
    outcomes = _outcomes(packages, entity, rows, execution, status)
    ledger.record(con, run_id, outcomes)
    if progress is not None:
        done = sum(1 for o in outcomes if o.status == "succeeded")
        progress(
            PushProgress("push", entity.name, first.legal_entity, "package", len(rows), len(rows),
                         done, len(rows) - done)
        )  # fmt: skip


def _known_status(packages: PackageApi, execution: str) -> str | None:
    """The execution's status, or None when SCM has never heard of it."""
    try:
        return packages.execution_status(execution)
    except ODataRequestError as exc:
        if exc.status == 400 and "were not found" in exc.server_message:
            return None
        raise


def _import(
    packages: PackageApi, url: str, project: str, legal_entity: str | None, execution: str
) -> None:
    try:
        packages.import_from_package(
            url, project, legal_entity or "", execution_id=execution, overwrite=True
        )
    except PackageJobFailed as exc:
        # No answer: the import may have been queued. Waiting on its id tells.
        log.warning("ImportFromPackage %s got no answer (%s); asking SCM about it", execution, exc)
    except ODataRequestError as exc:
        if "already exists" not in exc.server_message:
            raise
        log.warning("execution %s already exists in SCM: waiting for it, not importing again",
                    execution)  # fmt: skip


def _write(entity: Entity, rows: Sequence[PlanRow], project: str, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = bodies.package_columns(entity, rows)
    with PackageWriter(path, definition_group=project) as writer:
        writer.add_entity(entity, [bodies.package_row(columns, r) for r in rows], fields=columns)
    return path


def _identity_of(entity: Entity, row: PlanRow) -> readback.Identity:
    return readback.identity(entity, bodies.identity_fields(entity, row), bodies.merged(row))


def _failed_rows(
    packages: PackageApi, entity: Entity, rows: Sequence[PlanRow], execution: str
) -> dict[int, str]:
    """Plan rows SCM names in its error-keys or staging error file: seq → which file."""
    by_column = entity.by_column()
    index: dict[readback.Identity, list[int]] = defaultdict(list)
    for row in rows:
        index[_identity_of(entity, row)].append(row.seq)
    fields = bodies.identity_fields(entity, rows[0])  # a batch holds one kind of change
    failed: dict[int, str] = {}
    sources = (
        ("target", packages.target_error_keys(execution, entity.label)),
        ("staging", packages.staging_error_rows(execution, entity.label)),
    )
    for stage, found in sources:
        for raw in found:
            record = {
                by_column[c.upper()].name: v for c, v in raw.items() if c.upper() in by_column
            }
            if not all(f in record for f in fields):
                log.warning("execution %s: an error row without the key %s: %s",
                            execution, fields, raw)  # fmt: skip
                continue
            for seq in index.get(readback.identity(entity, fields, record), []):
                failed.setdefault(seq, stage)
    return failed


def _messages(errors: Sequence[ExecutionError]) -> list[list[ExecutionError]]:
    """Execution errors grouped per record, in record order (staging records follow the file)."""
    groups: dict[str, list[ExecutionError]] = {}
    for error in errors:
        groups.setdefault(error.record_id, []).append(error)

    def order(record_id: str) -> tuple[int, int | str]:
        return (0, int(record_id)) if record_id.isdigit() else (1, record_id)

    return [groups[k] for k in sorted(groups, key=order)]


def _text(errors: Sequence[ExecutionError]) -> str:
    return "; ".join(f"{e.field}: {e.message}" if e.field else e.message for e in errors)


def _outcomes(
    packages: PackageApi, entity: Entity, rows: Sequence[PlanRow], execution: str, status: str
) -> list[Outcome]:
    if status == "Succeeded":  # every row went in: there is no error to read
        return [Outcome(r.seq, "succeeded", execution_id=execution) for r in rows]
    errors = packages.execution_errors(execution)
    failed = _failed_rows(packages, entity, rows, execution)
    if status not in ("Succeeded", "PartiallySucceeded") and not failed:
        reason = f"execution {execution} ended {status}"
        message = _text(errors)[:2000] or reason
        return [
            Outcome(r.seq, "failed", reason=reason, scm_message=message, execution_id=execution)
            for r in rows
        ]
    per_record = _messages([e for e in errors if e.record_id])
    failing = [r for r in rows if r.seq in failed]
    messages: dict[int, str] = {}
    if len(per_record) == len(failing):
        messages = {r.seq: _text(m) for r, m in zip(failing, per_record, strict=True)}
    else:
        # Counts differ (SCM grouped its errors otherwise): give each row the errors that name
        # one of its values, else all of them.
        for row in failing:
            merged = bodies.merged(row)
            own = [
                e for e in errors
                if any(str(v) and f"'{v}'" in e.message for v in merged.values())
            ]  # fmt: skip
            messages[row.seq] = _text(own or errors)[:2000]
    outcomes: list[Outcome] = []
    for row in rows:
        if row.seq in failed:
            outcomes.append(
                Outcome(
                    row.seq,
                    "failed",
                    reason=f"SCM refused it ({failed[row.seq]} error in execution {execution})",
                    scm_message=messages.get(row.seq) or None,
                    execution_id=execution,
                )
            )
        else:
            outcomes.append(Outcome(row.seq, "succeeded", execution_id=execution))
    return outcomes
