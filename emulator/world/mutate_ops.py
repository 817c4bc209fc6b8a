"""The changes one mutation makes, as SQL on the emulator's store (inside its write transaction).

Targets are *clean*: nothing the current ground truth lists touches them (the reference
reconciliation has just run, leaving ``o_*`` tables), their counterparty carries the vendor
account and is the vendor's only one, and the vendor is not on hold. So each change plants
exactly the discrepancy it is meant to, which ``m_planted`` records (kind, clm id or record key).

SCM: vendor creates (half with a matching CLM counterparty), vendor updates of name, street or
payment terms (stale CLM copies where a counterparty carries the account), deletes of vendors no
document or counterparty uses. CLM: new contracts (half with an agreement and lines), new lines,
and amendments of dates, status and price, and line removals. New SCM rows get new record ids and
versions; every CLM row written gets the same new ``updated_at``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import duckdb

from connectors import catalog
from emulator.world import words
from emulator.world.reference import LEGAL_ENTITIES
from emulator.world.sqlkit import Rand, lst

InsertTyped = Callable[[duckdb.DuckDBPyConnection, catalog.Entity, str], None]
V = 'scm."VendorsV2"'
AMEND_OPS_PA = ("k_dates", "k_status", "a_dates", "a_status", "l_dates", "l_price", "l_remove",
                "l_add")  # fmt: skip
AMEND_OPS = ("k_dates", "k_status")
PLANTED_KIND = {
    "k_dates": "amended_dates", "k_status": "amended_status", "a_dates": "amended_dates",
    "a_status": "amended_status", "l_dates": "amended_dates", "l_price": "amended_price",
    "l_remove": "line_removed", "l_add": "line_added",
}  # fmt: skip


class Mutation:
    """One mutation: ``fraction`` of eligible objects changed, choices drawn from ``rnd``."""

    def __init__(
        self, con: duckdb.DuckDBPyConnection, fraction: float, rnd: Rand, number: int,
        ts: datetime,
    ) -> None:  # fmt: skip
        self.con, self.f, self.r, self.number, self.ts = con, fraction, rnd, number, ts
        self.counts: dict[str, int] = {}

    def x(self, sql: str, params: Sequence[object] = ()) -> None:
        self.con.execute(sql, list(params))

    def n(self, relation: str) -> int:
        return int(self.con.execute(f"SELECT count(*) FROM {relation}").fetchall()[0][0])

    def eligibility(self) -> None:
        """Clean counterparties, contracts and vendors (after the reference reconciliation)."""
        entries = "(SELECT clm_id, entity, legal_entity, record_key FROM o_gt UNION ALL " \
                  "SELECT clm_id, entity, legal_entity, record_key FROM o_noise)"  # fmt: skip
        self.x(f"""CREATE OR REPLACE TEMP TABLE m_dirty_k AS SELECT DISTINCT k FROM (
            SELECT clm_id AS k FROM {entries} WHERE clm_id LIKE 'K-%'
            UNION ALL SELECT a.contract_id FROM clm.agreements a JOIN {entries} e ON e.clm_id = a.id
            UNION ALL SELECT a.contract_id FROM clm.agreement_lines l
              JOIN clm.agreements a ON a.id = l.agreement_id
              JOIN {entries} e ON e.clm_id = l.id)""")
        self.x(f"""CREATE OR REPLACE TEMP TABLE m_dirty_v AS SELECT DISTINCT legal_entity AS le,
            record_key AS acct FROM {entries} WHERE entity = 'VendorsV2'""")
        self.x("""CREATE OR REPLACE TEMP TABLE m_cp_ok AS
            SELECT c.id, c.le, c.business_unit, v.acct, v.cur, v.pt,
                   row_number() OVER (ORDER BY c.id) - 1 AS pos
            FROM o_cp c JOIN o_vendor v ON v.le = c.le AND v.acct = c.link_acct
            WHERE c.method = 'account' AND v.onhold <> 'All'
              AND NOT EXISTS (SELECT 1 FROM m_dirty_v d WHERE d.le = c.le AND d.acct = v.acct)
              AND (SELECT count(*) FROM o_cp x WHERE x.le = c.le AND x.link_acct = c.link_acct)
                  = 1""")
        self.x("""CREATE OR REPLACE TEMP TABLE m_k_ok AS
            SELECT k.id, k.le, a.id AS agreement_id, row_number() OVER (ORDER BY k.id) AS num,
              (SELECT min_by(l.id, l.line_no) FROM o_l l WHERE l.agreement_id = a.id
                 AND l.status = 'active' AND l.scm_key IS NOT NULL) AS line_id
            FROM o_k k JOIN m_cp_ok c ON c.id = k.counterparty_id
            LEFT JOIN o_a a ON a.contract_id = k.id
            WHERE k.scm_id IS NOT NULL AND k.id NOT IN (SELECT k FROM m_dirty_k)
              AND (a.id IS NULL OR (a.pa_id IS NOT NULL AND a.ownership = 'CLM'))""")
        self.x("CREATE OR REPLACE TEMP TABLE m_planted (kind VARCHAR, ref VARCHAR)")

    # --- CLM ---------------------------------------------------------------------------------

    def amend(self) -> None:
        r = self.r
        op = (
            f"CASE WHEN agreement_id IS NOT NULL AND line_id IS NOT NULL "
            f"THEN {r.pick(AMEND_OPS_PA, 'mop', 'num')} "
            f"WHEN agreement_id IS NOT NULL THEN {r.pick(AMEND_OPS_PA[:4], 'mop2', 'num')} "
            f"ELSE {r.pick(AMEND_OPS, 'mop3', 'num')} END"
        )
        self.x(f"""CREATE OR REPLACE TEMP TABLE m_amend AS SELECT *, {op} AS op,
                     CAST(30 + {r.i("mdays", 300, "num")} AS INTEGER) AS days,
                     {r.u("mstat", "num")} < 0.5 AS alt
                   FROM m_k_ok WHERE {r.u("mk", "num")} < {self.f!r}""")
        ts = [self.ts]
        shift = ("CASE WHEN expiration_date IS NULL THEN effective_date ELSE strftime(o_date("
                 "expiration_date) + m.days, '%Y-%m-%d') END")  # fmt: skip
        eff = ("CASE WHEN expiration_date IS NULL THEN strftime(o_date(effective_date) - m.days, "
               "'%Y-%m-%d') ELSE effective_date END")  # fmt: skip
        dates = f"expiration_date = {shift}, effective_date = {eff}, updated_at = ?"
        self.x(
            f"""UPDATE clm.contracts t SET {dates}, amendment_number = amendment_number + 1
                   FROM m_amend m WHERE m.op = 'k_dates' AND t.id = m.id""",
            ts,
        )
        self.x(f"UPDATE clm.agreements t SET {dates} FROM m_amend m "
               "WHERE m.op = 'a_dates' AND t.id = m.agreement_id", ts)  # fmt: skip
        self.x(f"UPDATE clm.agreement_lines t SET {dates} FROM m_amend m "
               "WHERE m.op = 'l_dates' AND t.id = m.line_id", ts)  # fmt: skip
        self.x(
            """UPDATE clm.contracts t SET status = (SELECT min(clm_status) FROM
                     world.seed_clm_contract_statuses WHERE scm_status = CASE WHEN k.cstatus =
                     'Executed' THEN CASE WHEN m.alt THEN 'Terminated' ELSE 'OnHold' END
                     ELSE 'Executed' END), amendment_number = t.amendment_number + 1,
                   updated_at = ?
                   FROM m_amend m JOIN o_k k ON k.id = m.id
                   WHERE m.op = 'k_status' AND t.id = m.id""",
            ts,
        )
        self.x(
            """UPDATE clm.agreements t SET status = (SELECT min(clm_status) FROM
                     world.seed_clm_agreement_statuses WHERE scm_status = CASE WHEN a.astatus =
                     'Effective' THEN CASE WHEN m.alt THEN 'Closed' ELSE 'OnHold' END
                     ELSE 'Effective' END), updated_at = ?
                   FROM m_amend m JOIN o_a a ON a.id = m.agreement_id
                   WHERE m.op = 'a_status' AND t.id = m.agreement_id""",
            ts,
        )
        self.x(
            """UPDATE clm.agreement_lines t SET unit_price = o_dec(round(CAST(t.unit_price AS
                     DECIMAL(32, 6)) * 1.07 + 0.01, 2)), updated_at = ?
                   FROM m_amend m WHERE m.op = 'l_price' AND t.id = m.line_id""",
            ts,
        )
        self.x(
            """UPDATE clm.agreement_lines t SET status = 'removed', updated_at = ?
                   FROM m_amend m WHERE m.op = 'l_remove' AND t.id = m.line_id""",
            ts,
        )
        first = self._next("clm.agreement_lines", 5)
        self.x(
            f"""INSERT INTO clm.agreement_lines SELECT
                     'AGL-' || lpad(CAST({first} + row_number() OVER (ORDER BY m.line_id) AS
                       VARCHAR), 8, '0'), l.agreement_id,
                     (SELECT max(x.line_no) FROM clm.agreement_lines x
                       WHERE x.agreement_id = l.agreement_id) + 1,
                     l.product_code, l.description, '50', l.unit, l.unit_price, l.effective_date,
                     l.expiration_date, 'active', ?, ?
                   FROM m_amend m JOIN clm.agreement_lines l ON l.id = m.line_id
                   WHERE m.op = 'l_add'""",
            [self.ts, self.ts],
        )
        self.x(f"""INSERT INTO m_planted SELECT
                     CASE op {" ".join(f"WHEN '{o}' THEN '{k}'" for o, k in PLANTED_KIND.items())}
                     END, CASE WHEN op LIKE 'k_%' THEN id WHEN op LIKE 'a_%' THEN agreement_id
                     ELSE line_id END FROM m_amend WHERE op <> 'l_add'""")
        self.x(
            f"""INSERT INTO m_planted SELECT 'line_added', id FROM clm.agreement_lines
                   WHERE created_at = ? AND id > 'AGL-{first:08d}'""",
            [self.ts],
        )
        self.counts["amended"] = self.n("m_amend")

    def _next(self, table: str, prefix_len: int) -> int:
        row = self.con.execute(
            f"SELECT max(TRY_CAST(substr(id, {prefix_len}) AS BIGINT)) FROM {table}"
        ).fetchall()
        return int(row[0][0] or 0)

    def new_contracts(self) -> None:
        r = self.r
        total = self.n("clm.contracts")
        pool = self.n("m_cp_ok")
        count = max(1, round(self.f * total * 0.2)) if pool else 0
        k0, a0, l0 = (self._next(t, p) for t, p in (("clm.contracts", 3), ("clm.agreements", 5),
                                                      ("clm.agreement_lines", 5)))  # fmt: skip
        self.x(
            f"""CREATE OR REPLACE TEMP TABLE m_new AS
            SELECT j, c.*, j % 2 = 0 AS is_pa,
              'K-' || lpad(CAST({k0} + j + 1 AS VARCHAR), 7, '0') AS kid,
              'AGR-' || lpad(CAST({a0} + j + 1 AS VARCHAR), 7, '0') AS aid,
              strftime(CAST(? AS DATE), '%Y-%m-%d') AS eff,
              strftime(CAST(? AS DATE) + INTERVAL 2 YEAR - INTERVAL 1 DAY, '%Y-%m-%d') AS exp
            FROM (SELECT j, {r.i("mcp", max(pool, 1), "j")} AS pos FROM range({count}) t(j)) t
            JOIN m_cp_ok c USING (pos)""",
            [self.ts, self.ts],
        )
        self.x(
            """INSERT INTO clm.contracts SELECT kid, 'Contract ' || kid,
                     CASE WHEN is_pa THEN 'Purchase Agreement' ELSE 'Non-Disclosure Agreement' END,
                     'Active', id, business_unit, eff, exp, 'Procurement Desk',
                     'procurement@contoso.example', 0, ?, ? FROM m_new""",
            [self.ts, self.ts],
        )
        pref = ("(SELECT min(s.{c}) FROM world.seed_{t} s WHERE s.{sc} = {v} "
                "AND s.preferred = 'true')")  # fmt: skip
        cur = pref.format(c="clm_currency", t="clm_currencies", sc="scm_currency", v="m.cur")
        pt = pref.format(c="clm_payment_terms", t="clm_payment_terms", sc="scm_payment_terms",
                         v="m.pt")  # fmt: skip
        self.x(f"""INSERT INTO clm.agreements SELECT aid, kid, 'Agreement ' || aid, id,
                     business_unit, {cur}, {pt}, eff, exp, 'Active', 'Blanket',
                     'procurement@contoso.example', ?, ? FROM m_new m WHERE is_pa""",
               [self.ts, self.ts])  # fmt: skip
        unit = pref.format(c="clm_unit", t="clm_units", sc="scm_unit", v='p."PurchaseUnitSymbol"')
        self.x(f"""CREATE OR REPLACE TEMP TABLE m_new_lines AS
            SELECT m.aid, m.eff, m.exp, ln, m.le, {r.i("mprod", "pn.n", "m.j", "ln")} AS pidx
            FROM (SELECT *, unnest(range(1, 2 + {r.i("mlines", 3, "j")})) AS ln FROM m_new
                  WHERE is_pa) m
            JOIN (SELECT "dataAreaId" AS le, count(*) AS n FROM scm."CLMIntegrationReleasedProducts"
                  GROUP BY ALL) pn ON pn.le = m.le""")
        self.x(
            f"""INSERT INTO clm.agreement_lines SELECT
                     'AGL-' || lpad(CAST({l0} + row_number() OVER (ORDER BY m.aid, m.ln) AS
                       VARCHAR), 8, '0'), m.aid, m.ln, p."ItemNumber", p."ProductName", '100',
                     {unit}, o_dec(p."PurchasePrice"), m.eff, m.exp, 'active', ?, ?
                   FROM m_new_lines m JOIN (SELECT *, row_number() OVER (PARTITION BY
                     "dataAreaId" ORDER BY "ItemNumber") - 1 AS pidx
                     FROM scm."CLMIntegrationReleasedProducts") p
                     ON p."dataAreaId" = m.le AND p.pidx = m.pidx""",
            [self.ts, self.ts],
        )
        self.x("INSERT INTO m_planted SELECT 'new_contract', kid FROM m_new")
        self.counts["new_contracts"] = count

    # --- SCM ---------------------------------------------------------------------------------

    def new_name(self, key: str) -> str:
        return (f"({self.r.pick(words.NEW_A, 'mna', key)} || ' ' || "
                f"{self.r.pick(words.NEW_B, 'mnb', key)} || ' No. ' || "
                f"CAST({self.number * 1_000_000} + {key} AS VARCHAR))")  # fmt: skip

    def update_vendors(self) -> None:
        r = self.r
        self.x("""CREATE OR REPLACE TEMP TABLE m_vupd AS
            SELECT v.le, v.acct, v.pt, row_number() OVER (ORDER BY v.le, v.acct) AS num
            FROM o_vendor v
            WHERE NOT EXISTS (SELECT 1 FROM m_dirty_v d WHERE d.le = v.le AND d.acct = v.acct)
              AND NOT EXISTS (SELECT 1 FROM o_cp c WHERE c.le = v.le AND c.link_acct = v.acct
                              AND c.method <> 'account')
              AND (SELECT count(*) FROM o_cp c WHERE c.le = v.le AND c.link_acct = v.acct) <= 1
              AND v.onhold <> 'All'""")
        self.x(f"""CREATE OR REPLACE TEMP TABLE m_vupd AS SELECT *,
                     {r.pick(["name", "street", "pt"], "mvop", "num")} AS op
                   FROM m_vupd WHERE {r.u("mv", "num")} < {self.f!r}""")
        street = (f"CAST(1 + {r.i('mst', 500, 'm.num')} AS VARCHAR) || ' ' || "
                  f"{r.pick(words.NEW_STREETS, 'mstn', 'm.num')}")  # fmt: skip
        self.x(f"""UPDATE {V} t SET
            "VendorOrganizationName" = CASE WHEN m.op = 'name' THEN {self.new_name("m.num")}
                                            ELSE t."VendorOrganizationName" END,
            "VendorSearchName" = CASE WHEN m.op = 'name' THEN upper(left({self.new_name("m.num")},
                                       20)) ELSE t."VendorSearchName" END,
            "AddressStreet" = CASE WHEN m.op = 'street' THEN {street} ELSE t."AddressStreet" END,
            "DefaultPaymentTermsName" = CASE WHEN m.op = 'pt' THEN CASE WHEN m.pt = 'Net30'
                THEN 'Net45' ELSE 'Net30' END ELSE t."DefaultPaymentTermsName" END,
            _version = nextval('scm.row_version')
            FROM m_vupd m WHERE t."dataAreaId" = m.le AND t."VendorAccountNumber" = m.acct""")
        self.x("""INSERT INTO m_planted SELECT 'vendor_stale_in_clm', m.le || '|' || m.acct
                  FROM m_vupd m JOIN m_cp_ok c ON c.le = m.le AND c.acct = m.acct""")
        self.counts["vendors_updated"] = self.n("m_vupd")

    def delete_vendors(self) -> None:
        r = self.r
        self.x(f"""CREATE OR REPLACE TEMP TABLE m_vdel AS
            SELECT le, acct FROM (SELECT v.le, v.acct, row_number() OVER (ORDER BY v.le, v.acct)
                                  AS num FROM o_vendor v
              WHERE NOT EXISTS (SELECT 1 FROM m_dirty_v d WHERE d.le = v.le AND d.acct = v.acct)
                AND NOT EXISTS (SELECT 1 FROM o_cp c WHERE c.le = v.le AND c.link_acct = v.acct)
                AND NOT EXISTS (SELECT 1 FROM world.links l WHERE l.legal_entity = v.le
                                AND l.vendor_account = v.acct)
                AND NOT EXISTS (SELECT 1 FROM scm."CLMIntegrationContracts" k
                                WHERE k."LegalEntityId" = v.le AND k."AccountRelationId" = v.acct)
                AND NOT EXISTS (SELECT 1 FROM scm."CLMIntegrationPurchaseAgreements" a
                                WHERE a."BuyingLegalEntityId" = v.le
                                  AND a."AgreementVendorAccountNumber" = v.acct)
                AND NOT EXISTS (SELECT 1 FROM m_vupd u WHERE u.le = v.le AND u.acct = v.acct))
            WHERE {r.u("mdel", "num")} < {self.f / 2!r}""")
        for entity in ("VendorsV2", "ContactPersons"):
            self.x(f"""DELETE FROM scm."{entity}" t USING m_vdel d
                       WHERE t."dataAreaId" = d.le AND t."VendorAccountNumber" = d.acct""")
        self.counts["vendors_deleted"] = self.n("m_vdel")

    def create_vendors(self, insert_typed: InsertTyped, vendors: int) -> None:
        r = self.r
        count = max(1, round(self.f * vendors * 0.1))
        les = [e.id for e in LEGAL_ENTITIES]
        self.x(f"""CREATE OR REPLACE TEMP TABLE m_vnew AS
            SELECT j, n.le, l."AddressCountryRegionISOCode" AS iso2,
              l."AddressCountryRegionId" AS iso3, l."AccountingCurrency" AS cur,
              l."AddressCity" AS city, l."AddressZipCode" AS zip, l."LanguageId" AS lang,
              {self.new_name("(j + 500000)")} AS name,
              upper(l."AddressCountryRegionISOCode") || '-V' || lpad(CAST(coalesce((SELECT
                max(TRY_CAST(regexp_extract(v."VendorAccountNumber", '(\\d+)$', 1) AS BIGINT))
                FROM {V} v WHERE v."dataAreaId" = n.le), 0) + row_number() OVER (PARTITION BY
                n.le ORDER BY j) AS VARCHAR), 7, '0') AS acct
            FROM (SELECT j, {lst(les)}[{r.i("mvle", len(les), "j")} + 1] AS le
                  FROM range({count}) t(j)) n
            JOIN scm."LegalEntities" l ON l."LegalEntityId" = n.le""")
        select = f"""SELECT le AS "dataAreaId", acct AS "VendorAccountNumber",
            name AS "VendorOrganizationName", 'Organization' AS "VendorPartyType",
            lpad(CAST({900_000_000 + self.number * 100_000} + j AS VARCHAR), 9, '0')
              AS "VendorPartyNumber", upper(left(name, 20)) AS "VendorSearchName",
            'DOM' AS "VendorGroupId", cur AS "CurrencyCode", 'Net30' AS "DefaultPaymentTermsName",
            'FCA' AS "DefaultDeliveryTermsCode", 'No' AS "OnHoldStatus",
            iso2 || '1' || lpad(CAST({self.number * 1_000_000} + j AS VARCHAR), 9, '0')
              AS "TaxExemptNumber", 'sales@' || lower(replace(acct, '-', '')) || '.example'
              AS "PrimaryEmailAddress", '+1 555 0100' AS "PrimaryPhoneNumber",
            CAST(10 + j AS VARCHAR) || ' Innovation Way' AS "AddressStreet", city AS "AddressCity",
            zip AS "AddressZipCode", iso3 AS "AddressCountryRegionId",
            iso2 AS "AddressCountryRegionISOCode", TIMESTAMP '{self.ts:%Y-%m-%d %H:%M:%S}'
              AS "AddressValidFrom",
            0 AS "CreditLimit", lang AS "LanguageId", 'BG-1' AS "BuyerGroupId" FROM m_vnew"""
        self.x("CREATE OR REPLACE TEMP TABLE m_vnew_rows AS " + select)
        insert_typed(self.con, catalog.entity("VendorsV2"), "SELECT * FROM m_vnew_rows")
        self.x("""UPDATE emu.numseq SET last = greatest(last, x.m) FROM (SELECT le AS company,
                     max(TRY_CAST(regexp_extract(acct, '(\\d+)$', 1) AS BIGINT)) AS m
                     FROM m_vnew GROUP BY le) x
                   WHERE emu.numseq.entity = 'VendorsV2' AND emu.numseq.company = x.company""")
        c0 = self._next("clm.counterparties", 6)
        self.x(
            f"""INSERT INTO clm.counterparties SELECT
            'CPTY-' || lpad(CAST({c0} + row_number() OVER (ORDER BY r."VendorAccountNumber") AS
              VARCHAR), 7, '0'), r."VendorOrganizationName", r."TaxExemptNumber",
            r."VendorAccountNumber", (SELECT min(clm_business_unit) FROM
              world.seed_clm_business_units WHERE legal_entity = r."dataAreaId"),
            r."AddressCountryRegionISOCode", struct_pack(street := r."AddressStreet",
              city := r."AddressCity", zip := r."AddressZipCode", state := ''),
            (SELECT min(clm_currency) FROM world.seed_clm_currencies WHERE preferred = 'true'
               AND scm_currency = r."CurrencyCode"), 'Net 30 days', r."PrimaryEmailAddress",
            r."PrimaryPhoneNumber", 'active', ?, ?
            FROM m_vnew_rows r JOIN m_vnew m ON m.acct = r."VendorAccountNumber"
            WHERE {r.u("mvcp", "m.j")} < 0.5""",
            [self.ts, self.ts],
        )
        self.counts["vendors_created"] = count
