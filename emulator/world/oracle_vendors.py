"""Reference reconciliation, vendor side: links, duplicates, blocked, deleted, stale copies.

A counterparty links to a vendor of its business unit's legal entity by the vendor account it
carries (case-insensitive, as SCM keys are), else by tax id (alphanumerics only, upper case),
else, for a counterparty with neither, through the world's hidden link table (the fuzzy match a
good matcher finds). Stale copies are compared only for counterparties carrying the account.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb

from emulator.world.gen_counterparties import STALE_FIELDS

if TYPE_CHECKING:
    from emulator.world.oracle import Sources

V = "'VendorsV2'"


def _links(con: duckdb.DuckDBPyConnection, src: Sources) -> None:
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE o_vendor AS
        SELECT "dataAreaId" AS le, "VendorAccountNumber" AS acct, lower("VendorAccountNumber")
                 AS acct_k, "VendorOrganizationName" AS vname, "TaxExemptNumber" AS tax,
               o_tax("TaxExemptNumber") AS tax_k, "AddressStreet" AS street,
               "AddressCity" AS city, "AddressZipCode" AS zip, "AddressCountryRegionId" AS country3,
               "CurrencyCode" AS cur, "DefaultPaymentTermsName" AS pt, "OnHoldStatus" AS onhold
        FROM {src.s("VendorsV2")}"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE o_cp AS
        SELECT c.*, bu.scm AS le,
          CASE WHEN c.acct_k <> '' THEN 'account' WHEN t.acct IS NOT NULL THEN 'tax_id'
               WHEN l.vendor_account IS NOT NULL THEN 'name' END AS method,
          CASE WHEN c.acct_k <> '' THEN coalesce(a.acct, c.vendor_account)
               ELSE coalesce(t.acct, l.vendor_account) END AS link_acct,
          c.acct_k <> '' AND a.acct IS NULL AS vendor_missing
        FROM (SELECT *, lower(trim(coalesce(vendor_account, ''))) AS acct_k
              FROM {src.c("counterparties")}) c
        LEFT JOIN o_map bu ON bu.domain = 'bu' AND bu.k = o_txt(c.business_unit)
        LEFT JOIN o_vendor a ON c.acct_k <> '' AND a.le = bu.scm AND a.acct_k = c.acct_k
        LEFT JOIN (SELECT le, tax_k, min(acct) AS acct FROM o_vendor WHERE tax_k <> ''
                   GROUP BY le, tax_k HAVING count(*) = 1) t
               ON c.acct_k = '' AND t.le = bu.scm AND t.tax_k = o_tax(c.tax_id)
        LEFT JOIN {src.links} l ON c.acct_k = '' AND t.acct IS NULL AND l.method = 'name'
               AND l.counterparty_id = c.id"""
    )


def build(con: duckdb.DuckDBPyConnection, src: Sources, gt: list[str], noise: list[str]) -> None:
    _links(con, src)
    linked = "o_cp c JOIN o_vendor v ON v.le = c.le AND v.acct = c.link_acct"
    gt += [
        f"""SELECT 'counterparty_linked_by_tax_id' AS kind, {V} AS entity, c.le AS legal_entity,
              v.acct AS record_key, NULL AS field, v.tax AS scm_value, c.tax_id AS clm_value,
              c.id AS clm_id, 'counterparty_linked_by_tax_id' AS report, NULL AS action
            FROM {linked} WHERE c.method = 'tax_id'""",
        f"""SELECT 'counterparty_linked_by_name', {V}, c.le, v.acct, NULL, v.vname, c.name, c.id,
              'counterparty_linked_by_name', NULL FROM {linked} WHERE c.method = 'name'""",
        """SELECT 'counterparty_unlinked', 'counterparty', le, id, NULL, NULL, name, id,
              'counterparty_unlinked', NULL FROM o_cp WHERE method IS NULL""",
        f"""SELECT 'duplicate_counterparty', {V}, c.le, v.acct, NULL, NULL,
              string_agg(c.id, ',' ORDER BY c.id), max(c.id), 'duplicate_counterparty', NULL
            FROM {linked} GROUP BY c.le, v.acct HAVING count(*) > 1""",
        """SELECT 'vendor_deleted', 'VendorsV2', le, link_acct, NULL, NULL, min(vendor_account),
              min(id), 'vendor_deleted', NULL FROM o_cp WHERE vendor_missing
            GROUP BY le, link_acct""",
        f"""SELECT 'vendor_blocked', {V}, c.le, v.acct, 'OnHoldStatus', v.onhold, NULL, min(c.id),
              'vendor_blocked', NULL FROM {linked} WHERE v.onhold = 'All'
            GROUP BY c.le, v.acct, v.onhold""",
    ]
    codes = {4: "country", 5: "cur", 6: "pt"}
    scm = ["v.vname", "v.street", "v.city", "v.zip", "v.country3", "v.cur", "v.pt"]
    clm = ["c.name", "c.address.street", "c.address.city", "c.address.zip", "c.country",
           "c.currency", "c.payment_terms"]  # fmt: skip
    rows = []
    for i, field in enumerate(STALE_FIELDS):
        if i in codes:
            d = codes[i]
            mapped = f"(SELECT m.scm FROM o_map m WHERE m.domain = '{d}' AND m.k = o_txt({clm[i]}))"
            differs = f"{mapped} IS DISTINCT FROM {scm[i]}"
            exact = f"EXISTS (SELECT 1 FROM o_exact e WHERE e.domain = '{d}' AND e.code = {clm[i]})"
            ref = (
                f"(SELECT min(e.code) FROM o_exact e WHERE e.domain = '{d}' "
                f"AND o_txt(e.code) = o_txt({clm[i]}))"
            )
            is_noise = f"NOT ({differs}) AND NOT {exact}"
        else:
            differs = f"o_txt({clm[i]}) <> o_txt({scm[i]})"
            ref = scm[i]
            is_noise = f"NOT ({differs}) AND coalesce({clm[i]}, '') <> coalesce({scm[i]}, '')"
        rows.append(
            f"""SELECT '{field}' AS field, {scm[i]} AS scm_value, {clm[i]} AS clm_value,
                  c.id AS clm_id, c.le AS legal_entity, v.acct AS record_key,
                  {differs} AS stale, {is_noise} AS is_noise,
                  CASE WHEN {is_noise} THEN o_noise({clm[i]}, {ref}) END AS noise_kind
                FROM {linked} WHERE c.method = 'account'"""
        )
    con.execute("CREATE OR REPLACE TEMP TABLE o_cmp AS " + " UNION ALL ".join(rows))
    gt.append(
        f"""SELECT 'vendor_stale_in_clm', {V}, legal_entity, record_key, field, scm_value,
              clm_value, clm_id, 'vendor_stale_in_clm', 'update' FROM o_cmp WHERE stale"""
    )
    noise.append(
        f"""SELECT noise_kind, {V}, legal_entity, record_key, field, scm_value, clm_value, clm_id,
              NULL, NULL FROM o_cmp WHERE is_noise"""
    )
