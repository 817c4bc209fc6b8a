"""Deltas in the spec §5 shape, made from a running emulator's world (test fixture).

The loader's tests need deltas before (and independently of) the models: these are computed
from the world's reference reconciliation (``emulator.world.oracle``), which knows, for every
ground-truth entry with an action, the SCM record and the CLM object involved, mapped to SCM's
codes. Creates carry natural keys and no generated keys, updates their before and after values,
line closes an empty payload, and the CLM feed SCM's vendor values in the CLM's codes.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from typing import Any

import duckdb
import pyarrow as pa

from emulator.server import EmulatorInfo
from emulator.world import mutation, oracle

K, A, L = (
    "CLMIntegrationContracts",
    "CLMIntegrationPurchaseAgreements",
    "CLMIntegrationPurchaseAgreementLines",
)
RELATIONS = {
    K: "deltas.dlt_scm__contracts",
    A: "deltas.dlt_scm__purchase_agreements",
    L: "deltas.dlt_scm__purchase_agreement_lines",
}
CLM_RELATION = "deltas.dlt_clm__master_data"
KEYS = {
    K: ("LegalEntityId", "ContractId"),
    A: ("BuyingLegalEntityId", "PurchaseAgreementId"),
    L: ("PurchaseAgreementLegalEntityId", "PurchaseAgreementId", "LineNumber"),
}
# vendor_stale_in_clm field -> (CLM field, seed domain of the CLM code or None)
CLM_FIELDS = {
    "VendorOrganizationName": ("name", None),
    "AddressStreet": ("address.street", None),
    "AddressCity": ("address.city", None),
    "AddressZipCode": ("address.zip", None),
    "AddressCountryRegionId": ("country", "clm_countries"),
    "CurrencyCode": ("currency", "clm_currencies"),
    "DefaultPaymentTermsName": ("payment_terms", "clm_payment_terms"),
}
_SEED_COLUMNS = {
    "clm_countries": ("clm_country", "scm_country"),
    "clm_currencies": ("clm_currency", "scm_currency"),
    "clm_payment_terms": ("clm_payment_terms", "scm_payment_terms"),
}

_CREATES_K = """
SELECT g.record_key AS clm_id, k.le, k.id, k.ctype, k.cstatus, k.title,
       o_ymd(o_date(k.effective_date)), o_ymd(o_date(k.expiration_date)), k.owner_name,
       k.owner_email, cp.link_acct
FROM o_gt g JOIN o_k k ON k.id = g.record_key LEFT JOIN o_cp cp ON cp.id = k.counterparty_id
WHERE g.kind = 'new_contract' AND g.action = 'create'"""
_CREATES_A = """
SELECT g.record_key, a.le, a.contract_id, a.astatus, a.title, a.classification,
       o_ymd(o_date(a.effective_date)), o_ymd(o_date(a.expiration_date)), cp.link_acct, a.id,
       a.cur, a.pt, a.owner_email
FROM o_gt g JOIN o_a a ON a.id = g.record_key LEFT JOIN o_cp cp ON cp.id = a.counterparty_id
WHERE g.entity = 'agreement' AND g.action = 'create'"""
_CREATES_L = """
SELECT g.record_key, l.le, a.contract_id, CAST(l.quantity AS VARCHAR),
       o_ymd(o_date(l.effective_date)), o_ymd(o_date(l.expiration_date)), l.product_code,
       o_dec(TRY_CAST(l.unit_price AS DECIMAL(32, 6))), l.scm_unit, g.kind
FROM o_gt g JOIN o_l l ON l.id = g.record_key JOIN o_a a ON a.id = l.agreement_id
WHERE g.entity = 'agreement_line' AND g.action = 'create'"""
_CHANGES = """
SELECT g.kind, g.entity, g.legal_entity, g.record_key, g.field, g.scm_value, g.clm_id, g.action,
  CASE WHEN g.field LIKE '%Date' THEN o_ymd(o_date(g.clm_value))
       WHEN g.field = 'Price' THEN o_dec(TRY_CAST(g.clm_value AS DECIMAL(32, 6)))
       WHEN g.field = 'ContractStatus' THEN (SELECT k.cstatus FROM o_k k WHERE k.id = g.clm_id)
       WHEN g.field = 'AgreementStatus' THEN (SELECT a.astatus FROM o_a a WHERE a.id = g.clm_id)
       ELSE g.clm_value END
FROM o_gt g
WHERE g.action IN ('update', 'close') AND g.entity IN (?, ?, ?)
ORDER BY g.entity, g.legal_entity, g.record_key, g.field"""
_STALE = """
SELECT g.legal_entity, g.record_key, g.field, g.scm_value, g.clm_value, g.clm_id
FROM o_gt g WHERE g.kind = 'vendor_stale_in_clm' ORDER BY g.clm_id, g.field"""


def _row(
    action: str, entity: str, le: str, record_key: str, clm_id: str | None, kind: str,
    keys: dict[str, Any], payload: dict[str, Any], before: dict[str, Any] | None,
) -> dict[str, Any]:  # fmt: skip
    change = json.dumps([entity, le, record_key, action, keys, payload, before], sort_keys=True)
    return {
        "delta_id": hashlib.sha256(change.encode()).hexdigest()[:32],
        "action": action,
        "entity": entity,
        "legal_entity": le,
        "record_key": record_key,
        "clm_id": clm_id,
        "kind": kind,
        "keys": json.dumps(keys),
        "payload": json.dumps(payload),
        "before": None if before is None else json.dumps(before),
    }


def _creates(con: duckdb.DuckDBPyConnection) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for cid, le, ext, ctype, status, title, eff, exp, owner, email, acct in con.execute(
        _CREATES_K
    ).fetchall():
        payload = {
            "ContractType": ctype, "ContractStatus": status, "ContractName": title,
            "EffectiveDate": eff, "ExpirationDate": exp, "RequesterWorkerName": owner,
            "RequesterWorkerEmail": email, "AccountType": "Vend", "AccountRelationId": acct,
        }  # fmt: skip
        keys = {"LegalEntityId": le, "ExternalContractId": ext}
        out[K].append(_row("create", K, le, cid, cid, "new_contract", keys, payload, None))
    for aid, le, ext, status, title, cls, eff, exp, acct, ref, cur, pt, email in con.execute(
        _CREATES_A
    ).fetchall():
        payload = {
            "ContractLegalEntity": le, "AgreementOwnership": "CLM", "AgreementStatus": status,
            "DocumentTitle": title, "PurchaseAgreementClassificationName": cls,
            "DefaultEffectiveDate": eff, "DefaultExpirationDate": exp,
            "AgreementVendorAccountNumber": acct, "InvoiceVendorAccountNumber": acct,
            "VendorReference": ref, "PrimaryResponsibleWorkerEmail": email, "CurrencyCode": cur,
            "PaymentTermsName": pt, "DefaultCommitmentType": "ProductQuantity",
        }  # fmt: skip
        keys = {"BuyingLegalEntityId": le, "ExternalContractId": ext}
        out[A].append(_row("create", A, le, aid, aid, "new_agreement", keys, payload, None))
    for lid, le, ext, qty, eff, exp, item, price, unit, kind in con.execute(_CREATES_L).fetchall():
        payload = {
            "ExternalContractId": ext, "CommitmentType": "ProductQuantity",
            "CommittedQuantity": qty, "EffectiveDate": eff, "ExpirationDate": exp,
            "ItemNumber": item, "Price": price, "PriceQuantity": "1", "UnitSymbol": unit,
            "IsPriceAndDiscountFixed": "Yes",
        }  # fmt: skip
        keys = {"PurchaseAgreementLegalEntityId": le, "ExternalContractLineId": lid}
        out[L].append(_row("create", L, le, lid, lid, kind, keys, payload, None))
    return out


def _changes(con: duckdb.DuckDBPyConnection) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for kind, entity, le, record_key, field, scm, clm_id, action, value in con.execute(
        _CHANGES, [K, A, L]
    ).fetchall():
        key = (entity, le, record_key, "close" if action == "close" else "update")
        entry = grouped.setdefault(
            key, {"kind": kind, "clm_id": clm_id, "payload": {}, "before": {}}
        )
        if field is not None:
            entry["payload"][field] = value
            entry["before"][field] = scm
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for (entity, le, record_key, action), entry in grouped.items():
        parts = record_key.split("|")
        keys = dict(zip(KEYS[entity], [le, *parts], strict=True))
        if action == "close" and entity == L:
            entry["payload"], entry["before"] = {}, None
        row = _row(
            action, entity, le, record_key, entry["clm_id"], entry["kind"], keys,
            entry["payload"], entry["before"],
        )  # fmt: skip
        out[entity].append(row)
    return out


def _clm(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    preferred: dict[tuple[str, str], str] = {}
    for seed, (clm_col, scm_col) in _SEED_COLUMNS.items():
        for clm_code, scm_code in con.execute(
            f"SELECT {clm_col}, {scm_col} FROM world.seed_{seed} WHERE preferred = 'true'"
        ).fetchall():
            preferred[(seed, scm_code)] = clm_code
    grouped: dict[str, dict[str, Any]] = {}
    for le, account, field, scm, clm, clm_id in con.execute(_STALE).fetchall():
        name, domain = CLM_FIELDS[field]
        entry = grouped.setdefault(
            clm_id, {"le": le, "account": account, "payload": {}, "before": {}}
        )
        entry["payload"][name] = preferred.get((domain, scm), scm) if domain else scm
        entry["before"][name] = clm
    return [
        {
            "delta_id": f"clm-{clm_id}",
            "action": "update",
            "object": "counterparty",
            "clm_id": clm_id,
            "legal_entity": e["le"],
            "vendor_account": e["account"],
            "kind": "vendor_stale_in_clm",
            "payload": json.dumps(e["payload"], ensure_ascii=False),
            "before": json.dumps(e["before"], ensure_ascii=False),
        }
        for clm_id, e in grouped.items()
    ]


def compute(info: EmulatorInfo) -> dict[str, list[dict[str, Any]]]:
    """Deltas rows per ``deltas.*`` relation for the emulator's world as it is now."""
    assert info.state is not None
    with info.state.store.transaction() as con:
        oracle.reconcile(con, mutation.STORE)
        try:
            creates, changes = _creates(con), _changes(con)
            clm = _clm(con)
        finally:
            mutation._drop_temp(con)
    out = {RELATIONS[e]: creates.get(e, []) + changes.get(e, []) for e in (K, A, L)}
    out[CLM_RELATION] = clm
    return out


_SCM_SCHEMA = pa.schema(
    [(c, pa.string()) for c in (
        "delta_id", "action", "entity", "legal_entity", "record_key", "clm_id", "kind", "keys",
        "payload", "before",
    )]
)  # fmt: skip
_CLM_SCHEMA = pa.schema(
    [(c, pa.string()) for c in (
        "delta_id", "action", "object", "clm_id", "legal_entity", "vendor_account", "kind",
        "payload", "before",
    )]
)  # fmt: skip


def write(con: duckdb.DuckDBPyConnection, deltas: dict[str, list[dict[str, Any]]]) -> None:
    """Replace the warehouse's ``deltas.*`` tables with ``deltas`` (JSON columns as JSON)."""
    for relation, rows in deltas.items():
        schema = _CLM_SCHEMA if relation == CLM_RELATION else _SCM_SCHEMA
        table = pa.Table.from_pylist(rows, schema=schema)
        con.register("_deltas", table)
        try:
            json_cols = {"keys", "payload", "before"}
            select = ", ".join(
                f"CAST({c} AS JSON) AS {c}" if c in json_cols else c for c in schema.names
            )
            con.execute(f"CREATE OR REPLACE TABLE {relation} AS SELECT {select} FROM _deltas")
        finally:
            con.unregister("_deltas")


def expected_actions(info: EmulatorInfo) -> list[dict[str, Any]]:
    """Ground-truth entries (recomputed now) that carry an action."""
    truth = info.admin("GET", "ground_truth?refresh=true")
    return [d for d in truth["discrepancies"] if d["expected"]["action"]]


def refuse_one_line(deltas: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Give one new line a unit SCM does not know: the last new line of its agreement, so the
    line numbers SCM assigns come out alike whichever channel refuses it."""
    creates = [r for r in deltas[RELATIONS[L]] if r["action"] == "create"]
    last: dict[str, dict[str, Any]] = {}
    for row in sorted(creates, key=lambda r: (sorted(json.loads(r["payload"])), r["record_key"])):
        last[json.loads(row["payload"])["ExternalContractId"]] = row  # the last in plan order
    victim = sorted(last.values(), key=lambda r: r["record_key"])[len(last) // 2]
    payload = json.loads(victim["payload"])
    payload["UnitSymbol"] = "NOSUCHUNIT"
    victim["payload"] = json.dumps(payload)
    return victim
