"""Contracts, purchase agreements and lines: what the CLM holds and what SCM synced earlier.

A *bundle* is one CLM contract; a purchase-agreement contract carries exactly one agreement and
1–20 lines (skewed, mean about 4). Every bundle has *original* values (what SCM received at the
last sync, mapped to SCM codes) and *current* values (what the CLM holds now). They differ only
where a kind was planted or noise was added. Bundles of counterparties with a vendor-level kind
are in sync, except that every bundle of a deleted vendor, and about half of a blocked vendor's,
is new to SCM (blocked, so not listed). Counterparties of no vendor have no contracts.
"""

from __future__ import annotations

from emulator.world import reference as ref
from emulator.world.context import LAST_SYNC, Ctx
from emulator.world.gen_counterparties import code_pick
from emulator.world.rates import (
    AGREEMENTS_PER_VENDOR,
    BLOCKED_NEW_SHARE,
    CLM_OWNED_PA_KINDS,
    OTHER_CONTRACT_KINDS,
    OTHER_CONTRACTS_PER_VENDOR,
    SCM_OWNED_PA_KINDS,
    SCM_OWNED_SHARE,
    intervals,
)
from emulator.world.sqlkit import q, values_table

NEW_CONTRACT_KINDS = (
    "new_contract", "unmapped_payment_terms", "unmapped_currency", "unmapped_contract_type",
)  # fmt: skip
LINE_ADDED_KINDS = ("line_added", "unmapped_unit", "product_not_released")
CHANGED_KINDS = (
    "amended_dates", "amended_status", "amended_price", "line_added", "line_removed",
    "unmapped_unit", "product_not_released", "ownership_conflict",
)  # fmt: skip
CONTRACT_STATUS_WEIGHTS = (
    ("Executed", 78), ("Expired", 6), ("Draft", 2), ("WaitingForApproval", 2),
    ("WaitingForSignatures", 2), ("OnHold", 3), ("Terminated", 3), ("Cancelled", 2),
    ("Approved", 2),
)  # fmt: skip
PA_NOISE_TARGETS = ("c_eff", "c_status", "a_eff", "a_status", "l_price", "l_eff")
OTHER_TYPE_WEIGHTS = (("NDA", 45), ("MSA", 30), ("SOW", 15), ("SLA", 5), ("FRAME", 5))


def _kind_case(ctx: Ctx, kinds: tuple[str, ...], u: str) -> str:
    parts = [f"WHEN {u} < {hi!r} THEN {q(k)}" for k, hi in intervals(ctx.rates, kinds)]
    return f"(CASE {' '.join(parts)} ELSE NULL END)"


def _buyers(ctx: Ctx) -> None:
    rows = []
    for le, people in ref.BUYERS.items():
        for i, (first, last) in enumerate(people):
            ascii_ok = first.isascii() and last.isascii()
            local = f"{first}.{last}".lower() if ascii_ok else f"buyer{i + 1}.{le}"
            email = local.replace("'", "").replace("ü", "ue").replace("ö", "oe").replace("ß", "ss")
            name = f"{first} {last}" if ascii_ok or le == "demf" else f"{last}{first}"
            rows.append((le, i, name, f"{email}@contoso.example", len(people)))
    ctx.table("w_buyer", "SELECT * FROM " + values_table(("le", "idx", "name", "email", "n"), rows))


def build_bundles(ctx: Ctx) -> None:
    r = ctx.rnd
    _buyers(ctx)
    n_pa = round(ctx.size * AGREEMENTS_PER_VENDOR)
    n_other = round(ctx.size * OTHER_CONTRACTS_PER_VENDOR)
    ctx.table(
        "w_doccp",
        """SELECT cid, vid, le, bu, cpk, kind_role, row_number() OVER (ORDER BY cid) - 1 AS pos,
                  count(*) OVER () AS n
           FROM w_cp WHERE kind_role IN ('primary', 'duplicate')""",
    )
    n_doccp = ctx.count("w_doccp")
    if n_doccp == 0:
        raise ValueError(f"size {ctx.size} is too small: no counterparty can hold a contract")
    u_len = r.u("nlines", "kno")
    ctx.view(
        "w_b0",
        f"""
        SELECT b.kno, b.kno < {n_pa} AS is_pa, c.cid, c.bu, c.cpk, c.kind_role, v.vid, v.le,
          v.acct, v.party, v.vname, v.cur AS v_cur, v.pt AS v_pt, v.le_cur,
          CASE WHEN v.n_contacts > 0 THEN 'CTC' || lpad(CAST(v.first_ctc + 1 AS VARCHAR), 8, '0')
               ELSE '' END AS contact,
          TIMESTAMP '2021-01-01' + to_minutes({r.i("kc", 2_500_000, "b.kno")}) AS base_created,
          bu.name AS owner_name, bu.email AS owner_email,
          CASE WHEN b.kno < {n_pa} THEN 'PURCH'
               ELSE {r.weighted([(q(t), w) for t, w in OTHER_TYPE_WEIGHTS], "ktype", "b.kno")}
               END AS ctype,
          {r.weighted([(q(s), w) for s, w in CONTRACT_STATUS_WEIGHTS], "kstat", "b.kno")} AS cst,
          {r.i("kamend", 3, "b.kno")} AS amendment,
          {r.pick(ref.AGREEMENT_CLASSIFICATIONS, "aclass", "b.kno")} AS classification,
          CASE WHEN {r.u("acur", "b.kno")} < 0.9 THEN v.cur ELSE v.le_cur END AS a_cur,
          CASE WHEN {r.u("apt", "b.kno")} < 0.85 THEN v.pt
               ELSE {r.pick([p[0] for p in ref.PAYMENT_TERMS], "apt2", "b.kno")} END AS a_pt,
          CAST(least(20, 1 + floor(-ln(1 - {u_len}) * 3.5)) AS BIGINT) AS n_lines,
          {r.u("own", "b.kno")} < {SCM_OWNED_SHARE} AS scm_draw,
          {r.u("blocknew", "b.kno")} < {BLOCKED_NEW_SHARE} AS blocked_new_draw,
          {r.u("bkind", "b.kno")} AS ku
        FROM (SELECT kno, {r.i("kcp", n_doccp, "kno")} AS pos
              FROM range({n_pa + n_other}) b(kno)) b
        JOIN w_doccp c ON c.pos = b.pos
        JOIN (SELECT v.*, bn.n AS n_buyers FROM w_vendor v
              JOIN (SELECT DISTINCT le, n FROM w_buyer) bn ON bn.le = v.le) v ON v.vid = c.vid
        JOIN w_buyer bu ON bu.le = v.le AND bu.idx = {r.i("owner", "v.n_buyers", "b.kno")}""",
    )
    other = _kind_case(ctx, OTHER_CONTRACT_KINDS, "ku")
    clm_pa = _kind_case(ctx, CLM_OWNED_PA_KINDS, "ku")
    scm_pa = _kind_case(ctx, SCM_OWNED_PA_KINDS, "ku")
    ctx.view(
        "w_b1",
        f"""
        SELECT *,
          coalesce(bkind IN {NEW_CONTRACT_KINDS} OR cpk = 'vendor_deleted'
            OR (cpk = 'vendor_blocked' AND blocked_new_draw), false) AS c_new,
          is_pa AND coalesce(bkind IN {NEW_CONTRACT_KINDS} OR bkind = 'new_agreement'
            OR cpk = 'vendor_deleted' OR (cpk = 'vendor_blocked' AND blocked_new_draw), false)
            AS a_new
        FROM (
          SELECT *, CASE WHEN cpk IS NOT NULL THEN NULL
                         WHEN NOT is_pa THEN {other}
                         WHEN owner = 'SCM' THEN {scm_pa}
                         ELSE {clm_pa} END AS bkind
          FROM (SELECT *, CASE WHEN is_pa AND scm_draw AND (cpk IS NULL OR cpk NOT IN
                                 ('vendor_deleted', 'vendor_blocked')) THEN 'SCM' ELSE 'CLM' END
                          AS owner
                FROM w_b0)
        )""",
    )
    _decide_details(ctx)


def _decide_details(ctx: Ctx) -> None:
    """Dates, statuses, targets of amendments and noise, ids; current CLM values."""
    r = ctx.rnd
    k = "kno"
    recent = f"TIMESTAMP {q(LAST_SYNC)} + to_minutes({r.i('krecent', 43_000, k)})"
    which = r.pick(["both", "eff", "exp", "exp"], "dwhich", k)
    shift = f"((1 + {r.i('dshift', 60, k)}) * CASE WHEN {r.u('dsign', k)} < 0.5 THEN -1 ELSE 1 END)"
    new_cst = (
        f"CASE WHEN cst = 'Executed' THEN {r.pick(['Terminated', 'Expired', 'OnHold'], 'ncst', k)}"
        " ELSE 'Executed' END"
    )
    new_ast = (
        f"CASE WHEN ast = 'Effective' THEN {r.pick(['Closed', 'OnHold'], 'nast', k)}"
        " ELSE 'Effective' END"
    )
    noise_target = (
        f"CASE WHEN is_pa THEN {r.pick(PA_NOISE_TARGETS, 'ntarget', k)}"
        f" ELSE {r.pick(['c_eff', 'c_status'], 'ntarget2', k)} END"
    )
    ctx.view(
        "w_b2",
        f"""
        SELECT *,
          CASE WHEN c_new THEN {recent} ELSE base_created END AS c_created,
          CASE WHEN c_new OR a_new THEN {recent} ELSE base_created END AS a_created,
          coalesce(bkind IN {CHANGED_KINDS}, false) AS changed,
          -- amended_dates / ownership_conflict targets and what changes
          CASE WHEN bkind = 'amended_dates' AND is_pa
                 THEN {r.pick(["contract", "agreement", "line"], "dtarget", k)}
               WHEN bkind = 'amended_dates' THEN 'contract'
               WHEN bkind = 'amended_status' AND is_pa
                 THEN {r.pick(["contract", "agreement"], "starget", k)}
               WHEN bkind = 'amended_status' THEN 'contract'
               WHEN bkind = 'ownership_conflict' THEN 'agreement'
               WHEN bkind = 'noise' THEN {noise_target} END AS target,
          CASE WHEN bkind = 'ownership_conflict'
               THEN {r.pick(["dates", "status"], "oc", k)} END AS oc_what,
          which0 IN ('both', 'eff') OR exp IS NULL AS ch_eff,
          which0 IN ('both', 'exp') AND exp IS NOT NULL AS ch_exp,
          {shift} AS d_shift, 30 + {r.i("dext", 700, k)} AS d_ext,
          {new_cst} AS cst_new, {new_ast} AS ast_new,
          {r.pick(["noise_case", "noise_whitespace"], "nstat", k)} AS noise_status_kind,
          1 + {r.i("tline", "n_lines", k)} AS t_line,
          {r.u("pchange", k)} AS p_u
        FROM (
          SELECT *, {which} AS which0,
            CASE WHEN cst IN ('Expired', 'Terminated', 'Cancelled') THEN 'Closed'
                 WHEN cst <> 'Executed' THEN 'OnHold'
                 WHEN {r.u("ast", k)} < 0.95 THEN 'Effective' ELSE 'OnHold' END AS ast,
            CAST(base_created AS DATE) + CAST({r.i("keff", 45, k)} AS INTEGER) AS eff,
            CASE WHEN {r.u("open", k)} < 0.03 THEN NULL
                 ELSE CAST(CAST(base_created AS DATE) + CAST({r.i("keff", 45, k)} AS INTEGER)
                      + to_years(CAST(1 + {r.i("kyears", 3, k)} AS INTEGER)) - INTERVAL 1 DAY
                      AS DATE) END AS exp
          FROM w_b1
        )""",
    )
    _current_values(ctx)


def _current_values(ctx: Ctx) -> None:
    r = ctx.rnd
    k = "kno"
    unmapped_type = r.pick(ref.UNMAPPED_CONTRACT_TYPES, "utype", k)
    ctype_desc = (
        "(CASE ctype "
        + " ".join(f"WHEN {q(t)} THEN {q(d)}" for t, d in ref.CONTRACT_TYPES)
        + " END)"
    )
    joins = []
    for alias, domain, col in (
        ("ctype_codes", "ctype", "ctype"), ("cst_codes", "cstatus", "cst"),
        ("cst_new_codes", "cstatus", "cst_new"), ("ast_codes", "astatus", "ast"),
        ("ast_new_codes", "astatus", "ast_new"), ("cur_codes", "cur", "a_cur"),
        ("pt_codes", "pt", "a_pt"),
    ):  # fmt: skip
        joins.append(
            f"LEFT JOIN (SELECT scm, codes AS {alias} FROM w_code WHERE domain = '{domain}') "
            f"{alias}_t ON {alias}_t.scm = b.{col}"
        )
    codes = ", ".join(
        f"{a}_t.{a}" for a in ("ctype_codes", "cst_codes", "cst_new_codes", "ast_codes",
                               "ast_new_codes", "cur_codes", "pt_codes")
    )  # fmt: skip
    ctx.view("w_b3", f"SELECT b.*, {codes} FROM w_b2 b {' '.join(joins)}")
    ctx.table(
        "w_b_",
        f"""
        SELECT * EXCLUDE (ctype_codes, cst_codes, cst_new_codes, ast_codes, ast_new_codes,
                          cur_codes, pt_codes),
          {ctype_desc} || ' ' || CAST(year(eff) AS VARCHAR) || ' – ' || vname AS c_title,
          classification || ' purchase agreement ' || CAST(year(eff) AS VARCHAR) AS a_title,
          CASE WHEN c_new THEN c_created + to_minutes({r.i("cupd", 600, k)})
               WHEN changed THEN greatest(c_created, TIMESTAMP {q(LAST_SYNC)})
                                 + to_minutes({r.i("cupd2", 43_000, k)})
               ELSE least(c_created + to_minutes({r.i("cupd3", 500_000, k)}),
                          TIMESTAMP {q(LAST_SYNC)} - INTERVAL 1 DAY) END AS c_updated,
          CASE WHEN bkind = 'unmapped_contract_type' THEN {unmapped_type}
               ELSE {code_pick(r, "ctype_codes", "ctcode", k, 0.8)} END AS c_type_code,
          {code_pick(r, "cst_codes", "cscode", k, 0.6)} AS cst_code,
          cst_new_codes[1] AS cst_new_code,
          {code_pick(r, "ast_codes", "ascode", k, 0.7)} AS ast_code,
          ast_new_codes[1] AS ast_new_code,
          CASE WHEN bkind = 'unmapped_currency' THEN {r.pick(ref.UNMAPPED_CURRENCIES, "ucur", k)}
               ELSE {code_pick(r, "cur_codes", "acode", k, 0.8)} END AS a_cur_code,
          CASE WHEN bkind = 'unmapped_payment_terms'
               THEN {r.pick(ref.UNMAPPED_PAYMENT_TERMS, "upt", k)}
               ELSE {code_pick(r, "pt_codes", "ptcode", k, 0.75)} END AS a_pt_code
        FROM w_b3""",
    )
    # CLM ids in order of creation, computed on narrow rows and joined back.
    ctx.table(
        "w_ids",
        """SELECT kno,
             'K-' || lpad(CAST(row_number() OVER (ORDER BY c_created, kno) AS VARCHAR), 7, '0')
               AS kid,
             CASE WHEN is_pa THEN 'AGR-' || lpad(CAST(row_number() OVER (
               PARTITION BY is_pa ORDER BY a_created, kno) AS VARCHAR), 7, '0') END AS aid
           FROM w_b_""",
    )
    ctx.view("w_b", "SELECT * FROM w_b_ JOIN w_ids USING (kno)")


def build_lines(ctx: Ctx) -> None:
    r = ctx.rnd
    extra = f"CASE WHEN bkind IN {LINE_ADDED_KINDS} THEN 1 ELSE 0 END"
    key = ("kno", "line_no")
    ctx.view(
        "w_l0",
        f"""SELECT *, CASE WHEN is_extra AND bkind = 'product_not_released' THEN 'unrel'
                           ELSE 'rel' END AS pool
            FROM (SELECT kno, kid, aid, le, a_cur, eff, exp, a_created, bkind, target, t_line,
                         ch_eff, ch_exp, d_shift, d_ext, p_u, a_new, owner, n_lines, line_no,
                         line_no > n_lines AS is_extra
                  FROM (SELECT *, unnest(range(1, n_lines + 1 + {extra})) AS line_no
                        FROM w_b WHERE is_pa))""",
    )
    ctx.table(
        "w_pool",
        """SELECT 'rel' AS pool, * FROM w_release UNION ALL
           SELECT 'unrel' AS pool, * FROM w_unreleased""",
    )
    narrow = f"{r.u('lnarrow', *key)} < 0.15 AND l.exp IS NOT NULL"
    line_created = (
        f"CASE WHEN l.is_extra THEN TIMESTAMP {q(LAST_SYNC)} + "
        f"to_minutes({r.i('lcr', 43_000, *key)}) ELSE l.a_created END"
    )
    ctx.view(
        "w_l1",
        f"""
        SELECT l.*, p.item, p.name AS pname, p.unit, p.category, c.decimals,
          CAST(round(p.base_usd * c.factor * (0.85 + 0.2 * {r.u("lprice", *key)}), c.decimals)
               AS DECIMAL(18, 2)) AS price,
          CAST(10 * (1 + {r.i("lqty", 1000, *key)}) AS VARCHAR) AS qty,
          CASE WHEN {narrow} THEN l.eff + 30 ELSE l.eff END AS l_eff,
          CASE WHEN {narrow} THEN CAST(l.exp - INTERVAL 30 DAY AS DATE) ELSE l.exp END AS l_exp,
          (SELECT codes FROM w_code WHERE domain = 'unit' AND scm = p.unit) AS unit_codes,
          s.site, replace(s.site, '-S', '-W') || CAST(1 + {r.i("lwh", 2, *key)} AS VARCHAR)
            AS warehouse,
          {line_created} AS l_created
        FROM (SELECT l.*, {r.i("lprod", "pn.n", *key)} AS prod_idx,
                     {r.i("lsite", "sn.n", *key)} AS site_idx
              FROM w_l0 l
              JOIN (SELECT DISTINCT le, pool, n FROM w_pool) pn USING (le, pool)
              JOIN (SELECT le, count(*) AS n FROM w_site GROUP BY le) sn USING (le)) l
        JOIN w_pool p ON p.le = l.le AND p.pool = l.pool AND p.idx = l.prod_idx
        JOIN w_currency c ON c.code = l.a_cur
        JOIN w_site s ON s.le = l.le AND s.s = l.site_idx""",
    )
    ctx.table(
        "w_l",
        f"""
        SELECT *, 'AGL-' || lpad(CAST(row_number() OVER (ORDER BY l_created, kno, line_no)
                                     AS VARCHAR), 8, '0') AS lid,
          CASE WHEN l_changed THEN greatest(l_created, TIMESTAMP {q(LAST_SYNC)})
                                   + to_minutes({r.i("lupd", 43_000, *key)})
               WHEN a_new THEN l_created + to_minutes({r.i("lupd3", 600, *key)})
               ELSE least(l_created + to_minutes({r.i("lupd2", 500_000, *key)}),
                          greatest(l_created, TIMESTAMP {q(LAST_SYNC)} - INTERVAL 1 DAY)) END
            AS l_updated,
          CASE WHEN is_extra AND bkind = 'unmapped_unit'
               THEN {r.pick(ref.UNMAPPED_UNITS, "uunit", *key)}
               ELSE {code_pick(r, "unit_codes", "lunit", "kno * 32 + line_no", 0.85)}
               END AS unit_code
        FROM (SELECT *, is_extra OR (line_no = t_line AND (bkind IN ('amended_price',
                          'line_removed') OR (bkind = 'amended_dates' AND target = 'line')))
                        AS l_changed
              FROM w_l1)""",
    )
