"""Render bundles and counterparties into the SCM and CLM tables of the world.

SCM holds the *original* values of every contract, agreement and line it has (mapped to SCM's
codes); the CLM holds the *current* ones in its own codes, with dates and decimals as the text it
sends (``2025-03-01``, ``12.5``) and noise where it was drawn.
"""

from __future__ import annotations

from connectors import catalog
from emulator.world.context import CLM, Ctx
from emulator.world.sqlkit import ident
from emulator.world.textnoise import decimal_text_sql, midnight_sql, noisy, padded_decimal_sql

CLM_SQL_TYPES = {
    "string": "VARCHAR",
    "int": "BIGINT",
    "decimal": "VARCHAR",
    "date": "VARCHAR",
    "datetime": "TIMESTAMP",
    "bool": "BOOLEAN",
    "object": "STRUCT(street VARCHAR, city VARCHAR, zip VARCHAR, state VARCHAR)",
}


def ymd(x: str) -> str:
    return f"strftime({x}, '%Y-%m-%d')"


def build_current(ctx: Ctx) -> None:
    """Current CLM values of bundles (``w_bc``) and lines (``w_lc``)."""
    status_noise, status_noise_kind = noisy("cst_code", "noise_status_kind")
    a_status_noise, a_status_noise_kind = noisy("ast_code", "noise_status_kind")
    ctx.table(
        "w_bc",
        f"""
        SELECT *,
          CASE WHEN bkind = 'noise' AND target = 'c_eff' THEN {midnight_sql(ymd("eff"))}
               ELSE {ymd("c_eff_cur")} END AS c_eff_text,
          {ymd("c_exp_cur")} AS c_exp_text,
          CASE WHEN bkind = 'noise' AND target = 'c_status' THEN {status_noise}
               ELSE c_status_cur END AS c_status_text,
          CASE WHEN bkind = 'noise' AND target = 'a_eff' THEN {midnight_sql(ymd("eff"))}
               ELSE {ymd("a_eff_cur")} END AS a_eff_text,
          {ymd("a_exp_cur")} AS a_exp_text,
          CASE WHEN bkind = 'noise' AND target = 'a_status' THEN {a_status_noise}
               ELSE a_status_cur END AS a_status_text,
          CASE WHEN bkind = 'noise' AND target = 'c_status' THEN {status_noise_kind}
               WHEN bkind = 'noise' AND target = 'a_status' THEN {a_status_noise_kind}
               WHEN bkind = 'noise' AND target IN ('c_eff', 'a_eff') THEN 'noise_midnight_datetime'
               WHEN bkind = 'noise' AND target = 'l_price' THEN 'noise_decimal_scale'
               WHEN bkind = 'noise' AND target = 'l_eff' THEN 'noise_midnight_datetime'
               END AS noise_kind
        FROM (
          SELECT *,
            CASE WHEN c_dates AND ch_eff THEN eff + CAST(d_shift AS INTEGER) ELSE eff END
              AS c_eff_cur,
            CASE WHEN c_dates AND ch_exp THEN exp + CAST(d_ext AS INTEGER) ELSE exp END
              AS c_exp_cur,
            CASE WHEN c_status THEN cst_new_code ELSE cst_code END AS c_status_cur,
            CASE WHEN a_dates AND ch_eff THEN eff + CAST(d_shift AS INTEGER) ELSE eff END
              AS a_eff_cur,
            CASE WHEN a_dates AND ch_exp THEN exp + CAST(d_ext AS INTEGER) ELSE exp END
              AS a_exp_cur,
            CASE WHEN a_status THEN ast_new_code ELSE ast_code END AS a_status_cur,
            CASE WHEN a_new THEN a_created + INTERVAL 3 MINUTE
                 WHEN a_dates OR a_status THEN c_updated + INTERVAL 1 MINUTE
                 ELSE least(c_updated, a_created + INTERVAL 400 DAY) END AS a_updated
          FROM (
            SELECT *,
              coalesce(bkind = 'amended_dates' AND target = 'contract', false) AS c_dates,
              coalesce(bkind = 'amended_status' AND target = 'contract', false) AS c_status,
              coalesce((bkind = 'amended_dates' AND target = 'agreement')
                       OR (bkind = 'ownership_conflict' AND oc_what = 'dates'), false) AS a_dates,
              coalesce((bkind = 'amended_status' AND target = 'agreement')
                       OR (bkind = 'ownership_conflict' AND oc_what = 'status'), false)
                AS a_status
            FROM w_b
          )
        )""",
    )
    price_step = "(0.02 + 0.13 * ((p_u * 7) - floor(p_u * 7)))"
    new_price = (
        f"round(price * (1 + CASE WHEN p_u < 0.5 THEN -1 ELSE 1 END * {price_step}), decimals)"
    )
    ctx.table(
        "w_lc",
        f"""
        SELECT *,
          CASE WHEN noise_here AND target = 'l_eff' THEN {midnight_sql(ymd("l_eff"))}
               ELSE {ymd("l_eff_cur")} END AS l_eff_text,
          {ymd("l_exp_cur")} AS l_exp_text,
          CASE WHEN noise_here AND target = 'l_price'
               THEN {padded_decimal_sql(decimal_text_sql("price_cur"))}
               ELSE {decimal_text_sql("price_cur")} END AS price_text,
          CASE WHEN removed THEN 'removed' ELSE 'active' END AS l_status
        FROM (
          SELECT *,
            CASE WHEN l_dates AND ch_eff THEN l_eff + CAST(d_shift AS INTEGER) ELSE l_eff END
              AS l_eff_cur,
            CASE WHEN l_dates AND ch_exp THEN l_exp + CAST(d_ext AS INTEGER) ELSE l_exp END
              AS l_exp_cur,
            CASE WHEN price_amended THEN CASE WHEN {new_price} = price
                      THEN price + CASE WHEN decimals = 0 THEN 1 ELSE 0.01 END
                      ELSE {new_price} END
                 ELSE price END AS price_cur
          FROM (
            SELECT *,
              coalesce(bkind = 'amended_dates' AND target = 'line' AND line_no = t_line, false)
                AS l_dates,
              coalesce(bkind = 'amended_price' AND line_no = t_line, false) AS price_amended,
              coalesce(bkind = 'line_removed' AND line_no = t_line, false) AS removed,
              coalesce(bkind = 'noise' AND line_no = t_line, false) AS noise_here
            FROM w_l
          )
        )""",
    )


def build_scm_documents(ctx: Ctx) -> None:
    """SCM's contracts, purchase agreements and lines: the original values of synced bundles."""
    # Narrow id tables, and views that join them: the wide bundle rows are never copied.
    ctx.table(
        "w_kid",
        """SELECT kno, 'C' || lpad(CAST(row_number() OVER (PARTITION BY le ORDER BY c_created, kno)
                                    AS VARCHAR), 7, '0') AS contract_id
           FROM w_bc WHERE NOT c_new""",
    )
    ctx.table(
        "w_paid",
        """SELECT kno, 'PA' || lpad(CAST(row_number() OVER (PARTITION BY le ORDER BY a_created, kno)
                                     AS VARCHAR), 7, '0') AS pa_id
           FROM w_bc WHERE is_pa AND NOT a_new AND NOT c_new""",
    )
    ctx.view("w_scm_k", "SELECT * FROM w_bc JOIN w_kid USING (kno)")
    ctx.view("w_scm_a", "SELECT * FROM w_scm_k JOIN w_paid USING (kno)")
    blank = "DATE '1900-01-01'"
    ctx.scm(
        "CLMIntegrationContracts",
        {
            "LegalEntityId": "le", "ContractId": "contract_id", "ExternalContractId": "kid",
            "ContractType": "ctype", "ContractStatus": "cst",
            "ContractName": "c_title", "EffectiveDate": "eff",
            "ExpirationDate": f"coalesce(exp, {blank})", "RequesterWorkerName": "owner_name",
            "RequesterWorkerEmail": "owner_email", "AccountType": "'Vend'",
            "AccountRelationId": "acct", "PartyNumber": "party", "ContactPersonId": "contact",
            "LatestAmendmentId": "''", "LatestExternalAmendmentId": "''",
            "AmendmentInProcess": "'No'",
        },
        "w_scm_k ORDER BY le, contract_id",
    )  # fmt: skip
    ctx.scm(
        "CLMIntegrationPurchaseAgreements",
        {
            "BuyingLegalEntityId": "le", "PurchaseAgreementId": "pa_id",
            "ExternalContractId": "kid", "ContractId": "contract_id", "ContractLegalEntity": "le",
            "AgreementOwnership": "owner", "AgreementStatus": "ast", "DocumentTitle": "a_title",
            "PurchaseAgreementClassificationName": "classification",
            "DefaultEffectiveDate": "eff", "DefaultExpirationDate": f"coalesce(exp, {blank})",
            "AgreementVendorAccountNumber": "acct", "InvoiceVendorAccountNumber": "acct",
            "VendorReference": "aid", "PrimaryResponsibleWorkerEmail": "owner_email",
            "PrimaryResponsibleWorkerName": "owner_name", "ContactPersonId": "contact",
            "CurrencyCode": "a_cur", "PaymentTermsName": "a_pt",
            "DefaultCommitmentType": "'ProductQuantity'",
        },
        "w_scm_a ORDER BY le, pa_id",
    )  # fmt: skip
    ctx.view("w_scm_l", "SELECT * FROM w_lc JOIN w_paid USING (kno) WHERE NOT is_extra")
    ctx.scm(
        "CLMIntegrationPurchaseAgreementLines",
        {
            "PurchaseAgreementLegalEntityId": "le", "PurchaseAgreementId": "pa_id",
            "LineNumber": "line_no", "ExternalContractId": "kid", "ExternalContractLineId": "lid",
            "CommitmentType": "'ProductQuantity'", "CommittedAmount": "0",
            "CommittedQuantity": "qty", "EffectiveDate": "l_eff",
            "ExpirationDate": f"coalesce(l_exp, {blank})", "ItemNumber": "item",
            "ProcurementProductCategoryName": "category", "Price": "price",
            "PriceQuantity": "1", "LineDiscountAmount": "0", "LineDiscountPercentage": "0",
            "UnitSymbol": "unit", "ReceivingSiteId": "site", "ReceivingWarehouseId": "warehouse",
            "IsPriceAndDiscountFixed": "'Yes'",
        },
        "w_scm_l ORDER BY le, pa_id, line_no",
    )  # fmt: skip


def _clm_table(ctx: Ctx, collection: str, exprs: dict[str, str], source: str) -> None:
    obj = catalog.clm_object(collection)
    missing = [f.name for f in obj.fields if f.name not in exprs]
    unknown = [n for n in exprs if n not in obj.field_names]
    if missing or unknown:
        raise ValueError(f"{collection}: missing fields {missing}, unknown fields {unknown}")
    cols = ",\n  ".join(
        f"CAST({exprs[f.name]} AS {CLM_SQL_TYPES[f.type]}) AS {ident(f.name)}" for f in obj.fields
    )
    ctx.run(f"CREATE OR REPLACE TABLE {CLM}.{obj.table} AS SELECT {cols} FROM {source}")


def build_clm(ctx: Ctx) -> None:
    """The CLM's four collections as the CLM holds them now."""
    ctx.run(f"CREATE SCHEMA IF NOT EXISTS {CLM}")
    address = "{'street': c_street, 'city': c_city, 'zip': c_zip, 'state': state}"
    _clm_table(
        ctx,
        "counterparties",
        {
            "id": "cid", "name": "c_name", "tax_id": "c_tax", "vendor_account": "c_acct",
            "business_unit": "bu", "country": "c_country", "address": address,
            "currency": "c_currency", "payment_terms": "c_payment_terms", "email": "email",
            "phone": "phone", "status": "'active'", "created_at": "created_at",
            "updated_at": "updated_at",
        },
        "w_cp ORDER BY updated_at, cid",
    )  # fmt: skip
    _clm_table(
        ctx,
        "contracts",
        {
            "id": "kid", "title": "c_title", "contract_type": "c_type_code",
            "status": "c_status_text", "counterparty_id": "cid", "business_unit": "bu",
            "effective_date": "c_eff_text", "expiration_date": "c_exp_text",
            "owner_name": "owner_name", "owner_email": "owner_email",
            "amendment_number": "amendment + CASE WHEN c_dates OR c_status THEN 1 ELSE 0 END",
            "created_at": "c_created", "updated_at": "c_updated",
        },
        "w_bc ORDER BY c_updated, kid",
    )  # fmt: skip
    _clm_table(
        ctx,
        "agreements",
        {
            "id": "aid", "contract_id": "kid", "title": "a_title", "counterparty_id": "cid",
            "business_unit": "bu", "currency": "a_cur_code", "payment_terms": "a_pt_code",
            "effective_date": "a_eff_text", "expiration_date": "a_exp_text",
            "status": "a_status_text", "classification": "classification",
            "owner_email": "owner_email", "created_at": "a_created", "updated_at": "a_updated",
        },
        "w_bc WHERE is_pa ORDER BY a_updated, aid",
    )  # fmt: skip
    _clm_table(
        ctx,
        "agreement-lines",
        {
            "id": "lid", "agreement_id": "aid", "line_no": "line_no", "product_code": "item",
            "description": "pname", "quantity": "qty", "unit": "unit_code",
            "unit_price": "price_text", "effective_date": "l_eff_text",
            "expiration_date": "l_exp_text", "status": "l_status", "created_at": "l_created",
            "updated_at": "l_updated",
        },
        "w_lc ORDER BY l_updated, lid",
    )  # fmt: skip
