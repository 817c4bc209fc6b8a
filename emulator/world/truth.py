"""The planted ground truth: one entry per discrepancy, and the noise listed apart.

Rules (what the next reconciliation must report, and nothing else):

* ``record_key`` is the SCM record key (``catalog.Entity.record_key``: key fields other than the
  legal entity, joined with ``|``) when an SCM record is involved, else the CLM object's id;
  ``entity`` is then the SCM entity set, else the CLM object type.
* one entry per changed SCM field for amendments, stale vendor copies and ownership conflicts;
* a new purchase-agreement contract lists the contract (``new_contract``), its agreement and each
  of its lines (``new_agreement``; lines report nothing of their own but must be created);
* a mapping failure blocks what it belongs to: an unmapped currency or payment term on a new
  agreement lists that one entry and nothing for the contract, agreement or lines; an unmapped
  unit or unreleased product lists that line only;
* ``vendor_blocked``, ``vendor_deleted``: one entry per vendor; what the CLM has new for them is
  blocked and not listed; ``duplicate_counterparty``: one entry per vendor (``clm_id`` = the later
  counterparty, ``clm_value`` = both ids);
* link kinds carry the values the link rests on (tax ids, names) with ``field`` null.
"""

from __future__ import annotations

from emulator.world.context import Ctx
from emulator.world.gen_counterparties import STALE_FIELDS
from emulator.world.textnoise import decimal_text_sql

COLUMNS = (
    "kind", "entity", "legal_entity", "record_key", "field", "scm_value", "clm_value", "clm_id",
    "report", "action",
)  # fmt: skip
K = "'CLMIntegrationContracts'"
A = "'CLMIntegrationPurchaseAgreements'"
L = "'CLMIntegrationPurchaseAgreementLines'"
V = "'VendorsV2'"
LINE_KEY = "pa_id || '|' || CAST(line_no AS VARCHAR)"


def _row(*values: str) -> str:
    return "SELECT " + ", ".join(f"{v} AS {c}" for v, c in zip(values, COLUMNS, strict=True))


def _ymd(x: str) -> str:
    return f"strftime({x}, '%Y-%m-%d')"


def _vendor_value(index: str) -> str:
    values = ["v.vname", "v.street", "v.city", "v.zip", "v.country3", "v.cur", "v.pt"]
    return f"({_list_sql(values)})[{index} + 1]"


def _list_sql(items: list[str]) -> str:
    return "[" + ", ".join(items) + "]"


def _cp_value(index: str) -> str:
    cols = ["c.c_name", "c.c_street", "c.c_city", "c.c_zip", "c.c_country", "c.c_currency",
            "c.c_payment_terms"]  # fmt: skip
    return f"({_list_sql(cols)})[{index} + 1]"


def vendor_entries() -> list[str]:
    cp = "w_cp c JOIN w_vendor v ON v.vid = c.vid"
    fields = _list_sql([f"'{f}'" for f in STALE_FIELDS])
    return [
        _row("'counterparty_linked_by_tax_id'", V, "c.le", "v.acct", "NULL", "v.tax", "c.c_tax",
             "c.cid", "'counterparty_linked_by_tax_id'", "NULL")
        + f" FROM {cp} WHERE c.cpk = 'counterparty_linked_by_tax_id' AND c.kind_role = 'primary'",
        _row("'counterparty_linked_by_name'", V, "c.le", "v.acct", "NULL", "v.vname", "c.c_name",
             "c.cid", "'counterparty_linked_by_name'", "NULL")
        + f" FROM {cp} WHERE c.cpk = 'counterparty_linked_by_name' AND c.kind_role = 'primary'",
        _row("'counterparty_unlinked'", "'counterparty'", "c.le", "c.cid", "NULL", "NULL",
             "c.c_name", "c.cid", "'counterparty_unlinked'", "NULL")
        + " FROM w_cp c WHERE c.kind_role = 'unlinked'",
        _row("'duplicate_counterparty'", V, "d.le", "d.acct", "NULL", "NULL",
             "p.cid || ',' || d.cid", "d.cid", "'duplicate_counterparty'", "NULL")
        + " FROM w_cp d JOIN w_cp p ON p.vid = d.vid AND p.kind_role = 'primary'"
        " WHERE d.kind_role = 'duplicate'",
        _row("'vendor_stale_in_clm'", V, "c.le", "v.acct", f"{fields}[f + 1]",
             _vendor_value("f"), _cp_value("f"), "c.cid", "'vendor_stale_in_clm'", "'update'")
        + " FROM (SELECT *, unnest(stale) AS f FROM w_cp) c JOIN w_vendor v ON v.vid = c.vid",
        _row("'vendor_blocked'", V, "c.le", "v.acct", "'OnHoldStatus'", "v.onhold", "NULL",
             "c.cid", "'vendor_blocked'", "NULL")
        + f" FROM {cp} WHERE c.cpk = 'vendor_blocked'",
        _row("'vendor_deleted'", V, "c.le", "c.acct", "NULL", "NULL", "c.c_acct", "c.cid",
             "'vendor_deleted'", "NULL")
        + " FROM w_cp c WHERE c.cpk = 'vendor_deleted'",
    ]  # fmt: skip


def document_entries() -> list[str]:
    out = [
        _row("'new_contract'", "'contract'", "le", "kid", "NULL", "NULL", "NULL", "kid",
             "'new_contract'", "'create'") + " FROM w_bc WHERE bkind = 'new_contract'",
        _row("'new_agreement'", "'agreement'", "le", "aid", "NULL", "NULL", "NULL", "aid",
             "'new_agreement'", "'create'")
        + " FROM w_bc WHERE is_pa AND bkind IN ('new_contract', 'new_agreement')",
        _row("'new_agreement'", "'agreement_line'", "le", "lid", "NULL", "NULL", "NULL", "lid",
             "NULL", "'create'") + " FROM w_lc WHERE bkind IN ('new_contract', 'new_agreement')",
        _row("'unmapped_payment_terms'", "'agreement'", "le", "aid", "'PaymentTermsName'", "NULL",
             "a_pt_code", "aid", "'unmapped_payment_terms'", "NULL")
        + " FROM w_bc WHERE bkind = 'unmapped_payment_terms'",
        _row("'unmapped_currency'", "'agreement'", "le", "aid", "'CurrencyCode'", "NULL",
             "a_cur_code", "aid", "'unmapped_currency'", "NULL")
        + " FROM w_bc WHERE bkind = 'unmapped_currency'",
        _row("'unmapped_contract_type'", "'contract'", "le", "kid", "'ContractType'", "NULL",
             "c_type_code", "kid", "'unmapped_contract_type'", "NULL")
        + " FROM w_bc WHERE bkind = 'unmapped_contract_type'",
        _row("'line_added'", "'agreement_line'", "le", "lid", "NULL", "NULL", "NULL", "lid",
             "'line_added'", "'create'") + " FROM w_lc WHERE is_extra AND bkind = 'line_added'",
        _row("'unmapped_unit'", "'agreement_line'", "le", "lid", "'UnitSymbol'", "NULL",
             "unit_code", "lid", "'unmapped_unit'", "NULL")
        + " FROM w_lc WHERE is_extra AND bkind = 'unmapped_unit'",
        _row("'product_not_released'", "'agreement_line'", "le", "lid", "'ItemNumber'", "NULL",
             "item", "lid", "'product_not_released'", "NULL")
        + " FROM w_lc WHERE is_extra AND bkind = 'product_not_released'",
        _row("'line_removed'", L, "le", LINE_KEY, "NULL", "NULL", "NULL", "lid",
             "'line_removed'", "'close'") + " FROM w_scm_l WHERE removed",
        _row("'amended_status'", K, "le", "contract_id", "'ContractStatus'", "cst", "cst_new_code",
             "kid", "'amended_status'",
             "CASE WHEN cst_new IN ('Terminated', 'Expired', 'Cancelled') THEN 'close' "
             "ELSE 'update' END") + " FROM w_scm_k WHERE c_status",
        _row("'amended_price'", L, "le", LINE_KEY, "'Price'", decimal_text_sql("price"),
             decimal_text_sql("price_cur"), "lid", "'amended_price'", "'update'")
        + " FROM w_scm_l WHERE price_amended",
    ]  # fmt: skip
    for kind, action, status_where, dates_where in (
        ("amended_status", "CASE WHEN ast_new = 'Closed' THEN 'close' ELSE 'update' END",
         "bkind = 'amended_status' AND a_status", None),
        ("ownership_conflict", "NULL", "bkind = 'ownership_conflict' AND a_status",
         "bkind = 'ownership_conflict' AND a_dates"),
        ("amended_dates", "'update'", None, "bkind = 'amended_dates' AND a_dates"),
    ):  # fmt: skip
        if status_where:
            out.append(
                _row(f"'{kind}'", A, "le", "pa_id", "'AgreementStatus'", "ast", "ast_new_code",
                     "aid", f"'{kind}'", action) + f" FROM w_scm_a WHERE {status_where}"
            )  # fmt: skip
        if dates_where:
            out += _date_rows(
                kind, A, "pa_id", "aid", "Default", "a", action, "w_scm_a", dates_where
            )
    out += _date_rows("amended_dates", K, "contract_id", "kid", "", "c", "'update'", "w_scm_k",
                      "c_dates")  # fmt: skip
    out += _date_rows("amended_dates", L, LINE_KEY, "lid", "", "l", "'update'", "w_scm_l",
                      "l_dates")  # fmt: skip
    return out


def _date_rows(
    kind: str, entity: str, key: str, clm_id: str, prefix: str, side: str, action: str,
    source: str, where: str,
) -> list[str]:  # fmt: skip
    orig = {"a": ("eff", "exp"), "c": ("eff", "exp"), "l": ("l_eff", "l_exp")}[side]
    rows = []
    for name, flag, old, new in (
        ("EffectiveDate", "ch_eff", orig[0], f"{side}_eff_cur"),
        ("ExpirationDate", "ch_exp", orig[1], f"{side}_exp_cur"),
    ):
        rows.append(
            _row(f"'{kind}'", entity, "le", key, f"'{prefix}{name}'", _ymd(old), _ymd(new),
                 clm_id, f"'{kind}'", action) + f" FROM {source} WHERE {where} AND {flag}"
        )  # fmt: skip
    return rows


def noise_entries() -> list[str]:
    fields = _list_sql([f"'{f}'" for f in STALE_FIELDS])
    return [
        _row("c.noise_kind", V, "c.le", "v.acct", f"{fields}[c.nf + 1]", _vendor_value("c.nf"),
             _cp_value("c.nf"), "c.cid", "NULL", "NULL")
        + " FROM w_cp c JOIN w_vendor v ON v.vid = c.vid WHERE c.nf IS NOT NULL",
        _row("noise_kind", K, "le", "contract_id", "'EffectiveDate'", _ymd("eff"), "c_eff_text",
             "kid", "NULL", "NULL") + " FROM w_scm_k WHERE bkind = 'noise' AND target = 'c_eff'",
        _row("noise_kind", K, "le", "contract_id", "'ContractStatus'", "cst", "c_status_text",
             "kid", "NULL", "NULL")
        + " FROM w_scm_k WHERE bkind = 'noise' AND target = 'c_status'",
        _row("noise_kind", A, "le", "pa_id", "'DefaultEffectiveDate'", _ymd("eff"), "a_eff_text",
             "aid", "NULL", "NULL") + " FROM w_scm_a WHERE bkind = 'noise' AND target = 'a_eff'",
        _row("noise_kind", A, "le", "pa_id", "'AgreementStatus'", "ast", "a_status_text", "aid",
             "NULL", "NULL") + " FROM w_scm_a WHERE bkind = 'noise' AND target = 'a_status'",
        _row("'noise_decimal_scale'", L, "le", LINE_KEY, "'Price'", decimal_text_sql("price"),
             "price_text", "lid", "NULL", "NULL")
        + " FROM w_scm_l WHERE noise_here AND target = 'l_price'",
        _row("'noise_midnight_datetime'", L, "le", LINE_KEY, "'EffectiveDate'", _ymd("l_eff"),
             "l_eff_text", "lid", "NULL", "NULL")
        + " FROM w_scm_l WHERE noise_here AND target = 'l_eff'",
    ]  # fmt: skip


def build_truth(ctx: Ctx) -> None:
    """Tables ``w_gt`` (discrepancies) and ``w_noise`` with the columns of ``COLUMNS``."""
    ctx.table("w_gt", " UNION ALL ".join(vendor_entries() + document_entries()))
    ctx.table("w_noise", " UNION ALL ".join(noise_entries()))
