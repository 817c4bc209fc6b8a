"""The push plan: every change a run will send, in dependency order, routed, before anything goes.

``make_plan`` reads ``deltas.*`` (spec §5) and writes one ``ops.push_plan`` per run: target,
entity, legal entity, action, keys (the natural key for a create), the fields before and after,
the channel and batch, and an idempotency key derived from the change itself (a hash of target,
entity, legal entity, record key, action, keys, payload and before), so the same change planned
again by a later run is recognised. Rows are ordered by the catalog's ``level`` (contracts,
agreements, lines; the CLM feed last), then creates (grouped by the fields they set), updates,
closes.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import duckdb
import pyarrow as pa

from connectors.errors import PlanError
from loader import validate
from loader.model import CLM_LEVEL, PlanGroup, PlanRow, PlanSummary, Route, RouteDecision
from loader.route import Routable, decide
from loader.schema import LEDGER, PLAN, PLANS, ensure_tables
from warehouse.db import relation_exists, transaction

log = logging.getLogger(__name__)

SCM_DELTAS = (
    "deltas.dlt_scm__contracts",
    "deltas.dlt_scm__purchase_agreements",
    "deltas.dlt_scm__purchase_agreement_lines",
)
CLM_DELTAS = "deltas.dlt_clm__master_data"
_SCM_COLUMNS = ("delta_id", "action", "entity", "legal_entity", "record_key", "clm_id", "kind")
_CLM_COLUMNS = ("delta_id", "action", "object", "clm_id", "legal_entity", "vendor_account", "kind")
_JSON_COLUMNS = ("payload", "before")
_ACTION_RANK = {"create": 0, "update": 1, "close": 2}


def canonical_json(value: Any) -> str:
    """JSON text that is the same for the same content (sorted keys, no spaces)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def idempotency_key(
    target: str,
    entity: str,
    legal_entity: str | None,
    record_key: str,
    action: str,
    keys: Any,
    payload: Any,
    before: Any,
) -> str:
    """A hash of the change itself: the same change always gets the same key."""
    text = canonical_json([target, entity, legal_entity, record_key, action, keys, payload, before])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _json(value: object, where: str) -> Any:
    if value is None:
        return None
    if isinstance(value, dict | list):
        return value
    try:
        return json.loads(str(value))
    except ValueError:
        raise PlanError(f"{where}: not JSON: {str(value)[:80]!r}") from None


def _read(con: duckdb.DuckDBPyConnection, relation: str, columns: Sequence[str]) -> list[tuple]:
    schema, name = relation.split(".")
    if relation_exists(con, schema, name) is None:
        raise PlanError(
            f"{relation} does not exist",
            relation=relation,
            hint="Build the models first (clmsync models build deltas).",
        )
    present = {r[0] for r in con.execute(f"DESCRIBE {relation}").fetchall()}
    wanted = [*columns, *(["keys"] if relation != CLM_DELTAS else []), *_JSON_COLUMNS]
    missing = [c for c in wanted if c not in present]
    if missing:
        raise PlanError(f"{relation} lacks column(s) {', '.join(missing)}", relation=relation)
    select = ", ".join(
        f"CAST({c} AS VARCHAR)" if c in ("keys", *_JSON_COLUMNS) else c for c in wanted
    )
    return con.execute(f"SELECT {select} FROM {relation}").fetchall()


def _scm_rows(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for relation in SCM_DELTAS:
        for values in _read(con, relation, _SCM_COLUMNS):
            delta_id, action, entity_name, le, record_key, clm_id, kind, keys, payload, before = (
                values
            )
            where = f"{relation} delta {delta_id}"
            le = str(le).lower() if le else None
            keys_d = _json(keys, where) or {}
            payload_d = _json(payload, where) or {}
            entity = validate.scm_entity(str(entity_name))
            if entity is not None and isinstance(keys_d, dict):
                validate.complete_keys(entity, keys_d, le)
            problem = None
            if not isinstance(keys_d, dict) or not isinstance(payload_d, dict):
                problem = "keys and payload must be JSON objects"
            else:
                problem = validate.scm_problem(str(entity_name), str(action), le, keys_d, payload_d)
            rows.append(
                {
                    "target": "scm",
                    "entity": entity.name if entity else str(entity_name),
                    "legal_entity": le,
                    "action": str(action),
                    "kind": kind,
                    "record_key": str(record_key or ""),
                    "clm_id": clm_id,
                    "delta_id": delta_id,
                    "keys": keys_d,
                    "payload": payload_d,
                    "before": _json(before, where),
                    "level": entity.level if entity else 0,
                    "operation": validate.operation(str(entity_name), str(action)),
                    "problem": problem,
                }
            )
    return rows


def _clm_rows(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for values in _read(con, CLM_DELTAS, _CLM_COLUMNS):
        delta_id, action, obj, clm_id, le, vendor_account, kind, payload, before = values
        where = f"{CLM_DELTAS} delta {delta_id}"
        payload_d = _json(payload, where) or {}
        problem = (
            validate.clm_problem(str(obj), str(action), clm_id, payload_d)
            if isinstance(payload_d, dict)
            else "payload must be a JSON object"
        )
        rows.append(
            {
                "target": "clm",
                "entity": str(obj),
                "legal_entity": str(le).lower() if le else None,
                "action": str(action),
                "kind": kind,
                "record_key": str(clm_id or ""),
                "clm_id": clm_id,
                "delta_id": delta_id,
                "keys": {"id": clm_id, "vendor_account": vendor_account},
                "payload": payload_d,
                "before": _json(before, where),
                "level": CLM_LEVEL,
                "operation": "UPSERT",
                "problem": problem,
            }
        )
    return rows


def _identity(row: dict[str, Any]) -> str:
    """The record a row touches, for keeping two changes of one record in separate batches."""
    entity = validate.scm_entity(row["entity"])
    if row["target"] != "scm" or entity is None:
        return str(row["record_key"]).lower()
    fields = entity.natural_key if row["action"] == "create" else entity.keys
    merged = {**row["payload"], **row["keys"]}
    return "|".join(str(merged.get(f, "")).lower() for f in fields)


def _order(row: dict[str, Any]) -> tuple[Any, ...]:
    """Dependencies first; creates grouped by the fields they set, the way package batches are
    cut, so SCM numbers new records in the same order whichever channel carries them."""
    fields = sorted(row["payload"]) if row["action"] == "create" and isinstance(
        row["payload"], dict) else []  # fmt: skip
    return (
        row["level"],
        _ACTION_RANK.get(row["action"], 9),
        row["legal_entity"] or "",
        fields,
        row["record_key"],
        str(row["delta_id"] or ""),
    )


def make_plan(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    *,
    threshold: int,
    route: Route = "auto",
    clm_channel: str = "clm_api",
    replace: bool = False,
) -> PlanSummary:
    """Plan the run's push from ``deltas.*`` (once per run: an existing plan is returned as it is
    unless ``replace``, which is refused once any of its rows was sent)."""
    ensure_tables(con)
    exists = con.execute(f"SELECT rows FROM {PLANS} WHERE run_id = ?", [run_id]).fetchall()
    if exists and not replace:
        log.info("run %s already has a plan of %d rows; keeping it", run_id, exists[0][0])
        return summarize(con, run_id)
    started = con.execute(
        f"SELECT count(*) FROM {LEDGER} WHERE run_id = ? AND status <> 'pending'", [run_id]
    ).fetchall()
    if started[0][0]:
        raise PlanError(
            f"the plan of run {run_id} has started ({started[0][0]} rows sent or finished); "
            "it cannot be replaced",
            hint="Push it to the end (clmsync push), or plan a new run.",
        )
    rows = _scm_rows(con) + _clm_rows(con)
    rows.sort(key=_order)
    routable = [
        Routable(
            seq=i + 1,
            target=r["target"],
            entity=r["entity"],
            legal_entity=r["legal_entity"],
            action=r["action"],
            operation=r["operation"],
            key=_identity(r),
            fields=tuple(sorted(r["payload"])) if isinstance(r["payload"], dict) else (),
            valid=r["problem"] is None,
        )
        for i, r in enumerate(rows)
    ]
    decide(routable, threshold=threshold, route=route, clm_channel=clm_channel)
    _write(con, run_id, rows, routable, threshold, route, replace)
    summary = summarize(con, run_id)
    log.info("planned run %s: %d rows in %d groups", run_id, summary.rows, len(summary.groups))
    return summary


def _write(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    rows: list[dict[str, Any]],
    routable: list[Routable],
    threshold: int,
    route: str,
    replace: bool,
) -> None:
    now = datetime.now(UTC)

    def column(name: str) -> list[Any]:
        return [r[name] for r in rows]

    table = pa.table(
        {
            "seq": pa.array([r.seq for r in routable], pa.int64()),
            "target": column("target"),
            "entity": column("entity"),
            "legal_entity": pa.array(column("legal_entity"), pa.string()),
            "action": column("action"),
            "kind": pa.array([None if k is None else str(k) for k in column("kind")], pa.string()),
            "record_key": column("record_key"),
            "clm_id": pa.array(
                [None if c is None else str(c) for c in column("clm_id")], pa.string()
            ),
            "delta_id": pa.array(
                [None if d is None else str(d) for d in column("delta_id")], pa.string()
            ),
            "keys": [canonical_json(r["keys"]) for r in rows],
            "payload": [canonical_json(r["payload"]) for r in rows],
            "before": pa.array(
                [None if r["before"] is None else canonical_json(r["before"]) for r in rows],
                pa.string(),
            ),
            "idempotency_key": [
                idempotency_key(
                    r["target"],
                    r["entity"],
                    r["legal_entity"],
                    r["record_key"],
                    r["action"],
                    r["keys"],
                    r["payload"],
                    r["before"],
                )
                for r in rows
            ],
            "level": pa.array(column("level"), pa.int32()),
            "operation": column("operation"),
            "channel": [r.channel for r in routable],
            "batch_id": pa.array([r.batch_id for r in routable], pa.string()),
            "route_reason": pa.array([r.reason for r in routable], pa.string()),
            "problem": pa.array(column("problem"), pa.string()),
        }
    )
    con.register("_plan_rows", table)
    try:
        with transaction(con):
            if replace:
                con.execute(f"DELETE FROM {PLANS} WHERE run_id = ?", [run_id])
                con.execute(f"DELETE FROM {PLAN} WHERE run_id = ?", [run_id])
                con.execute(f"DELETE FROM {LEDGER} WHERE run_id = ?", [run_id])
            con.execute(
                f"INSERT INTO {PLANS} VALUES (?, ?, ?, ?, ?)",
                [run_id, len(rows), route, threshold, now],
            )
            con.execute(
                f"INSERT INTO {PLAN} SELECT ?, seq, target, entity, legal_entity, action, kind, "
                "record_key, clm_id, delta_id, CAST(keys AS JSON), CAST(payload AS JSON), "
                "CAST(before AS JSON), idempotency_key, level, operation, channel, batch_id, "
                "route_reason, ?, problem, ? FROM _plan_rows ORDER BY seq",
                [run_id, threshold, now],
            )
    finally:
        con.unregister("_plan_rows")


def has_plan(con: duckdb.DuckDBPyConnection, run_id: str) -> bool:
    """Whether ``run_id`` was planned (its plan may have no rows)."""
    ensure_tables(con)
    return bool(con.execute(f"SELECT 1 FROM {PLANS} WHERE run_id = ?", [run_id]).fetchall())


def latest_run(con: duckdb.DuckDBPyConnection) -> str | None:
    """The run id of the most recent plan, or None when there is none."""
    ensure_tables(con)
    rows = con.execute(f"SELECT run_id FROM {PLANS} ORDER BY planned_at DESC LIMIT 1").fetchall()
    return str(rows[0][0]) if rows else None


def summarize(con: duckdb.DuckDBPyConnection, run_id: str) -> PlanSummary:
    """The plan of ``run_id`` per entity and legal entity, with its routing decisions."""
    groups = [
        PlanGroup(
            target=r[0], entity=r[1], legal_entity=r[2], level=int(r[3]), creates=int(r[4]),
            updates=int(r[5]), closes=int(r[6]), invalid=int(r[7]),
            channels=tuple(sorted(c for c in r[8] if c != "none")), batches=int(r[9]),
        )
        for r in con.execute(
            f"""SELECT target, entity, legal_entity, level,
                  count(*) FILTER (action = 'create'), count(*) FILTER (action = 'update'),
                  count(*) FILTER (action = 'close'), count(*) FILTER (problem IS NOT NULL),
                  list(DISTINCT channel), count(DISTINCT batch_id)
                FROM {PLAN} WHERE run_id = ? GROUP BY ALL ORDER BY level, entity, legal_entity""",
            [run_id],
        ).fetchall()
    ]  # fmt: skip
    decisions = [
        RouteDecision(
            entity=r[0], legal_entity=r[1], rows=int(r[2]), closes=int(r[3]),
            threshold=int(r[4] or 0), channel=r[5], reason=r[6],
        )
        for r in con.execute(
            f"""SELECT entity, legal_entity, count(*) FILTER (operation <> 'DELETE'),
                  count(*) FILTER (operation = 'DELETE'), max(route_threshold), channel,
                  max(route_reason)
                FROM {PLAN} WHERE run_id = ? AND channel <> 'none'
                GROUP BY entity, legal_entity, level, channel
                ORDER BY level, entity, legal_entity, channel""",
            [run_id],
        ).fetchall()
    ]  # fmt: skip
    problems = tuple(
        (int(s), str(k), str(p))
        for s, k, p in con.execute(
            f"SELECT seq, record_key, problem FROM {PLAN} WHERE run_id = ? AND problem IS NOT NULL "
            "ORDER BY seq LIMIT 50",
            [run_id],
        ).fetchall()
    )
    total = sum(g.rows for g in groups)
    return PlanSummary(run_id, total, tuple(groups), tuple(decisions), problems)


def load_rows(
    con: duckdb.DuckDBPyConnection, run_id: str, where: str = "TRUE", params: Sequence[object] = ()
) -> list[PlanRow]:
    """Plan rows of ``run_id`` (matching ``where`` over ``ops.push_plan`` as ``p``), in order."""
    result = con.execute(
        "SELECT run_id, seq, target, entity, legal_entity, action, kind, record_key, clm_id, "
        "CAST(keys AS VARCHAR), CAST(payload AS VARCHAR), CAST(before AS VARCHAR), "
        "idempotency_key, level, operation, channel, batch_id, problem "
        f"FROM {PLAN} p WHERE run_id = ? AND ({where}) ORDER BY seq",
        [run_id, *params],
    ).fetchall()
    return [
        PlanRow(
            run_id=r[0], seq=int(r[1]), target=r[2], entity=r[3], legal_entity=r[4],
            action=r[5], kind=r[6], record_key=r[7], clm_id=r[8], keys=json.loads(r[9] or "{}"),
            payload=json.loads(r[10] or "{}"), before=json.loads(r[11]) if r[11] else None,
            idempotency_key=r[12], level=int(r[13]), operation=r[14], channel=r[15],
            batch_id=r[16], problem=r[17],
        )
        for r in result
    ]  # fmt: skip
