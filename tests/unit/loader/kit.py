"""Small deltas for the loader's unit tests: rows in the spec §5 shape, written to DuckDB."""

from __future__ import annotations

import json
from typing import Any

import duckdb

from loader.plan import CLM_DELTAS, SCM_DELTAS
from warehouse import db

K, A, L = (
    "CLMIntegrationContracts",
    "CLMIntegrationPurchaseAgreements",
    "CLMIntegrationPurchaseAgreementLines",
)
RELATION = dict(zip((K, A, L), SCM_DELTAS, strict=True))
_SCM = ("delta_id", "action", "entity", "legal_entity", "record_key", "clm_id", "kind")
_CLM = ("delta_id", "action", "object", "clm_id", "legal_entity", "vendor_account", "kind")


def warehouse() -> duckdb.DuckDBPyConnection:
    return db.connect(":memory:")


def contract_create(le: str, ext: str, **payload: Any) -> dict[str, Any]:
    body = {"ContractType": "PURCH", "ContractStatus": "Executed", "ContractName": ext,
            "EffectiveDate": "2025-03-01", "AccountType": "Vend", **payload}  # fmt: skip
    return scm(K, "create", le, ext, {"LegalEntityId": le, "ExternalContractId": ext}, body, None)


def contract_update(le: str, cid: str, after: dict[str, Any], before: dict[str, Any]) -> dict:
    return scm(K, "update", le, cid, {"LegalEntityId": le, "ContractId": cid}, after, before)


def line_create(le: str, line: str, ext: str, **payload: Any) -> dict[str, Any]:
    body = {"ExternalContractId": ext, "ItemNumber": "I000001", "Price": "12.5",
            "UnitSymbol": "ea", **payload}  # fmt: skip
    keys = {"PurchaseAgreementLegalEntityId": le, "ExternalContractLineId": line}
    return scm(L, "create", le, line, keys, body, None)


def line_update(le: str, pa: str, n: int, after: dict[str, Any], before: dict[str, Any]) -> dict:
    keys = {"PurchaseAgreementLegalEntityId": le, "PurchaseAgreementId": pa, "LineNumber": n}
    return scm(L, "update", le, f"{pa}|{n}", keys, after, before)


def line_close(le: str, pa: str, n: int) -> dict[str, Any]:
    keys = {"PurchaseAgreementLegalEntityId": le, "PurchaseAgreementId": pa, "LineNumber": n}
    return scm(L, "close", le, f"{pa}|{n}", keys, {}, None)


def scm(
    entity: str, action: str, le: str, record_key: str, keys: dict[str, Any],
    payload: dict[str, Any], before: dict[str, Any] | None,
) -> dict[str, Any]:  # fmt: skip
    return {
        "delta_id": f"{entity}:{action}:{le}:{record_key}",
        "action": action,
        "entity": entity,
        "legal_entity": le,
        "record_key": record_key,
        "clm_id": record_key if action == "create" else None,
        "kind": "test",
        "keys": keys,
        "payload": payload,
        "before": before,
    }


def clm_update(clm_id: str, le: str, **payload: Any) -> dict[str, Any]:
    return {
        "delta_id": f"clm:{clm_id}",
        "action": "update",
        "object": "counterparty",
        "clm_id": clm_id,
        "legal_entity": le,
        "vendor_account": "US-V0000001",
        "kind": "vendor_stale_in_clm",
        "payload": payload,
        "before": dict.fromkeys(payload, "old"),
    }


def write(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]]) -> None:
    """Replace all four deltas relations with ``rows`` (SCM rows by entity, the rest CLM)."""
    by_relation: dict[str, list[dict[str, Any]]] = {r: [] for r in (*SCM_DELTAS, CLM_DELTAS)}
    for row in rows:
        relation = RELATION.get(row["entity"], SCM_DELTAS[0]) if "entity" in row else CLM_DELTAS
        by_relation[relation].append(row)
    for relation, members in by_relation.items():
        names = _CLM if relation == CLM_DELTAS else _SCM
        json_cols = (
            ("payload", "before") if relation == CLM_DELTAS else ("keys", "payload", "before")
        )
        columns = ", ".join([f"{n} VARCHAR" for n in names] + [f"{c} JSON" for c in json_cols])
        con.execute(f"CREATE OR REPLACE TABLE {relation} ({columns})")
        for row in members:
            values = [row[n] for n in names] + [
                None if row[c] is None else json.dumps(row[c]) for c in json_cols
            ]
            marks = ", ".join("?" for _ in values)
            con.execute(f"INSERT INTO {relation} VALUES ({marks})", values)
