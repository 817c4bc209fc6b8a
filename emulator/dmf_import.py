"""The import side of data management: a package's entities read into SCM, row by row rules.

Entities are imported in the manifest's execution order (unit, level, sequence), each in one
transaction: every row is checked with the same rules as an OData write
(:mod:`emulator.writes`); valid rows are applied (upsert by key; blank ContractId,
PurchaseAgreementId and LineNumber are generated or resolved as on an OData create), failing
rows are reported per record (``GetExecutionErrors``) with their keys kept for the error-keys
file. A manifest entity without an ``EntityMapList`` stages nothing and still succeeds, which
is what SCM does.
"""

from __future__ import annotations

import shutil
import uuid
import zipfile
from typing import TYPE_CHECKING, Any

import duckdb

from connectors import catalog
from connectors.catalog import Entity
from emulator import sql
from emulator.package import ManifestEntity, PackageProblem, extract_csv, read_manifest
from emulator.writes import WriteOutcome, write

if TYPE_CHECKING:
    from emulator.dmf_jobs import Execution
    from emulator.state import EmulatorState

RECORD_BASE = 5637144576


class _Rollback(Exception):
    """Undo a staged-only import (``execute`` false) after its results were read."""


def _ensure_project(
    state: EmulatorState, execution: Execution, entries: list[ManifestEntity]
) -> None:
    """An import into a project that does not exist creates it from the manifest."""
    from emulator.dmf_jobs import DmfEngine

    engine: DmfEngine = state.dmf
    existing = engine.project_name(execution.project)
    if existing is not None:
        execution.project = existing
        return
    state.store.insert_rows(
        "DataManagementDefinitionGroups",
        [
            {
                "Name": execution.project,
                "Description": execution.project,
                "OperationType": "Import",
                "ProjectCategory": "Integration",
            }
        ],
    )
    state.store.insert_rows(
        "DataManagementDefinitionGroupDetails",
        [
            {
                "DefinitionGroupId": execution.project,
                "EntityName": e.label,
                "SourceFormat": e.source_format or "CSV-Unicode",
                "ExecutionUnit": e.unit,
                "LevelInExecutionUnit": e.level,
                "SequenceInLevel": e.sequence,
            }
            for e in entries
        ],
    )


def run_import(state: EmulatorState, execution: Execution) -> str:
    """Import the execution's package; returns the final status."""
    if execution.source is None:
        raise ValueError("import without a package")
    folder = execution.source.parent
    try:
        with zipfile.ZipFile(execution.source) as archive:
            try:
                project, entries = read_manifest(archive)
            except PackageProblem as exc:
                return execution.fail(str(exc))
            execution.project = execution.project or project
            _ensure_project(state, execution, entries)
            applied = failed = 0
            offset = RECORD_BASE
            for entry in entries:
                result = _import_entity(state, execution, archive, entry, offset)
                if result is None:
                    failed += 1
                    continue
                offset += result.staged + len(
                    {e.row for e in result.errors if e.stage == "staging"}
                )
                applied += len(result.created) + len(result.updated)
                failed += len(result.errors)
    except zipfile.BadZipFile:
        return execution.fail("The package is not a valid zip file.")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if not failed:
        return "Succeeded"
    return "PartiallySucceeded" if applied else "Failed"


def _import_entity(
    state: EmulatorState,
    execution: Execution,
    archive: zipfile.ZipFile,
    entry: ManifestEntity,
    offset: int,
) -> WriteOutcome | None:
    try:
        entity = catalog.entity_by_label(entry.label)
    except KeyError:
        execution.fail(f"Entity {entry.label} does not exist in the target environment.")
        return None
    engine = state.dmf
    if entry.mapping is None:
        engine.job_detail(
            execution, entity.label, {"StagingStatus": "Finished", "TargetStatus": "Finished"}
        )
        return WriteOutcome()
    if entry.source_format not in ("", "CSV-Unicode"):
        execution.fail(
            f"The source format '{entry.source_format}' of entity {entry.label} is not "
            "supported: the emulator reads CSV-Unicode.",
        )
        return None
    path = engine.workdir / f"{uuid.uuid4().hex}.csv"
    try:
        extract_csv(archive, entry.file, path)
        outcome = _load_and_write(state, execution, entity, entry.mapping, path, offset)
    except PackageProblem as exc:
        execution.fail(str(exc))
        return None
    finally:
        path.unlink(missing_ok=True)
    execution.rows += outcome.staged + len({e.row for e in outcome.errors if e.stage == "staging"})
    target_errors = len({e.row for e in outcome.errors if e.stage == "target"})
    engine.job_detail(
        execution,
        entity.label,
        {
            "StagingStatus": "Error"
            if any(e.stage == "staging" for e in outcome.errors)
            else "Finished",
            "TargetStatus": "Error"
            if target_errors
            else ("Finished" if execution.execute else "NotRun"),
            "StagingRecordsCreatedCount": outcome.staged,
            "StagingRecordsToBeProcessedCount": outcome.staged,
            "TargetRecordsCreatedCount": len(outcome.created) if execution.execute else 0,
            "TargetRecordsUpdatedCount": len(outcome.updated) if execution.execute else 0,
            "FilePath": entry.file,
        },
    )
    return outcome


def _source_select(
    con: duckdb.DuckDBPyConnection, entity: Entity, mapping: dict[str, str], path: str
) -> tuple[str, list[str]]:
    reader = (
        f"read_csv({sql.quote_literal(path)}, encoding = 'utf-16', header = true, "
        "all_varchar = true, delim = ',', quote = '\"', escape = '\"')"
    )
    header = {
        r[0].upper(): r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()
    }
    by_column = entity.by_column()
    columns, provided = [], []
    for file_column, entity_column in mapping.items():
        f = by_column.get(entity_column)
        if f is None:
            raise PackageProblem(
                f"The field {entity_column} mapped in the manifest does not exist in entity "
                f"{entity.label}."
            )
        if file_column not in header:
            raise PackageProblem(
                f"The column {file_column} mapped in the manifest is not in the file of entity "
                f"{entity.label}."
            )
        columns.append(f"{sql.ident(header[file_column])} AS {sql.ident(f.name)}")
        provided.append(f.name)
    mapped = "".join(", " + c for c in columns)
    select = f"SELECT CAST(row_number() OVER () - 1 AS BIGINT) AS _row{mapped} FROM {reader}"
    return select, provided


def _rows(
    con: duckdb.DuckDBPyConnection, names: list[str], provided: list[str], rows: list[int]
) -> list[list[str]]:
    exprs = ", ".join(f"coalesce({sql.ident(n)}, '')" if n in provided else "''" for n in names)
    result = con.execute(
        f"SELECT {exprs} FROM w_src WHERE _row IN (SELECT unnest(?)) ORDER BY _row", [rows]
    ).fetchall()
    return [list(r) for r in result]


def _load_and_write(
    state: EmulatorState,
    execution: Execution,
    entity: Entity,
    mapping: dict[str, str],
    path: Any,
    offset: int,
) -> WriteOutcome:
    outcome = WriteOutcome()
    try:
        with state.store.transaction() as con:
            select, provided = _source_select(con, entity, mapping, str(path))
            con.execute(f"CREATE OR REPLACE TEMP TABLE w_src AS {select}")
            try:
                outcome = write(
                    con,
                    entity,
                    "w_src",
                    provided,
                    mode="upsert",
                    company=execution.legal_entity,
                    clm_app=execution.app.is_clm_app,
                )
                _keep_failures(con, execution, entity, provided, outcome)
            finally:
                con.execute("DROP TABLE IF EXISTS w_src")
            if not execution.execute:
                raise _Rollback
    except _Rollback:
        outcome.created.clear()
        outcome.updated.clear()
    except duckdb.Error as exc:
        raise PackageProblem(
            f"The file of entity {entity.label} could not be read: {exc}"
        ) from None
    for e in outcome.errors:
        column = entity.field(e.field).column if e.field else ""
        execution.fail(e.message, column, str(offset + e.row))
    return outcome


def _keep_failures(
    con: duckdb.DuckDBPyConnection,
    execution: Execution,
    entity: Entity,
    provided: list[str],
    outcome: WriteOutcome,
) -> None:
    """Remember failed rows: keys for the error-keys file, all columns for staging errors."""
    keys = list(dict.fromkeys([*entity.keys, *entity.natural_key]))
    target = sorted({e.row for e in outcome.errors if e.stage == "target"})
    staging = sorted({e.row for e in outcome.errors if e.stage == "staging"})
    if target:
        execution.failed_keys[entity.label] = (
            [entity.field(k).column for k in keys],
            _rows(con, keys, provided, target),
        )
    if staging:
        execution.staging_failures[entity.label] = (
            [entity.field(p).column for p in provided],
            _rows(con, provided, provided, staging),
        )
