"""CLM counterparties: one per vendor that has one, duplicates, and counterparties of no vendor.

A clean counterparty carries its vendor's account and a copy of its master data in the CLM's
codes (ISO2 country, the CLM's currency and payment-term names, preferred or alias). The
vendor-level kinds change that copy:

* ``counterparty_linked_by_tax_id``: no vendor account; the tax id (sometimes re-formatted:
  separators removed or a space inserted) identifies the vendor;
* ``counterparty_linked_by_name``: neither account nor tax id; the name is a variant of the
  vendor's (see ``names``), same country and legal entity, same address;
* ``duplicate_counterparty``: a second counterparty with the same account and master data;
* ``vendor_stale_in_clm``: one or two of the seven compared fields hold an older value;
* ``vendor_blocked`` / ``vendor_deleted``: the copy is clean; the vendor is on hold / gone.

Counterparties of no vendor (``counterparty_unlinked``) get names from word lists no vendor uses
and, half of them, a tax id no vendor has. Stale copies are compared only for counterparties that
carry the vendor account (a name-linked counterparty's name differs by construction).
"""

from __future__ import annotations

from emulator.world import names
from emulator.world import reference as ref
from emulator.world.context import LAST_SYNC, Ctx
from emulator.world.gen_vendors import t9_sql, tax_id_sql
from emulator.world.sqlkit import Rand, q
from emulator.world.textnoise import NOISE_CASE, NOISE_UNICODE, NOISE_WHITESPACE, noisy

# The seven master-data fields compared between a vendor and its counterparty, in this order.
STALE_FIELDS = (
    "VendorOrganizationName",
    "AddressStreet",
    "AddressCity",
    "AddressZipCode",
    "AddressCountryRegionId",
    "CurrencyCode",
    "DefaultPaymentTermsName",
)
OLD_STREETS = ("Commerce Park", "Old Mill Road", "Factory Lane", "Gewerbegebiet Süd")
NOISE_FIELD_WEIGHTS = (35, 10, 15, 10, 10, 10, 10)
ALT_COUNTRY = {"US": "CA", "DE": "AT", "GB": "IE", "JP": "KR", "CN": "SG"}
# Noise kinds that can apply to each compared field (by STALE_FIELDS index).
NOISE_BY_FIELD = (
    (NOISE_UNICODE, NOISE_CASE, NOISE_WHITESPACE),
    (NOISE_WHITESPACE, NOISE_CASE),
    (NOISE_UNICODE, NOISE_CASE, NOISE_WHITESPACE),
    (NOISE_WHITESPACE,),
    (NOISE_CASE,),
    (NOISE_CASE, NOISE_WHITESPACE),
    (NOISE_CASE, NOISE_WHITESPACE),
)


def code_pick(r: Rand, domain_col: str, stream: str, key: str, preferred_share: float) -> str:
    """The CLM code for an SCM value: the preferred one, or now and then an alias."""
    alias = r.i(stream + "_a", f"len({domain_col}) - 1", key)
    return (
        f"(CASE WHEN len({domain_col}) = 1 OR {r.u(stream, key)} < {preferred_share} "
        f"THEN {domain_col}[1] ELSE {domain_col}[2 + {alias}] END)"
    )


def _bu(r: Rand, le: str, key: str) -> str:
    units: dict[str, list[str]] = {}
    for bu, le_id in ref.BUSINESS_UNITS:
        units.setdefault(le_id, []).append(bu)
    whens = []
    for le_id, bus in units.items():
        pick = (
            q(bus[0])
            if len(bus) == 1
            else f"CASE WHEN {r.u('bu', key)} < 0.7 THEN {q(bus[0])} ELSE {q(bus[1])} END"
        )
        whens.append(f"WHEN {q(le_id)} THEN {pick}")
    return f"(CASE {le} {' '.join(whens)} END)"


def build_counterparties(ctx: Ctx) -> None:
    r = ctx.rnd
    # Name variants for name-linked counterparties, computed for those vendors only.
    ctx.table(
        "w_variant",
        names.variant(r).replace(
            "__SOURCE__", "(SELECT * FROM w_vendor WHERE cpk = 'counterparty_linked_by_name')"
        ),
    )
    alt_country = "CASE v.country " + " ".join(
        f"WHEN {q(a)} THEN {q(b)}" for a, b in ALT_COUNTRY.items()
    )
    last = "substr(v.zip, length(v.zip), 1)"
    alt_zip = (
        f"substr(v.zip, 1, length(v.zip) - 1) || CASE WHEN {last} BETWEEN '0' AND '9' "
        f"THEN chr(CAST(48 + (ascii({last}) - 48 + 1 + {r.i('azd', 9, 'v.vid')}) % 10 AS INTEGER)) "
        f"ELSE chr(CAST(65 + (ascii({last}) - 65 + 1 + {r.i('azl', 25, 'v.vid')}) % 26 AS INTEGER))"
        " END"
    )
    n_fields = len(STALE_FIELDS)
    f1 = r.i("stale1", n_fields, "v.vid")
    f2 = f"({f1} + 1 + {r.i('stale2', n_fields - 1, 'v.vid')}) % {n_fields}"
    stale = (
        f"CASE WHEN v.cpk = 'vendor_stale_in_clm' THEN CASE WHEN {r.u('stalen', 'v.vid')} < 0.3 "
        f"THEN [{f1}, {f2}] ELSE [{f1}] END ELSE [] END"
    )
    # The name and the city carry most noise; text with accents or voiced kana mostly gets the
    # Unicode kind (decomposed), which needs such characters to make a difference.
    nf = r.weighted([(str(i), w) for i, w in enumerate(NOISE_FIELD_WEIGHTS)], "nfield", "v.vid")
    unicode_first = (
        f"CASE WHEN w_nfd({{col}}) <> {{col}} AND {r.u('nuni', 'vid')} < 0.7 "
        f"THEN '{NOISE_UNICODE}' ELSE {{other}} END"
    )
    wanted = (
        "(CASE nf "
        + " ".join(
            f"WHEN {i} THEN "
            + (
                unicode_first.format(
                    col=("vname", "", "city")[i], other=r.pick(kinds[1:], "nkind", "vid")
                )
                if kinds[0] == NOISE_UNICODE
                else r.pick(kinds, "nkind", "vid")
            )
            for i, kinds in enumerate(NOISE_BY_FIELD)
        )
        + " END)"
    )
    ctx.view(
        "w_cp0",
        f"""
        SELECT v.vid, v.le, v.acct, v.kind_role, v.cpk, v.cp_noise, v.vname, v.tax, v.country,
          v.country3, v.street, v.city, v.zip, v.state, v.cur, v.pt, v.email, v.phone,
          {_bu(r, "v.le", "v.vid")} AS bu, {stale} AS stale,
          CASE WHEN v.cp_noise THEN {nf} END AS nf,
          w.variant_kind, w.variant_name,
          {names.old_name(r, "v.")} AS old_name,
          {alt_country} ELSE v.le_iso2 END AS alt_country,
          {alt_zip} AS alt_zip,
          (SELECT codes FROM w_code WHERE domain = 'cur' AND scm = v.cur) AS cur_codes,
          (SELECT codes FROM w_code WHERE domain = 'pt' AND scm = v.pt) AS pt_codes,
          (SELECT codes FROM w_code WHERE domain = 'cur'
             AND scm = CASE WHEN v.cur = 'USD' THEN 'EUR' ELSE 'USD' END)[1] AS alt_cur,
          (SELECT codes FROM w_code WHERE domain = 'pt'
             AND scm = CASE WHEN v.pt = 'Net30' THEN 'Net60' ELSE 'Net30' END)[1] AS alt_pt,
          TIMESTAMP '2019-01-01' + to_minutes({r.i("cpc", 3_400_000, "v.vid")})
            + CASE WHEN v.kind_role = 'duplicate'
                   THEN to_minutes(1 + {r.i("cpd", 150_000, "v.vid")})
                   ELSE INTERVAL 0 MINUTE END AS created_at
        FROM (
          SELECT *, 'primary' AS kind_role FROM w_vendor WHERE has_cp
          UNION ALL
          SELECT *, 'duplicate' AS kind_role FROM w_vendor WHERE cpk = 'duplicate_counterparty'
        ) v LEFT JOIN w_variant w ON w.vid = v.vid AND v.kind_role = 'primary'
        """,
    )
    key = "(vid * 2 + CASE kind_role WHEN 'primary' THEN 0 ELSE 1 END)"
    alt_street = _alt_street(r)
    cur0 = code_pick(r, "cur_codes", "cpcur", key, 0.8)
    pt0 = code_pick(r, "pt_codes", "cppt", key, 0.75)
    country0 = f"CASE WHEN country = 'GB' AND {r.u('uk', key)} < 0.2 THEN 'UK' ELSE country END"
    tax_fmt = (
        "CASE WHEN regexp_matches(tax, '[-. ]') THEN regexp_replace(tax, '[-. ]', '', 'g') "
        "ELSE substr(tax, 1, 2) || ' ' || substr(tax, 3) END"
    )
    vals = {
        "name": "CASE WHEN cpk = 'counterparty_linked_by_name' AND kind_role = 'primary' "
        "THEN variant_name WHEN list_contains(stale, 0) THEN old_name ELSE vname END",
        "street": f"CASE WHEN list_contains(stale, 1) THEN {alt_street} ELSE street END",
        "city": "CASE WHEN list_contains(stale, 2) THEN alt_city ELSE city END",
        "zip": "CASE WHEN list_contains(stale, 3) THEN alt_zip ELSE zip END",
        "country": f"CASE WHEN list_contains(stale, 4) THEN alt_country ELSE {country0} END",
        "currency": f"CASE WHEN list_contains(stale, 5) THEN alt_cur ELSE {cur0} END",
        "payment_terms": f"CASE WHEN list_contains(stale, 6) THEN alt_pt ELSE {pt0} END",
    }
    ctx.view(
        "w_cp1",
        f"""
        SELECT c.*, {", ".join(f"{v} AS c_{k}" for k, v in vals.items())},
          CASE WHEN cpk = 'counterparty_linked_by_tax_id' AND kind_role = 'primary'
                 THEN CASE WHEN {r.u("taxfmt", "c.vid")} < 0.5 THEN tax ELSE {tax_fmt} END
               WHEN cpk = 'counterparty_linked_by_name' AND kind_role = 'primary' THEN NULL
               WHEN {r.u("taxnull", key)} < 0.15 THEN NULL ELSE tax END AS c_tax,
          CASE WHEN kind_role = 'primary' AND cpk IN ('counterparty_linked_by_tax_id',
                    'counterparty_linked_by_name') THEN NULL ELSE acct END AS c_acct,
          {wanted} AS noise_wanted
        FROM (
          SELECT c.*, d.city AS alt_city
          FROM (SELECT c.*, (p.idx + 1 + {r.i("altc", "p.n - 1", "c.vid")}) % p.n AS alt_idx
                FROM w_cp0 c LEFT JOIN w_city_d p ON p.country = c.country AND p.city = c.city) c
          LEFT JOIN w_city_d d ON d.country = c.country AND d.idx = c.alt_idx
        ) c""",
    )
    _apply_noise(ctx)
    _add_unlinked(ctx)


def _alt_street(r: Rand) -> str:
    return (
        f"(CASE WHEN country IN ('JP', 'CN') THEN '旧' || street "
        f"ELSE CAST(2000 + {r.i('altsn', 7000, 'vid')} AS VARCHAR) || ' ' || "
        f"{r.pick(OLD_STREETS, 'alts', 'vid')} END)"
    )


def _apply_noise(ctx: Ctx) -> None:
    """Put one noise difference on the counterparties drawn for it; remember what it was."""
    cols = ["c_name", "c_street", "c_city", "c_zip", "c_country", "c_currency", "c_payment_terms"]
    value_cases, kind_cases = [], []
    for i, col in enumerate(cols):
        value, kind = noisy(col, "noise_wanted")
        value_cases.append(f"WHEN {i} THEN {value}")
        kind_cases.append(f"WHEN {i} THEN {kind}")
    replaced = ", ".join(
        f"CASE WHEN nf = {i} THEN noise_value ELSE {col} END AS {col}" for i, col in enumerate(cols)
    )
    ctx.view(
        "w_cp2",
        f"""SELECT * REPLACE ({replaced})
            FROM (SELECT *, CASE nf {" ".join(value_cases)} END AS noise_value,
                         CASE nf {" ".join(kind_cases)} END AS noise_kind,
                         CASE nf {" ".join(f"WHEN {i} THEN {c}" for i, c in enumerate(cols))} END
                           AS noise_clean
                  FROM w_cp1)""",
    )


def _add_unlinked(ctx: Ctx) -> None:
    r = ctx.rnd
    n_primary = ctx.count("w_vendor WHERE has_cp")
    n_unlinked = round(ctx.rates["counterparty_unlinked"] * n_primary)
    j = "j"
    le_case = " ".join(
        f"WHEN {r.u('ulle', j)} < {acc!r} THEN {q(le.id)}"
        for le, acc in zip(
            ref.LEGAL_ENTITIES, _acc([x.share for x in ref.LEGAL_ENTITIES]), strict=True
        )
    )
    ctx.table(
        "w_cp_unlinked",
        f"""
        SELECT u.*, l.iso2 AS country, c.city, c.state, (SELECT codes FROM w_code
                 WHERE domain = 'cur' AND scm = l.currency)[1] AS c_currency
        FROM (SELECT j, CASE {le_case} ELSE 'cnmf' END AS le FROM range({n_unlinked}) t(j)) u
        JOIN w_le l USING (le)
        JOIN w_city c ON c.country = l.iso2 AND c.idx = 0""",
    )
    t9 = t9_sql(f"({ctx.size} + j)", ctx.seed)
    ctx.table(
        "w_cp",
        f"""
        WITH allcp AS (
          SELECT vid * 2 + CASE kind_role WHEN 'primary' THEN 0 ELSE 1 END AS ckey, vid, le, acct,
            kind_role, cpk, bu, c_name, c_tax, c_acct, c_country, c_street, c_city, c_zip, state,
            c_currency, c_payment_terms, email, phone, created_at, stale, nf, noise_kind,
            noise_clean, variant_kind
          FROM w_cp2
          UNION ALL
          SELECT {2 * ctx.size} + j, NULL, le, NULL, 'unlinked', 'counterparty_unlinked',
            {_bu(r, "le", "j")}, {names.unlinked_name(r, "j")},
            CASE WHEN {r.u("ultax", "j")} < 0.5 THEN {tax_id_sql("country", t9)} END, NULL,
            country, CAST(1 + {r.i("ulhn", 500, "j")} AS VARCHAR) || ' Market Square', city,
            NULL, state, c_currency, 'Net 30 days',
            'info@' || lower({r.pick(["atelier", "guild", "coop", "trust"], "ulmail", "j")})
              || CAST(j AS VARCHAR) || '.example', NULL,
            TIMESTAMP '2019-01-01' + to_minutes({r.i("ulc", 3_600_000, "j")}), [], NULL, NULL,
            NULL, NULL
          FROM w_cp_unlinked
        )
        SELECT *, 'CPTY-' || lpad(CAST(row_number() OVER (ORDER BY created_at, ckey) AS VARCHAR),
                                 7, '0') AS cid,
          least(created_at + to_minutes({r.i("cpu", 400_000, "ckey")}),
                TIMESTAMP {q(LAST_SYNC)} - INTERVAL 1 DAY) AS updated_at
        FROM allcp""",
    )


def _acc(values: list[float]) -> list[float]:
    out, acc = [], 0.0
    for v in values:
        acc += v
        out.append(acc)
    return out
