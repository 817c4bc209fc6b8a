"""Reference reconciliation, document side: new, amended, added, removed, unmapped, conflicts.

A CLM object is blocked when its counterparty links to no vendor, to a vendor missing from SCM,
or to a vendor on hold for everything: nothing new of it is created and nothing is listed for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:
    from emulator.world.oracle import Sources

K = "'CLMIntegrationContracts'"
A = "'CLMIntegrationPurchaseAgreements'"
L = "'CLMIntegrationPurchaseAgreementLines'"


def _m(domain: str, code: str) -> str:
    return f"(SELECT m.scm FROM o_map m WHERE m.domain = '{domain}' AND m.k = o_txt({code}))"


def _exact(domain: str, code: str) -> str:
    return f"EXISTS (SELECT 1 FROM o_exact e WHERE e.domain = '{domain}' AND e.code = {code})"


def _ref(domain: str, code: str) -> str:
    return (
        f"(SELECT min(e.code) FROM o_exact e WHERE e.domain = '{domain}' "
        f"AND o_txt(e.code) = o_txt({code}))"
    )


def _tables(con: duckdb.DuckDBPyConnection, src: Sources) -> None:
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE o_k AS
        SELECT k.*, bu.scm AS le, s."ContractId" AS scm_id, s."ContractStatus" AS scm_status,
          s."EffectiveDate" AS scm_eff, s."ExpirationDate" AS scm_exp,
          {_m("ctype", "k.contract_type")} AS ctype, {_m("cstatus", "k.status")} AS cstatus,
          {_exact("cstatus", "k.status")} AS status_exact,
          cp.method IS NULL OR cp.vendor_missing OR coalesce(v.onhold = 'All', false) AS blocked
        FROM {src.c("contracts")} k
        LEFT JOIN o_map bu ON bu.domain = 'bu' AND bu.k = o_txt(k.business_unit)
        LEFT JOIN o_cp cp ON cp.id = k.counterparty_id
        LEFT JOIN o_vendor v ON v.le = cp.le AND v.acct = cp.link_acct
        LEFT JOIN {src.s("CLMIntegrationContracts")} s
               ON s."LegalEntityId" = bu.scm AND s."ExternalContractId" = k.id"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE o_a AS
        SELECT a.*, k.le, k.blocked, k.scm_id IS NOT NULL AS contract_in_scm,
          s."PurchaseAgreementId" AS pa_id, s."AgreementOwnership" AS ownership,
          s."AgreementStatus" AS scm_status, s."DefaultEffectiveDate" AS scm_eff,
          s."DefaultExpirationDate" AS scm_exp,
          {_m("cur", "a.currency")} AS cur, {_m("pt", "a.payment_terms")} AS pt,
          {_m("astatus", "a.status")} AS astatus, {_exact("astatus", "a.status")} AS status_exact
        FROM {src.c("agreements")} a JOIN o_k k ON k.id = a.contract_id
        LEFT JOIN {src.s("CLMIntegrationPurchaseAgreements")} s
               ON s."BuyingLegalEntityId" = k.le AND s."ExternalContractId" = a.contract_id"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE o_l AS
        SELECT l.*, a.le, a.blocked, a.pa_id AS agreement_pa_id,
          s."PurchaseAgreementId" || '|' || o_dec(s."LineNumber") AS scm_key,
          s."EffectiveDate" AS scm_eff, s."ExpirationDate" AS scm_exp, s."Price" AS scm_price,
          {_m("unit", "l.unit")} AS scm_unit,
          EXISTS (SELECT 1 FROM {src.s("CLMIntegrationReleasedProducts")} r
                  WHERE r."dataAreaId" = a.le AND r."ItemNumber" = l.product_code) AS released
        FROM {src.c("agreement_lines")} l JOIN o_a a ON a.id = l.agreement_id
        LEFT JOIN {src.s("CLMIntegrationPurchaseAgreementLines")} s
               ON s."PurchaseAgreementLegalEntityId" = a.le
              AND s."ExternalContractLineId" = l.id"""
    )


def _row(kind: str, entity: str, key: str, field: str, scm: str, clm: str, cid: str,
         report: str, action: str, source: str) -> str:  # fmt: skip
    return (
        f"SELECT {kind} AS kind, {entity} AS entity, le AS legal_entity, {key} AS record_key, "
        f"{field} AS field, {scm} AS scm_value, {clm} AS clm_value, {cid} AS clm_id, "
        f"{report} AS report, {action} AS action FROM {source}"
    )


def _new_entries() -> list[str]:
    """New contracts, agreements and their lines, or the mapping failures that block them."""
    new_k = "o_k WHERE scm_id IS NULL AND NOT blocked"
    has_a = "EXISTS (SELECT 1 FROM o_a a WHERE a.contract_id = o_k.id)"
    # Agreements to create: new with a new contract of a mapped type, or new on their own.
    new_a = (
        "o_a WHERE pa_id IS NULL AND NOT blocked AND (contract_in_scm OR "
        "(SELECT ctype FROM o_k WHERE o_k.id = o_a.contract_id) IS NOT NULL)"
    )
    ok_a = f"({new_a} AND cur IS NOT NULL AND pt IS NOT NULL)"
    lines_of_ok = f"o_l WHERE status = 'active' AND agreement_id IN (SELECT id FROM {ok_a[1:-1]})"
    return [
        _row("'unmapped_contract_type'", "'contract'", "id", "'ContractType'", "NULL",
             "contract_type", "id", "'unmapped_contract_type'", "NULL",
             f"{new_k} AND ctype IS NULL"),
        _row("'new_contract'", "'contract'", "id", "NULL", "NULL", "NULL", "id", "'new_contract'",
             "'create'", f"{new_k} AND ctype IS NOT NULL AND (NOT {has_a} OR id IN (SELECT "
             f"contract_id FROM {ok_a[1:-1]}))"),
        _row("'unmapped_currency'", "'agreement'", "id", "'CurrencyCode'", "NULL", "currency",
             "id", "'unmapped_currency'", "NULL", f"{new_a} AND cur IS NULL"),
        _row("'unmapped_payment_terms'", "'agreement'", "id", "'PaymentTermsName'", "NULL",
             "payment_terms", "id", "'unmapped_payment_terms'", "NULL", f"{new_a} AND pt IS NULL"),
        _row("'new_agreement'", "'agreement'", "id", "NULL", "NULL", "NULL", "id",
             "'new_agreement'", "'create'", ok_a[1:-1]),
        _row("'unmapped_unit'", "'agreement_line'", "id", "'UnitSymbol'", "NULL", "unit", "id",
             "'unmapped_unit'", "NULL", f"{lines_of_ok} AND scm_unit IS NULL"),
        _row("'product_not_released'", "'agreement_line'", "id", "'ItemNumber'", "NULL",
             "product_code", "id", "'product_not_released'", "NULL",
             f"{lines_of_ok} AND scm_unit IS NOT NULL AND NOT released"),
        _row("'new_agreement'", "'agreement_line'", "id", "NULL", "NULL", "NULL", "id", "NULL",
             "'create'", f"{lines_of_ok} AND scm_unit IS NOT NULL AND released"),
    ]  # fmt: skip


def _line_entries() -> list[str]:
    """Lines of agreements SCM has: added, removed, re-priced, re-dated."""
    existing = "o_l WHERE agreement_pa_id IS NOT NULL"
    added = f"{existing} AND status = 'active' AND scm_key IS NULL AND NOT blocked"
    kept = f"{existing} AND status = 'active' AND scm_key IS NOT NULL"
    price = "TRY_CAST(unit_price AS DECIMAL(32, 6))"
    return [
        _row("'line_removed'", L, "scm_key", "NULL", "NULL", "NULL", "id", "'line_removed'",
             "'close'", f"{existing} AND status = 'removed' AND scm_key IS NOT NULL"),
        _row("'unmapped_unit'", "'agreement_line'", "id", "'UnitSymbol'", "NULL", "unit", "id",
             "'unmapped_unit'", "NULL", f"{added} AND scm_unit IS NULL"),
        _row("'product_not_released'", "'agreement_line'", "id", "'ItemNumber'", "NULL",
             "product_code", "id", "'product_not_released'", "NULL",
             f"{added} AND scm_unit IS NOT NULL AND NOT released"),
        _row("'line_added'", "'agreement_line'", "id", "NULL", "NULL", "NULL", "id",
             "'line_added'", "'create'", f"{added} AND scm_unit IS NOT NULL AND released"),
        _row("'amended_price'", L, "scm_key", "'Price'", "o_dec(scm_price)", "unit_price", "id",
             "'amended_price'", "'update'", f"{kept} AND {price} IS DISTINCT FROM scm_price"),
    ]  # fmt: skip


def _date_entries(
    entity: str, key: str, prefix: str, source: str, kind: str, action: str
) -> list[str]:
    rows = []
    for name, clm, scm in (("EffectiveDate", "effective_date", "scm_eff"),
                           ("ExpirationDate", "expiration_date", "scm_exp")):  # fmt: skip
        rows.append(
            _row(kind, entity, key, f"'{prefix}{name}'", f"o_ymd({scm})", clm, "id", kind,
                 action, f"{source} AND o_date({clm}) IS DISTINCT FROM o_blank({scm})")
        )  # fmt: skip
    return rows


def _date_noise(entity: str, key: str, prefix: str, source: str) -> list[str]:
    rows = []
    for name, clm, scm in (("EffectiveDate", "effective_date", "scm_eff"),
                           ("ExpirationDate", "expiration_date", "scm_exp")):  # fmt: skip
        rows.append(
            _row("'noise_midnight_datetime'", entity, key, f"'{prefix}{name}'", f"o_ymd({scm})",
                 clm, "id", "NULL", "NULL", f"{source} AND o_date({clm}) = o_blank({scm}) "
                 f"AND {clm} <> o_ymd(o_date({clm}))")
        )  # fmt: skip
    return rows


def build(con: duckdb.DuckDBPyConnection, src: Sources, gt: list[str], noise: list[str]) -> None:
    _tables(con, src)
    gt += _new_entries() + _line_entries()
    k_old = "o_k WHERE scm_id IS NOT NULL"
    a_clm = "o_a WHERE pa_id IS NOT NULL AND ownership <> 'SCM'"
    a_scm = "o_a WHERE pa_id IS NOT NULL AND ownership = 'SCM'"
    kept = "o_l WHERE agreement_pa_id IS NOT NULL AND status = 'active' AND scm_key IS NOT NULL"
    gt += _date_entries(K, "scm_id", "", k_old, "'amended_dates'", "'update'")
    gt += _date_entries(A, "pa_id", "Default", a_clm, "'amended_dates'", "'update'")
    gt += _date_entries(A, "pa_id", "Default", a_scm, "'ownership_conflict'", "NULL")
    gt += _date_entries(L, "scm_key", "", kept, "'amended_dates'", "'update'")
    k_close = (
        "CASE WHEN cstatus IN ('Terminated', 'Expired', 'Cancelled') THEN 'close' ELSE 'update' END"
    )
    a_close = "CASE WHEN astatus = 'Closed' THEN 'close' ELSE 'update' END"
    gt += [
        _row("'amended_status'", K, "scm_id", "'ContractStatus'", "scm_status", "status", "id",
             "'amended_status'", k_close,
             f"{k_old} AND cstatus IS NOT NULL AND cstatus <> scm_status"),
        _row("'amended_status'", A, "pa_id", "'AgreementStatus'", "scm_status", "status", "id",
             "'amended_status'", a_close,
             f"{a_clm} AND astatus IS NOT NULL AND astatus <> scm_status"),
        _row("'ownership_conflict'", A, "pa_id", "'AgreementStatus'", "scm_status", "status",
             "id", "'ownership_conflict'", "NULL",
             f"{a_scm} AND astatus IS NOT NULL AND astatus <> scm_status"),
    ]  # fmt: skip
    a_old = "o_a WHERE pa_id IS NOT NULL"
    noise += _date_noise(K, "scm_id", "", k_old)
    noise += _date_noise(A, "pa_id", "Default", a_old)
    noise += _date_noise(L, "scm_key", "", kept)
    noise += [
        _row(f"o_noise(status, {_ref('cstatus', 'status')})", K, "scm_id", "'ContractStatus'",
             "scm_status", "status", "id", "NULL", "NULL",
             f"{k_old} AND cstatus = scm_status AND NOT status_exact"),
        _row(f"o_noise(status, {_ref('astatus', 'status')})", A, "pa_id", "'AgreementStatus'",
             "scm_status", "status", "id", "NULL", "NULL",
             f"{a_old} AND astatus = scm_status AND NOT status_exact"),
        _row("'noise_decimal_scale'", L, "scm_key", "'Price'", "o_dec(scm_price)", "unit_price",
             "id", "NULL", "NULL", f"{kept} AND TRY_CAST(unit_price AS DECIMAL(32, 6)) = "
             "scm_price AND unit_price <> o_dec(scm_price)"),
    ]  # fmt: skip
