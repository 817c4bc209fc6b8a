"""SCM through OData: the small reference sets, and the key snapshots that find deletes.

Reference sets (catalog ``extract == "odata"``) are read whole, cross-company and per legal
entity for company-specific ones, and checked against ``$count``. They carry no change
tracking, so the run compares a checksum of what it read with the one it landed last time and
lands only when it differs (a second run without change lands nothing). A read is the whole set,
so every landing is also a key snapshot: keys that vanished become tombstones.

Key snapshots of package entities (``$select`` of the keys, cross-company, per legal entity)
run every ``settings.sync.key_snapshot_every_runs`` extract runs, since change-tracked packages
never carry deletes. SCM's ``$count`` of each, read before the exports begin, spares the key
read when the current relation holds exactly that many records after the run has landed (no
record of it can then have been deleted: ``tombstones.count_rules_out_deletes``); a forced
snapshot always reads the keys.

JSON pages become Arrow string columns: text as sent, dates in OData's ISO form, numbers in
canonical text (``12.5``, ``100``), lineage ``_source_file = 'odata:<EntitySet>'``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

import duckdb
import pyarrow as pa

from connectors import catalog
from connectors.errors import CompletenessError, LandingError
from connectors.odata import ODataClient, filter_in, literal
from flows.steps.extract_types import EntityResult, ExtractContext, SnapshotInfo, parallel_map
from warehouse import landing, relations, state, tombstones
from warehouse.db import count, quoted_list

log = logging.getLogger(__name__)

SOURCE: Literal["scm"] = "scm"
ROW_NUMBER = landing.ROW_NUMBER


def as_text(value: object) -> str | None:
    """A JSON value as landing text: strings as sent, numbers canonical, objects as JSON."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return catalog.canonical_key_value(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def rows_to_table(
    fields: Sequence[str], rows: Sequence[Mapping[str, Any]], first: int = 1
) -> pa.Table:
    """JSON objects as an all-string Arrow table of ``fields`` plus ``_row_number`` (from
    ``first``). A field an object lacks is NULL."""
    columns = {name: pa.array([as_text(r.get(name)) for r in rows], pa.string()) for name in fields}
    columns[ROW_NUMBER] = pa.array(range(first, first + len(rows)), pa.int64())
    return pa.table(columns)


def company_filter(entity: catalog.Entity, legal_entity: str | None) -> str | None:
    if entity.company_field is None or legal_entity is None:
        return None
    return f"{entity.company_field} eq {literal(legal_entity.lower())}"


def _digest(rows: Sequence[Mapping[str, Any]], fields: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for row in rows:
        digest.update(json.dumps([row.get(f) for f in fields], ensure_ascii=False).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def read_set(
    odata: ODataClient, entity: catalog.Entity, legal_entities: Sequence[str | None]
) -> dict[str | None, list[dict[str, Any]]]:
    """Every row of ``entity`` in ``legal_entities`` (cross-company, as few requests as the URL
    budget allows), per legal entity (``None`` for a shared entity), ordered by key.

    Raises :class:`CompletenessError` when the rows read differ from SCM's ``$count``.
    """
    company = entity.company_field
    filters: list[str | None] = [None]
    if company is not None:
        filters = list(filter_in(entity.field(company), [le for le in legal_entities if le]))
    found: dict[str | None, list[dict[str, Any]]] = {le: [] for le in legal_entities}
    expected = 0
    read = 0
    for flt in filters:
        expected += odata.count(entity.name, filter=flt, cross_company=True)
        for page in odata.pages(
            entity.name, select=entity.field_names, filter=flt, cross_company=True
        ):
            read += len(page)
            for row in page:
                le = str(row.get(company) or "").lower() if company else None
                if le not in found:
                    raise LandingError(
                        f"raw_scm.{entity.table}", f"odata:{entity.name}",
                        f"SCM answered rows of legal entity {le!r}, which were not asked for",
                    )  # fmt: skip
                found[le].append(row)
    if read != expected:
        scope = None if company is None else ",".join(le or "" for le in legal_entities)
        raise CompletenessError(entity.name, scope, expected, read)
    for rows in found.values():
        rows.sort(key=lambda r: tuple(str(r.get(k) or "") for k in entity.keys))
    return found


def extract_reference(
    ctx: ExtractContext, entity: catalog.Entity, legal_entities: Sequence[str]
) -> list[EntityResult]:
    """Read a reference set whole (one read for every legal entity) and land each legal
    entity's rows when they changed. The read is the whole set, so each landing is a key
    snapshot as well."""
    companies: list[str | None] = [None]
    if entity.company_specific:
        companies = [le.lower() for le in legal_entities]
    results = {le: EntityResult(SOURCE, entity.name, le, "odata") for le in companies}
    begin = time.perf_counter()
    with ctx.cursor() as cur:
        try:
            taken_at = state.utcnow()
            found = read_set(ctx.clients.odata, entity, companies)
            for le in companies:
                _land_one(ctx, cur, entity, le, found[le], taken_at, results[le])
        except Exception as exc:  # the read failed: every legal entity of it did
            for result in results.values():
                if not result.failed:
                    result.fail(exc)
    seconds = (time.perf_counter() - begin) / len(companies)
    for result in results.values():
        result.seconds = seconds
    return list(results.values())


def _land_one(
    ctx: ExtractContext,
    cur: duckdb.DuckDBPyConnection,
    entity: catalog.Entity,
    le: str | None,
    rows: list[dict[str, Any]],
    taken_at: datetime,
    result: EntityResult,
) -> None:
    result.extracted = result.expected = len(rows)
    digest = _digest(rows, entity.field_names)
    try:
        with state.step(
            cur, ctx.run_id, "odata_extract", entity=entity.name, legal_entity=le
        ) as step:
            previous = state.get_extract_state(cur, SOURCE, entity.name, le)
            step.detail.update(extracted=len(rows), digest=digest)
            if previous and previous.change_version == digest and entity.name not in ctx.full:
                result.status = step.status = "unchanged"
                return
            batch_id = f"odata-{ctx.run_id}"
            landed = landing.land_scm(
                cur, entity, rows_to_table(entity.field_names, rows), run_id=ctx.run_id,
                execution_id=batch_id, source_file=f"odata:{entity.name}", legal_entity=le,
                extracted_at=taken_at, expected_rows=len(rows),
                watermark=state.Watermark(change_version=digest),
            )  # fmt: skip
            result.batch_id, result.load_id = batch_id, landed.load_id
            result.landed, result.quarantined = landed.landed, landed.quarantined
            result.whole_set = True
            result.first = previous is None or previous.change_version is None
            step.rows = landed.landed
    except Exception as exc:
        result.fail(exc)


# --- key snapshots -------------------------------------------------------------------------


def snapshot_due(
    con: duckdb.DuckDBPyConnection, entity: str, legal_entity: str | None, every: int
) -> bool:
    """True when this run is the ``every``-th extract run since the last snapshot of ``entity``
    in ``legal_entity`` (or there was none). Counts the ``extract`` steps in ``ops.runs``, this
    run's included."""
    rows = con.execute(
        "SELECT max(started_at) FROM ops.runs WHERE step = 'key_snapshot' AND status = "
        "'succeeded' AND entity = ? AND coalesce(legal_entity, '') = ?",
        [entity, (legal_entity or "").lower()],
    ).fetchall()
    last = rows[0][0] if rows else None
    if last is None:
        return True
    runs = count(
        con,
        "SELECT count(DISTINCT run_id) FROM ops.runs WHERE step = 'extract' AND started_at > ?",
        [last],
    )
    return runs >= every


def snapshot_counts(
    ctx: ExtractContext, due: Sequence[tuple[catalog.Entity, str | None]]
) -> dict[tuple[str, str | None], int]:
    """SCM's record count of each (entity, legal entity) ``due`` for a key snapshot, read
    before the exports begin (see :func:`key_snapshot`). A count SCM does not give is left
    out: those keys are read."""

    def read(pair: tuple[catalog.Entity, str | None]) -> tuple[str, str | None, int | None]:
        entity, legal_entity = pair
        le = snapshot_scope(entity, legal_entity)
        try:
            counted = ctx.clients.odata.count(
                entity.name, filter=company_filter(entity, le), cross_company=True
            )
        except Exception as exc:
            log.info("no $count of %s (%s), its keys will be read: %s", entity.name, le, exc)
            return entity.name, le, None
        return entity.name, le, counted

    workers = ctx.settings.sync.extract_concurrency
    return {
        (name, le): counted
        for name, le, counted in parallel_map(read, list(due), workers)
        if counted is not None
    }


def key_snapshot(
    ctx: ExtractContext,
    entity: catalog.Entity,
    legal_entity: str | None,
    *,
    counted: int | None = None,
) -> SnapshotInfo:
    """Read every key SCM holds for ``entity`` in ``legal_entity`` and apply them: missing
    keys become tombstones, keys seen again are revived.

    ``counted``: SCM's record count from before this run's export (:func:`snapshot_counts`).
    When it rules out deletes, the snapshot is that count and no key is read."""
    le = snapshot_scope(entity, legal_entity)
    with ctx.cursor() as cur:
        try:
            with state.step(
                cur, ctx.run_id, "key_snapshot", entity=entity.name, legal_entity=le
            ) as step:
                if counted is not None and tombstones.count_rules_out_deletes(
                    cur, relations.scm(entity), le, counted
                ):
                    step.rows = 0
                    step.detail.update(keys=counted, revived=0, method="count")
                    return SnapshotInfo(entity.name, le, "count", counted)
                taken_at = state.utcnow()
                keys: list[dict[str, Any]] = []
                for page in ctx.clients.odata.pages(
                    entity.name,
                    select=list(entity.keys),
                    filter=company_filter(entity, le),
                    cross_company=True,
                ):
                    keys.extend(page)
                table = rows_to_table(entity.keys, keys).drop_columns([ROW_NUMBER])
                applied = tombstones.apply_key_snapshot(
                    cur, relations.scm(entity), table, run_id=ctx.run_id, legal_entity=le,
                    taken_at=taken_at,
                )  # fmt: skip
                step.rows = applied.tombstoned
                step.detail.update(keys=applied.keys_seen, revived=applied.revived)
        except Exception as exc:
            log.warning("key snapshot of %s (%s) failed: %s", entity.name, le, exc)
            return SnapshotInfo(entity.name, le, "odata", error=f"{type(exc).__name__}: {exc}")
    return SnapshotInfo(
        entity.name, le, "odata", applied.keys_seen, applied.tombstoned, applied.revived
    )


def snapshot_scope(entity: catalog.Entity, legal_entity: str | None) -> str | None:
    """The legal entity a key snapshot of ``entity`` covers (None: a shared entity, all)."""
    return legal_entity.lower() if legal_entity and entity.company_specific else None


def snapshot_from_landing(ctx: ExtractContext, result: EntityResult) -> SnapshotInfo:
    """A whole-set landing (a full push, a reference set) is a key snapshot as well: apply the
    keys of the rows it landed."""
    entity = catalog.entity(result.entity)
    table = relations.scm(entity)
    le = result.legal_entity
    with ctx.cursor() as cur:
        try:
            with state.step(
                cur, ctx.run_id, "key_snapshot", entity=entity.name, legal_entity=le
            ) as step:
                keys = cur.sql(
                    f"SELECT {quoted_list(entity.keys)} FROM {table.raw} WHERE _load_id = ?",
                    params=[result.load_id],
                ).to_arrow_table()
                applied = tombstones.apply_key_snapshot(
                    cur, table, keys, run_id=ctx.run_id, legal_entity=le,
                    taken_at=_landed_at(cur, result), allow_empty=True,
                )  # fmt: skip
                step.rows = applied.tombstoned
                step.detail.update(
                    keys=applied.keys_seen, revived=applied.revived, method="landing"
                )
        except Exception as exc:
            return SnapshotInfo(entity.name, le, "landing", error=f"{type(exc).__name__}: {exc}")
    return SnapshotInfo(
        entity.name, le, "landing", applied.keys_seen, applied.tombstoned, applied.revived
    )


def _landed_at(cur: duckdb.DuckDBPyConnection, result: EntityResult) -> datetime:
    rows = cur.execute(
        "SELECT extracted_at FROM ops.landed_files WHERE load_id = ?", [result.load_id]
    ).fetchall()
    return rows[0][0] if rows else state.utcnow()
