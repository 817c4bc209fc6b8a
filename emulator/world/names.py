"""SQL for vendor names and the variants a counterparty may carry instead.

Cores are unique per legal entity: the vendor's index within its legal entity goes through a
bijection ``(index * 1000003 + offset) mod capacity`` (1000003 is a prime larger than any factor
of a capacity) and the result is split into the three word slots. Name variants of
``counterparty_linked_by_name`` change only what a good matcher normalises away or forgives:

``legal_form``      GmbH → Gesellschaft mit beschränkter Haftung, Ltd → Limited, 株式会社 → (株)
``punctuation``     punctuation removed, or a comma (a space in CJK names) added
``typo``            the middle character of the industry word dropped (Latin scripts)
``dropped_word``    the filler dropped, or the legal form when there is no filler
``word_order``      the surname or place moved behind the industry words (Latin scripts)
``accents_stripped`` Müller → Muller (Latin scripts with accents)

A variant that does not apply to a name falls back to ``legal_form``, which always does.
"""

from __future__ import annotations

from emulator.world import words
from emulator.world.sqlkit import Rand, lst, q

MULT = 1000003
STYLES = ("en", "gb", "de", "jp", "cn")
VARIANTS = ("legal_form", "punctuation", "typo", "dropped_word", "word_order", "accents_stripped")


def _offset(seed: int, k: int, capacity: int) -> int:
    return (seed * 2654435761 + (k + 1) * 40503) % capacity


def _case(exprs: dict[str, str], col: str = "style") -> str:
    whens = " ".join(f"WHEN {q(s)} THEN {e}" for s, e in exprs.items())
    return f"(CASE {col} {whens} END)"


def name_parts(rnd: Rand) -> str:
    """SELECT list (over a row with ``vid``, ``style``, ``le_idx``) adding the name columns.

    Adds ``wa``, ``wb``, ``wc`` (slot words), ``core``, ``filler``, ``form``, ``form_alt``,
    ``form_prefix`` and ``vname``.
    """
    cap = {s: words.capacity(s) for s in STYLES}
    perm = _case(
        {
            s: f"((le_idx % {cap[s]}) * {MULT} + {_offset(rnd.seed, i, cap[s])}) % {cap[s]}"
            for i, s in enumerate(STYLES)
        }
    )
    branch = _case({s: f"le_idx // {cap[s]}" for s in STYLES})
    slot = {}
    for n, name in enumerate(("wa", "wb", "wc")):
        exprs = {}
        for s in STYLES:
            a, b, c = words.SLOTS[s]
            sizes = (len(a), len(b), len(c))
            div = 1 if n == 0 else sizes[0] if n == 1 else sizes[0] * sizes[1]
            exprs[s] = f"{lst(words.SLOTS[s][n])}[(perm // {div}) % {sizes[n]} + 1]"
        slot[name] = _case(exprs)
    forms = {s: [f for f, _ in words.LEGAL_FORMS[s]] for s in STYLES}
    form_i = _case({s: rnd.i("form", len(forms[s]), "vid") for s in STYLES})
    form = _case({s: f"{lst(forms[s])}[form_i + 1]" for s in STYLES})
    alt = {}
    for s in STYLES:
        alts = [list(a) for _, a in words.LEGAL_FORMS[s]]
        width = max(len(a) for a in alts)
        # Each form's alternatives, padded by repeating so a uniform pick works for every form.
        padded = [(a * width)[:width] for a in alts]
        flat = [x for a in padded for x in a]
        alt[s] = f"{lst(flat)}[form_i * {width} + {rnd.i('form_alt', width, 'vid')} + 1]"
    u_fill = rnd.u("filler", "vid")
    filler = _case(
        {
            s: f"CASE WHEN {u_fill} < 0.03 THEN {rnd.pick(words.LONG_FILLERS[s], 'lfill', 'vid')}"
            f" WHEN {u_fill} < 0.28 THEN {rnd.pick(words.FILLERS[s], 'sfill', 'vid')}"
            " ELSE '' END"
            for s in STYLES
        }
    )
    core = (
        "(CASE style WHEN 'de' THEN wa || ' ' || wb || wc WHEN 'jp' THEN wa || wb || wc "
        "WHEN 'cn' THEN wa || wb || wc ELSE wa || ' ' || wb || ' ' || wc END"
        " || CASE WHEN branch > 0 THEN ' ' || CAST(branch + 1 AS VARCHAR) ELSE '' END)"
    )
    return f"""
    SELECT *, {compose("core", "filler", "form")} AS vname
    FROM (
      SELECT *, {core} AS core, {filler} AS filler, {form} AS form,
             {_case(alt)} AS form_alt, style = 'jp' AND {rnd.u("jpform", "vid")} < 0.5
             AS form_prefix
      FROM (
        SELECT *, {slot["wa"]} AS wa, {slot["wb"]} AS wb, {slot["wc"]} AS wc, {form_i} AS form_i
        FROM (SELECT *, {perm} AS perm, {branch} AS branch FROM __SOURCE__)
      )
    )
    """


def compose(core: str, filler: str, form: str) -> str:
    """A full name from SQL expressions for its core, filler and legal form."""
    return (
        f"(CASE WHEN form_prefix THEN {form} || {core} || {filler} "
        f"ELSE {core} || {filler} || {form} END)"
    )


def variant(rnd: Rand) -> str:
    """SELECT list adding ``variant_kind`` and ``variant_name`` (a name-linked counterparty's)."""
    latin = "style IN ('en', 'gb', 'de')"
    punct = "regexp_matches(vname, '[.,''\"]')"
    chosen = rnd.pick(VARIANTS, "variant", "vid")
    kind = f"""(CASE
        WHEN k IN ('typo', 'word_order') AND NOT {latin} THEN 'legal_form'
        WHEN k = 'accents_stripped' AND (NOT {latin} OR strip_accents(vname) = vname)
          THEN 'legal_form'
        ELSE k END)"""
    typo_word = "(CASE style WHEN 'de' THEN wb || wc ELSE wc END)"
    mid = f"(length({typo_word}) // 2)"
    typo = f"(substr({typo_word}, 1, {mid}) || substr({typo_word}, {mid} + 2))"
    typo_core = (
        f"(CASE style WHEN 'de' THEN wa || ' ' || {typo} ELSE wa || ' ' || wb || ' ' || {typo} END"
        " || CASE WHEN branch > 0 THEN ' ' || CAST(branch + 1 AS VARCHAR) ELSE '' END)"
    )
    swapped = (
        "(CASE style WHEN 'de' THEN wb || wc || ' ' || wa ELSE wb || ' ' || wc || ' ' || wa END"
        " || CASE WHEN branch > 0 THEN ' ' || CAST(branch + 1 AS VARCHAR) ELSE '' END)"
    )
    no_punct = "trim(regexp_replace(regexp_replace(vname, '[.,''\"]', '', 'g'), '\\s+', ' ', 'g'))"
    spaced = compose("(wa || ' ' || substr(core, length(wa) + 1))", "filler", "form")
    comma = compose("core", "filler", "(',' || form)")
    add_punct = f"(CASE WHEN style IN ('jp', 'cn') THEN {spaced} ELSE {comma} END)"
    return f"""
    SELECT *, CASE variant_kind
        WHEN 'legal_form' THEN {compose("core", "filler", "form_alt")}
        WHEN 'punctuation' THEN CASE WHEN {punct} THEN {no_punct} ELSE {add_punct} END
        WHEN 'typo' THEN {compose(typo_core, "filler", "form")}
        WHEN 'dropped_word' THEN CASE WHEN filler <> '' THEN {compose("core", "''", "form")}
                                      ELSE {compose("core", "filler", "''")} END
        WHEN 'word_order' THEN {compose(swapped, "filler", "form")}
        ELSE strip_accents(vname) END AS variant_name
    FROM (SELECT *, {kind} AS variant_kind FROM (SELECT *, {chosen} AS k FROM __SOURCE__))
    """


def old_name(rnd: Rand, prefix: str = "") -> str:
    """SQL for a vendor's former name, as a stale CLM copy still holds it."""
    word = rnd.pick(words.UNLINKED_A, "oldname", f"{prefix}vid")
    return f"({word} || ' ' || {prefix}wc || {prefix}form)"


def unlinked_name(rnd: Rand, key: str) -> str:
    """SQL for the name of a counterparty that matches no vendor."""
    return (
        f"({rnd.pick(words.UNLINKED_A, 'ula', key)} || ' ' || "
        f"{rnd.pick(words.UNLINKED_B, 'ulb', key)} || {rnd.pick(words.UNLINKED_FORMS, 'ulf', key)})"
    )
