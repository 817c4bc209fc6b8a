"""Vendors and their contacts (SCM), and the vendor-level discrepancy each vendor carries.

Every vendor belongs to one legal entity (shares in ``reference.LEGAL_ENTITIES``); about 5% are
based abroad. About 70% have a counterparty in the CLM; those draw at most one vendor-level kind
(see ``rates``). Vendors without a counterparty may be on hold for everything (nothing in the CLM
uses them, so that is not a discrepancy); a vendor with a counterparty is on hold for everything
only when ``vendor_blocked`` was planted. ``vendor_deleted`` vendors are generated and then left
out of SCM, with their contacts.
"""

from __future__ import annotations

from emulator.world import names, places
from emulator.world import reference as ref
from emulator.world.context import Ctx
from emulator.world.rates import COUNTERPARTY_SHARE, VENDOR_KINDS, intervals
from emulator.world.sqlkit import q

TAX_MULT = 982451653  # a prime: vendor index → 9-digit tax number is a bijection mod 10^9


def tax_id_sql(country: str, t9: str) -> str:
    """SQL for a tax id in the country's format from a 9-digit string expression."""
    return f"""(CASE {country}
        WHEN 'US' THEN substr({t9}, 1, 2) || '-' || substr({t9}, 3)
        WHEN 'GB' THEN 'GB' || {t9}
        WHEN 'IE' THEN 'IE' || substr({t9}, 3) || 'W'
        WHEN 'AT' THEN 'ATU' || substr({t9}, 2)
        WHEN 'CH' THEN 'CHE-' || substr({t9}, 1, 3) || '.' || substr({t9}, 4, 3) || '.'
                       || substr({t9}, 7)
        WHEN 'JP' THEN 'T40' || lpad({t9}, 11, '0')
        WHEN 'CN' THEN '91310000' || {t9} || 'X'
        WHEN 'CA' THEN {t9} || 'RT0001'
        WHEN 'MX' THEN 'MEX' || {t9}
        WHEN 'SG' THEN {t9} || 'K'
        ELSE {country} || {t9} END)"""


def t9_sql(index: str, seed: int) -> str:
    """A 9-digit string, distinct for distinct ``index`` values below 10^9."""
    offset = (seed * 7919 + 12345) % 10**9
    return f"lpad(CAST((({index}) * {TAX_MULT} + {offset}) % 1000000000 AS VARCHAR), 9, '0')"


def build_vendors(ctx: Ctx) -> None:
    r = ctx.rnd
    le_case = " ".join(
        f"WHEN u < {lo + le.share!r} THEN {i}"
        for i, (le, lo) in enumerate(
            zip(ref.LEGAL_ENTITIES, _cumulative([x.share for x in ref.LEGAL_ENTITIES]), strict=True)
        )
    )
    ctx.view(
        "w_v1",
        f"""SELECT v.vid, l.*, row_number() OVER (PARTITION BY l.le_i ORDER BY v.vid) - 1 AS le_idx
            FROM (SELECT vid, CASE {le_case} ELSE 4 END AS le_i
                  FROM (SELECT i AS vid, {r.u("le", "i")} AS u FROM range({ctx.size}) t(i))) v
            JOIN w_le l USING (le_i)""",
    )
    ctx.view("w_v2", names.name_parts(r).replace("__SOURCE__", "w_v1"))
    ctx.view(
        "w_v3",
        f"""SELECT *, CASE WHEN is_foreign THEN foreign_countries[{
            r.i("fc", "len(foreign_countries)", "vid")
        } + 1] ELSE iso2 END AS country,
            {r.u("cp", "vid")} < {COUNTERPARTY_SHARE} AS has_cp
          FROM (SELECT *, {r.u("foreign", "vid")} < 0.05 AS is_foreign FROM w_v2)""",
    )
    kinds = intervals(ctx.rates, VENDOR_KINDS)
    kind_case = " ".join(f"WHEN ku < {hi!r} THEN {q(k)}" for k, hi in kinds)
    pt_weights = [(q(p[0]), float(p[7])) for p in ref.PAYMENT_TERMS]
    zip_lambda = (
        "array_to_string(list_transform(str_split(c.pattern, ''), lambda ch, i: CASE ch "
        f"WHEN '#' THEN chr(48 + CAST({r.h('zipd', 'v.vid', 'i')} % 10 AS INTEGER)) "
        f"WHEN '@' THEN chr(65 + CAST({r.h('zipl', 'v.vid', 'i')} % 26 AS INTEGER)) "
        "ELSE ch END), '')"
    )
    hn = f"CAST(1 + {r.i('hn', 1999, 'v.vid')} AS VARCHAR)"
    street = f"""(CASE
        WHEN v.country = 'US' THEN {hn} || ' ' || s.street || CASE WHEN {r.u("suite", "v.vid")}
             < 0.15 THEN ', Suite ' || CAST(100 + {r.i("suiten", 800, "v.vid")} AS VARCHAR)
             ELSE '' END
        WHEN v.country IN ('GB', 'CA', 'IE', 'SG') THEN {hn} || ' ' || s.street
        WHEN v.country = 'JP' THEN s.street || CAST(1 + {r.i("jp1", 5, "v.vid")} AS VARCHAR)
             || '-' || CAST(1 + {r.i("jp2", 30, "v.vid")} AS VARCHAR) || '-'
             || CAST(1 + {r.i("jp3", 20, "v.vid")} AS VARCHAR)
        WHEN v.country = 'CN' THEN s.street || {hn} || '号'
        ELSE s.street || ' ' || CAST(1 + {r.i("hn2", 120, "v.vid")} AS VARCHAR) END)"""
    slug = "lower(regexp_replace(strip_accents(v.wa || v.wc), '[^A-Za-z0-9]', '', 'g'))"
    domain = (
        f"CASE WHEN v.style IN ('jp', 'cn') THEN 'v' || CAST(v.vid AS VARCHAR) || '.example.'"
        f" || lower(v.iso2) ELSE {slug} || '.example' END"
    )
    prefix = "CASE v.country " + " ".join(
        f"WHEN {q(c)} THEN {q(p)}" for c, p in places.PHONE_PREFIX.items()
    )
    phone = (
        f"({prefix} END || lpad(CAST({r.i('ph1', 1000, 'v.vid')} AS VARCHAR), 3, '0') || ' '"
        f" || lpad(CAST({r.i('ph2', 10000000, 'v.vid')} AS VARCHAR), 7, '0'))"
    )
    seq = "CAST(v.le_idx + 1 AS VARCHAR)"
    acct = f"""(CASE WHEN {r.u("acctx", "v.vid")} >= 0.005
             THEN v.iso2 || '-V' || lpad({seq}, 7, '0')
        ELSE CASE {r.i("acctp", 3, "v.vid")}
             WHEN 0 THEN v.iso2 || '-O''HARA-' || lpad({seq}, 6, '0')
             WHEN 1 THEN v.iso2 || '-V ' || lpad({seq}, 7, '0')
             ELSE v.iso2 || '-A&B-' || lpad({seq}, 6, '0') END END)"""
    ctx.table(
        "w_vendor",
        f"""
        SELECT *, onhold0 AS onhold_base,
          CASE WHEN cpk = 'vendor_blocked' THEN 'All'
               WHEN NOT has_cp AND {r.u("holdall", "vid")} < 0.03 THEN 'All'
               ELSE onhold0 END AS onhold,
          cpk IS DISTINCT FROM 'vendor_deleted' AS in_scm,
          has_cp AND cpk IS NULL AND {r.u("cpnoise", "vid")} < {ctx.rates["noise"]!r} AS cp_noise,
          sum(n_contacts) OVER (ORDER BY vid ROWS UNBOUNDED PRECEDING) - n_contacts AS first_ctc
        FROM (
          SELECT v.vid, v.le, v.le_i, v.le_idx, v.style, v.iso2 AS le_iso2, v.currency AS le_cur,
            v.language, v.wa, v.wb, v.wc, v.core, v.filler, v.form, v.form_alt, v.form_prefix,
            v.branch, v.vname, v.country, co.iso3 AS country3, v.is_foreign, v.has_cp,
            {acct} AS acct, c.city, c.state, {zip_lambda} AS zip, {street} AS street,
            CASE WHEN v.is_foreign THEN
                   CASE WHEN {r.u("fcur", "v.vid")} < 0.7 THEN co.currency ELSE v.currency END
                 WHEN {r.u("dcur", "v.vid")} < 0.95 THEN v.currency
                 WHEN v.le = 'usmf' THEN 'EUR' ELSE 'USD' END AS cur,
            {r.weighted(pt_weights, "pt", "v.vid")} AS pt,
            {r.pick([d[0] for d in ref.DELIVERY_TERMS], "dt", "v.vid")} AS dt,
            {
            r.weighted(
                [("'No'", 95), ("'Invoice'", 2), ("'Payment'", 2), ("'Requisition'", 1)],
                "hold",
                "v.vid",
            )
        } AS onhold0,
            {tax_id_sql("v.country", t9_sql("v.vid", ctx.seed))} AS tax,
            lpad(CAST(100001 + v.vid AS VARCHAR), 9, '0') AS party,
            'sales@' || {domain} AS email, {domain} AS domain, {phone} AS phone,
            CASE WHEN v.is_foreign THEN 'FOR' ELSE {r.pick(["DOM", "SRV", "RAW"], "grp", "v.vid")}
                 END AS vgroup,
            CASE WHEN {r.u("cl", "v.vid")} < 0.3 THEN 0
                 ELSE (5 + {r.i("cla", 495, "v.vid")}) * 1000 END AS credit,
            CASE WHEN v.is_foreign THEN 'en-US' ELSE v.language END AS lang,
            TIMESTAMP '2014-01-01' + to_minutes({r.i("vf", 11 * 525600, "v.vid")}) AS valid_from,
            'BG-' || CAST(1 + {r.i("bg", 5, "v.vid")} AS VARCHAR) AS buyer_group,
            CASE WHEN v.has_cp THEN CASE {kind_case} ELSE NULL END END AS cpk,
            {r.weighted([("0", 20), ("1", 40), ("2", 25), ("3", 15)], "nctc", "v.vid")}
              AS n_contacts
          FROM (
            SELECT v.*, {r.u("cpkind", "vid")} AS ku, sn.grp,
                   {r.i("city", "cn.n", "vid")} AS city_idx, {
            r.i("street", "sn.n", "vid")
        } AS street_idx
            FROM w_v3 v
            JOIN (SELECT DISTINCT country, n FROM w_city) cn ON cn.country = v.country
            JOIN (SELECT DISTINCT grp, n FROM w_street) sn ON sn.grp = {_street_group("v.country")}
          ) v
          JOIN w_country co ON co.iso2 = v.country
          JOIN w_city c ON c.country = v.country AND c.idx = v.city_idx
          JOIN w_street s ON s.grp = v.grp AND s.idx = v.street_idx
        )""",
    )


def _street_group(country: str) -> str:
    return (
        f"(CASE WHEN {country} IN ('US', 'DE', 'GB', 'JP', 'CN') THEN {country} ELSE 'LATIN' END)"
    )


def _cumulative(values: list[float]) -> list[float]:
    out, acc = [], 0.0
    for v in values:
        out.append(acc)
        acc += v
    return out


def build_contacts(ctx: Ctx) -> None:
    """Contacts of vendors that exist in SCM; the first one is the vendor's primary contact."""
    r = ctx.rnd
    lang = "CASE WHEN v.style IN ('en', 'gb') THEN 'en' ELSE v.style END"
    first = "CASE " + " ".join(
        f"WHEN {lang} = {q(s)} THEN {r.pick(places.FIRST_NAMES[s], 'cfn', 'v.vid', 'ci')}"
        for s in places.FIRST_NAMES
    )
    last = "CASE " + " ".join(
        f"WHEN {lang} = {q(s)} THEN {r.pick(places.LAST_NAMES[s], 'cln', 'v.vid', 'ci')}"
        for s in places.LAST_NAMES
    )
    ctx.table(
        "w_contact",
        f"""
        SELECT *, CASE WHEN style IN ('jp', 'cn')
                       THEN 'contact' || substr(ctc, 4) || '@' || domain
                       ELSE lower(regexp_replace(strip_accents(first || '.' || last),
                                                 '[^A-Za-z.]', '', 'g')) || '@' || domain
                  END AS ctc_email
        FROM (
          SELECT v.vid, v.le, v.acct, v.party, v.domain, v.phone, v.style, ci,
                 'CTC' || lpad(CAST(v.first_ctc + ci + 1 AS VARCHAR), 8, '0') AS ctc,
                 {first} END AS first, {last} END AS last,
                 {r.pick(places.JOB_TITLES, "job", "v.vid", "ci")} AS job
          FROM (SELECT *, unnest(range(n_contacts)) AS ci FROM w_vendor WHERE in_scm) v
        )""",
    )
    ctx.scm(
        "ContactPersons",
        {
            "dataAreaId": "le", "ContactPersonId": "ctc", "FirstName": "first",
            "MiddleName": "''", "LastName": "last", "JobTitle": "job",
            "PrimaryEmailAddress": "ctc_email",
            "PrimaryPhoneNumber": "phone || '-' || CAST(ci + 1 AS VARCHAR)",
            "AssociatedPartyNumber": "party", "VendorAccountNumber": "acct",
        },
        "w_contact ORDER BY le, ctc",
    )  # fmt: skip
    ctx.scm(
        "VendorsV2",
        {
            "dataAreaId": "le", "VendorAccountNumber": "acct", "VendorOrganizationName": "vname",
            "VendorPartyType": "'Organization'", "VendorPartyNumber": "party",
            "VendorSearchName": "upper(left(vname, 20))", "VendorGroupId": "vgroup",
            "CurrencyCode": "cur", "DefaultPaymentTermsName": "pt",
            "DefaultDeliveryTermsCode": "dt",
            "OnHoldStatus": "onhold",
            "VendorHoldReleaseDate": "CASE WHEN onhold IN ('Invoice', 'Payment') THEN "
            "TIMESTAMP '2026-03-01' ELSE TIMESTAMP '1900-01-01' END",
            "TaxExemptNumber": "tax", "PrimaryEmailAddress": "email", "PrimaryPhoneNumber": "phone",
            "AddressStreet": "street", "AddressCity": "city", "AddressZipCode": "zip",
            "AddressStateId": "state", "AddressCountryRegionId": "country3",
            "AddressCountryRegionISOCode": "country", "AddressValidFrom": "valid_from",
            "CreditLimit": "credit", "LanguageId": "lang",
            "PrimaryContactPersonId": "CASE WHEN n_contacts > 0 THEN 'CTC' || "
            "lpad(CAST(first_ctc + 1 AS VARCHAR), 8, '0') ELSE '' END",
            "BuyerGroupId": "buyer_group", "InvoiceVendorAccountNumber": "''",
        },
        "w_vendor WHERE in_scm ORDER BY le, acct",
    )  # fmt: skip


def build_all(ctx: Ctx) -> None:
    build_vendors(ctx)
    build_contacts(ctx)
