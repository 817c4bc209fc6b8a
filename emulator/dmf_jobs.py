"""Data management executions: asynchronous exports and imports with SCM's status sequence.

An execution is queued ``NotRun``, becomes ``Executing`` after the queue delay, does its work
on a worker thread (writing a package, or reading one into the entities), stays ``Executing``
at least ``fixed + per_row × rows`` seconds, and ends ``Succeeded``, ``PartiallySucceeded`` or
``Failed`` (or, by fault, never ends). Per-entity counts go to the read-only entity
``DataManagementExecutionJobDetails``.

Change tracking is kept per data project entity (a detail record) in ``emu.watermarks``: an
export takes rows whose ``_version`` is above the watermark, and only a successful export moves
it. A new detail record (re-created), re-enabling one, or ``DefaultRefreshType = FullPush``
gives a full export.
"""

from __future__ import annotations

import logging
import re
import shutil
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from connectors import catalog
from emulator import sql
from emulator.dmf_import import run_import
from emulator.package import ExportEntity, build_export

if TYPE_CHECKING:
    from emulator.state import App, EmulatorState

log = logging.getLogger(__name__)
TERMINAL = ("Succeeded", "PartiallySucceeded", "Failed", "Canceled")
_COMPANY = re.compile(r"^[A-Za-z0-9_-]{1,10}$")
DETAILS = catalog.entity("DataManagementExecutionJobDetails")


class ExecutionNotFound(KeyError):
    """No execution with this id (yet)."""


class DmfRefused(ValueError):
    """An action's parameters were refused; the message is the answer's text."""


@dataclass
class Execution:
    """One export or import job and everything the error actions later report."""

    id: str
    project: str
    kind: str
    legal_entity: str
    app: App
    queued_at: float = field(default_factory=time.time)
    status: str = "NotRun"
    forced: str | None = None
    package_name: str = ""
    package_blob: str | None = None
    source: Path | None = None
    execute: bool = True
    rows: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    failed_keys: dict[str, tuple[list[str], list[list[str]]]] = field(default_factory=dict)
    staging_failures: dict[str, tuple[list[str], list[list[str]]]] = field(default_factory=dict)
    error_files: dict[tuple[str, str], tuple[float, str]] = field(default_factory=dict)
    watermarks: dict[int, int] = field(default_factory=dict)

    def fail(self, message: str, field: str = "", record: str = "") -> str:
        """Record an error of the execution; returns the status ``Failed``."""
        self.errors.append({"RecordId": record, "Field": field, "ErrorMessage": message})
        return "Failed"


class DmfEngine:
    """The execution table and its worker threads."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.workdir = state.state_dir / "executions"
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._executions: dict[str, Execution] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="dmf")

    def shutdown(self) -> None:
        """Stop: queued jobs are dropped, waits end at once, running work finishes first (the
        store must not close under a running export)."""
        self._stop.set()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def reset(self) -> None:
        with self._lock:
            self._executions.clear()

    def summary(self) -> list[dict[str, Any]]:
        """Every execution, for the admin API."""
        with self._lock:
            executions = list(self._executions.values())
        return [
            {
                "id": e.id,
                "project": e.project,
                "kind": e.kind,
                "legal_entity": e.legal_entity,
                "status": e.status,
                "rows": e.rows,
                "errors": len(e.errors),
            }
            for e in executions
        ]

    # --- queries ------------------------------------------------------------------------------

    def get(self, execution_id: str, *, visible_only: bool = True) -> Execution:
        with self._lock:
            found = self._executions.get(execution_id.strip().lower())
        if found is None:
            raise ExecutionNotFound(execution_id)
        if visible_only and time.time() < found.queued_at + self.state.options.status_visible_after:
            raise ExecutionNotFound(execution_id)
        return found

    def delete(self, execution_id: str) -> None:
        execution = self.get(execution_id, visible_only=False)
        with self._lock:
            self._executions.pop(execution.id.lower(), None)
        with self.state.store.transaction() as con:
            con.execute(
                f'DELETE FROM {sql.table(DETAILS)} WHERE lower("JobId") = lower(?)', [execution.id]
            )

    # --- starting -----------------------------------------------------------------------------

    def _register(
        self, execution_id: str, project: str, kind: str, legal_entity: str, app: App
    ) -> Execution:
        if not _COMPANY.match(legal_entity or ""):
            raise DmfRefused(f"The legal entity '{legal_entity}' is not valid.")
        new_id = (
            execution_id.strip()
            or f"{project}-{datetime.now(UTC):%Y-%m-%d_%H-%M-%S}-{uuid.uuid4()}"
        )
        rule = self.state.faults.take(
            ("execution",), "POST", f"/scm/data/DataManagementDefinitionGroups/{kind}"
        )
        execution = Execution(
            new_id, project, kind, legal_entity.lower(), app, forced=rule.outcome if rule else None
        )
        with self._lock:
            if new_id.lower() in self._executions:
                raise DmfRefused(
                    f"An execution with the ID '{new_id}' already exists; an execution ID can "
                    "be used once only."
                )
            self._executions[new_id.lower()] = execution
        return execution

    def project_name(self, project: str) -> str | None:
        groups = catalog.entity("DataManagementDefinitionGroups")
        rows = (
            self.state.store.reader()
            .execute(
                f'SELECT "Name" FROM {sql.table(groups)} WHERE lower("Name") = lower(?)', [project]
            )
            .fetchall()
        )
        return str(rows[0][0]) if rows else None

    def export(
        self, app: App, project: str, package_name: str, execution_id: str, legal_entity: str
    ) -> str:
        name = self.project_name(project)
        if name is None:
            raise DmfRefused(
                f"The data project '{project}' was not found. Create the data project before "
                "exporting it."
            )
        execution = self._register(execution_id, name, "export", legal_entity, app)
        execution.package_name = package_name or f"{name}.zip"
        self._pool.submit(self._run, execution)
        return execution.id

    def import_(
        self,
        app: App,
        package_url: str,
        project: str,
        execution_id: str,
        execute: bool,
        legal_entity: str,
    ) -> str:
        blob = self.state.blobs.name_from_url(package_url)
        if blob is None or not self.state.blobs.exists(blob):
            raise DmfRefused(f"The package could not be read from '{package_url.split('?')[0]}'.")
        execution = self._register(execution_id, project, "import", legal_entity, app)
        execution.execute = execute
        folder = self.workdir / uuid.uuid4().hex
        folder.mkdir()
        execution.source = folder / "package.zip"
        shutil.copyfile(self.state.blobs.path(blob), execution.source)
        self._pool.submit(self._run, execution)
        return execution.id

    # --- running ------------------------------------------------------------------------------

    def _run(self, execution: Execution) -> None:
        options = self.state.options
        if self._stop.wait(options.execution_queue_seconds):
            return
        started = time.time()
        execution.status = "Executing"
        if execution.forced == "Executing":
            return  # a stuck execution: it never finishes
        try:
            outcome = (
                self._export(execution)
                if execution.kind == "export"
                else run_import(self.state, execution)
            )
        except Exception as exc:  # any failure of the job is the execution's failure
            log.exception("execution %s failed", execution.id)
            outcome = execution.fail(f"The execution failed: {exc}")
        duration = options.execution_fixed_seconds + options.execution_row_seconds * execution.rows
        if self._stop.wait(max(0.0, started + duration - time.time())):
            return
        if execution.forced in ("Failed", "PartiallySucceeded"):
            outcome = execution.forced
            if outcome == "Failed":
                execution.package_blob = None
        if outcome in ("Succeeded", "PartiallySucceeded") and execution.watermarks:
            with self.state.store.transaction() as con:
                for detail, version in execution.watermarks.items():
                    con.execute("DELETE FROM emu.watermarks WHERE detail = ?", [detail])
                    con.execute("INSERT INTO emu.watermarks VALUES (?, ?)", [detail, version])
        execution.status = outcome

    def job_detail(self, execution: Execution, label: str, counts: dict[str, Any]) -> None:
        """Record one entity's counts in DataManagementExecutionJobDetails."""
        now = datetime.now(UTC).replace(tzinfo=None)
        row = {
            "DefinitionGroupId": execution.project,
            "JobId": execution.id,
            "EntityName": label,
            "SourceFormat": "CSV-Unicode",
            "StagingStartDateTime": now,
            "StagingEndDateTime": now,
            "TargetStartDateTime": now,
            "TargetEndDateTime": now,
            **counts,
        }
        self.state.store.insert_rows(DETAILS.name, [row])

    def _export(self, execution: Execution) -> str:
        details = catalog.entity("DataManagementDefinitionGroupDetails")
        con = self.state.store.reader()
        rows = con.execute(
            'SELECT _recid, "EntityName", "ExecutionUnit", "LevelInExecutionUnit", '
            '"SequenceInLevel", "DefaultRefreshType", "SourceFormat", w.version '
            f"FROM {sql.table(details)} d LEFT JOIN emu.watermarks w ON w.detail = d._recid "
            'WHERE lower("DefinitionGroupId") = lower(?) AND "Disable" <> \'Yes\' '
            'ORDER BY "ExecutionUnit", "LevelInExecutionUnit", "SequenceInLevel"',
            [execution.project],
        ).fetchall()
        if not rows:
            return execution.fail(
                f"The data project {execution.project} has no entities to export."
            )
        entities = []
        for row in rows:
            label, source_format = str(row[1]), row[6]
            try:
                entities.append(catalog.entity_by_label(label))
            except KeyError:
                return execution.fail(f"Entity {label} does not exist in the target environment.")
            if source_format not in ("", "CSV-Unicode", "Package"):
                return execution.fail(
                    f"The source format '{source_format}' of entity {label} is not supported: "
                    "the emulator writes CSV-Unicode."
                )
        company = sql.quote_literal(execution.legal_entity)
        folder = self.workdir / uuid.uuid4().hex
        folder.mkdir()
        package = folder / "package.zip"
        # One read transaction: the versions exported and the watermarks kept agree exactly.
        con.execute("BEGIN TRANSACTION")
        try:
            plan = []
            for entity, (recid, _, unit, level, seq, refresh, _, mark) in zip(
                entities, rows, strict=True
            ):
                top = con.execute(
                    f"SELECT coalesce(max(_version), 0) FROM {sql.table(entity)}"
                ).fetchall()[0][0]
                since = 0 if refresh == "FullPush" or mark is None else int(mark)
                where = f"_version > {since} AND _version <= {int(top)}"
                if entity.company_field:
                    where += f" AND {sql.ident(entity.company_field)} = {company}"
                refresh_type = str(refresh or "IncrementalPush")
                plan.append(ExportEntity(entity, unit, level, seq, refresh_type, where))
                execution.watermarks[int(recid)] = int(top)
            counts = build_export(con, package, execution.project, plan, folder)
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
        execution.rows = sum(counts.values())
        blob = f"{uuid.uuid4()}/{execution.package_name}"
        self.state.blobs.adopt(blob, package)
        shutil.rmtree(folder, ignore_errors=True)
        execution.package_blob = blob
        for label, count in counts.items():
            self.job_detail(
                execution,
                label,
                {
                    "StagingStatus": "Finished",
                    "TargetStatus": "Finished",
                    "StagingRecordsCreatedCount": count,
                    "StagingRecordsToBeProcessedCount": count,
                    "TargetRecordsCreatedCount": count,
                    "FilePath": f"{label}.csv",
                },
            )
        return "Succeeded"
