"""SQL for the harmless differences (noise) the world puts on clean objects.

Each transformation changes the text a CLM holds without changing what it means: a correct
reconciliation compares after trimming and collapsing whitespace, case-folding codes and names,
normalising Unicode to NFC, comparing decimals as numbers and dates as dates. When a
transformation cannot change a value (upper-casing a Chinese name, decomposing a name without
accents) the next one in ``FALLBACK`` is used, so every listed noise entry is a real difference.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from emulator.world import places, reference, words
from emulator.world.sqlkit import q

NOISE_CASE = "noise_case"
NOISE_WHITESPACE = "noise_whitespace"
NOISE_UNICODE = "noise_unicode_normalization"
NOISE_DECIMAL = "noise_decimal_scale"
NOISE_MIDNIGHT = "noise_midnight_datetime"


def _decomposable(*modules: object) -> list[str]:
    chars: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, str):
            chars.update(c for c in value if unicodedata.normalize("NFD", c) != c)
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(k)
                walk(v)
        elif isinstance(value, Iterable):
            for v in value:
                walk(v)

    for module in modules:
        for name, value in vars(module).items():
            if name.isupper():
                walk(value)
    return sorted(chars)


DECOMPOSABLE = _decomposable(words, places, reference)


def nfd_macro_sql() -> str:
    """``CREATE MACRO w_nfd(s)``: NFD of text built from the world's word lists."""
    expr = "s"
    for ch in DECOMPOSABLE:
        expr = f"replace({expr}, {q(ch)}, {q(unicodedata.normalize('NFD', ch))})"
    return f"CREATE OR REPLACE TEMP MACRO w_nfd(s) AS {expr}"


def case_sql(x: str) -> str:
    """Upper case (lower case when it holds ß, or when it is upper case already)."""
    return f"(CASE WHEN {x} LIKE '%ß%' OR upper({x}) = {x} THEN lower({x}) ELSE upper({x}) END)"


def whitespace_sql(x: str) -> str:
    """A leading and a trailing space, and every space doubled."""
    return f"(' ' || replace({x}, ' ', '  ') || ' ')"


def noisy(x: str, wanted: str) -> tuple[str, str]:
    """SQL for (the noisy text, the noise kind actually applied) given the wanted kind."""
    nfd, case = f"w_nfd({x})", case_sql(x)
    value = f"""(CASE
        WHEN {wanted} = {q(NOISE_UNICODE)} AND {nfd} <> {x} THEN {nfd}
        WHEN {wanted} IN ({q(NOISE_UNICODE)}, {q(NOISE_CASE)}) AND {case} <> {x} THEN {case}
        ELSE {whitespace_sql(x)} END)"""
    kind = f"""(CASE
        WHEN {wanted} = {q(NOISE_UNICODE)} AND {nfd} <> {x} THEN {q(NOISE_UNICODE)}
        WHEN {wanted} IN ({q(NOISE_UNICODE)}, {q(NOISE_CASE)}) AND {case} <> {x}
          THEN {q(NOISE_CASE)}
        ELSE {q(NOISE_WHITESPACE)} END)"""
    return value, kind


def decimal_text_sql(x: str) -> str:
    """Canonical text of a DECIMAL: no trailing zeros, no trailing point (12.50 → 12.5)."""
    return (
        f"(CASE WHEN contains(CAST({x} AS VARCHAR), '.') THEN rtrim(rtrim(CAST({x} AS VARCHAR),"
        f" '0'), '.') ELSE CAST({x} AS VARCHAR) END)"
    )


def padded_decimal_sql(text: str) -> str:
    """The same number with a trailing zero more (12.5 → 12.50, 12 → 12.00)."""
    return f"(CASE WHEN contains({text}, '.') THEN {text} || '0' ELSE {text} || '.00' END)"


def midnight_sql(date_text: str) -> str:
    """A date sent as a date-time at midnight UTC (2025-03-01 → 2025-03-01T00:00:00Z)."""
    return f"({date_text} || 'T00:00:00Z')"
