"""Read-back: does SCM now hold what each succeeded plan row intended?

Every SCM row the ledger calls ``succeeded`` is read back (created records by their natural key,
updated and deleted ones by their key, in chunked OData filters) and its payload compared with
SCM's values after normalising both (dates, decimals, blanks). Each ledger row gets
``verified``, ``drift`` (the fields that differ, intended and actual) or ``missing``; creates also
get the keys SCM generated when the channel did not report them (a package import does not).
When two rows of the plan set the same field of the same record, only the later one is compared.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from typing import Any

import duckdb

from connectors import catalog
from connectors.odata import ODataClient
from loader import bodies, ledger, readback, values
from loader.model import Drift, PlanRow, ProgressCallback, PushProgress, VerifyResult
from loader.plan import load_rows
from loader.schema import LEDGER

log = logging.getLogger(__name__)

MAX_LISTED = 1000  # drift rows listed in the result (the ledger holds all of them)


def verify(
    con: duckdb.DuckDBPyConnection,
    odata: ODataClient,
    run_id: str,
    *,
    progress: ProgressCallback | None = None,
) -> VerifyResult:
    """Read back every SCM row of the run that succeeded and record the comparison."""
    started = time.perf_counter()
    rows = load_rows(
        con,
        run_id,
        f"p.target = 'scm' AND p.seq IN (SELECT seq FROM {LEDGER} l "
        "WHERE l.run_id = p.run_id AND l.status = 'succeeded')",
    )
    groups: dict[tuple[str, str | None, bool], list[PlanRow]] = defaultdict(list)
    for row in rows:
        groups[(row.entity, row.legal_entity, row.action == "create")].append(row)
    superseded = _superseded(rows)
    outcome: dict[int, tuple[str, dict[str, Any], dict[str, Any] | None]] = {}
    done = 0
    for (entity_name, legal_entity, creates), members in groups.items():
        entity = catalog.entity(entity_name)
        fields = entity.natural_key if creates else entity.keys
        wanted = sorted({k for r in members for k in r.payload} | set(fields) | set(entity.keys))
        found = readback.read(
            odata,
            entity,
            legal_entity,
            fields,
            [bodies.merged(r) for r in members],
            select=[f for f in wanted if f in entity.field_names],
        )
        for row in members:
            record = found.get(readback.identity(entity, fields, bodies.merged(row)))
            outcome[row.seq] = _compare(entity, row, record, superseded)
        done += len(members)
        if progress is not None:
            verified = sum(1 for s in outcome.values() if s[0] == "verified")
            progress(
                PushProgress("verify", entity_name, legal_entity, "odata", done, len(rows),
                             verified, done - verified)
            )  # fmt: skip
    ledger.record_verify(con, run_id, outcome)
    result = VerifyResult(run_id=run_id, checked=len(rows), seconds=time.perf_counter() - started)
    by_seq = {r.seq: r for r in rows}
    for seq, (status, drift, _keys) in sorted(outcome.items()):
        if status == "verified":
            result.verified += 1
        elif len(result.drift) < MAX_LISTED:
            row = by_seq[seq]
            result.drift.append(
                Drift(seq, row.entity, row.legal_entity, row.record_key, status, drift)
            )
    log.info(
        "verified run %s: %d of %d rows applied as intended (%.4f)",
        run_id, result.verified, result.checked, result.rate,
    )  # fmt: skip
    return result


def _superseded(rows: list[PlanRow]) -> set[tuple[int, str]]:
    """(seq, field) pairs a later row of the plan sets again on the same record."""
    last: dict[tuple[str, str | None, str, str], int] = {}
    for row in rows:
        if row.action == "create":
            continue
        for name in row.payload:
            last[(row.entity, row.legal_entity, row.record_key, name)] = row.seq
    return {
        (row.seq, name)
        for row in rows
        if row.action != "create"
        for name in row.payload
        if last[(row.entity, row.legal_entity, row.record_key, name)] != row.seq
    }


def _compare(
    entity: catalog.Entity,
    row: PlanRow,
    record: dict[str, Any] | None,
    superseded: set[tuple[int, str]],
) -> tuple[str, dict[str, Any], dict[str, Any] | None]:
    if row.operation == "DELETE":
        if record is None:
            return "verified", {}, None
        return "drift", {"record": {"intended": "absent", "actual": "present"}}, None
    if record is None:
        return "missing", {}, None
    drift: dict[str, Any] = {}
    intended = bodies.merged(row) if row.action == "create" else row.payload
    for name, value in intended.items():
        if name not in entity.field_names or (row.seq, name) in superseded:
            continue
        spec = entity.field(name)
        if not values.same(spec, value, record.get(name)):
            drift[name] = {"intended": value, "actual": record.get(name)}
    keys = bodies.generated_keys(entity, record) if row.action == "create" else None
    return ("drift" if drift else "verified"), drift, keys
