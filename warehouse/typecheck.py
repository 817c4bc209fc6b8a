"""What counts as valid text for a catalog field type, as SQL over a row's VARCHAR columns.

Landing uses it to decide which rows go to the quarantine and why: every problem of a row is
named with its field and value (``EffectiveDate: '2/30/2025 12:00:00 AM' is not a date ...``).
Dates and date-times are accepted in SCM's package format (en-US ``M/D/YYYY h:mm:ss AM``, or the
date alone) and in ISO 8601 (OData, the CLM); numbers with a ``.`` decimal separator and no
thousands separator; empty text is NULL, never an error, except in a key.
"""

from __future__ import annotations

from warehouse.db import quote_ident, quote_literal
from warehouse.relations import SourceTable

EN_US_FORMATS = ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y")


def problems_sql(table: SourceTable) -> str:
    """SQL giving, for one row of ``table``'s text columns, its problems joined with ``; ``,
    or NULL when it has none."""
    checks = [_key_check(k) for k in table.keys]
    for name, typ in zip(table.fields, table.types, strict=True):
        check = _type_check(name, typ)
        if check:
            checks.append(check)
    return f"nullif(concat_ws('; ', {', '.join(checks)}), '')"


def _shown(col: str) -> str:
    # The offending value, quoted and cut to a readable length, for the quarantine reason.
    return f"'''' || left({col}, 100) || ''''"


def _key_check(field: str) -> str:
    col = quote_ident(field)
    reason = quote_literal(f"{field}: key is empty")
    return f"CASE WHEN nullif(trim({col}), '') IS NULL THEN {reason} END"


def _type_check(field: str, typ: str) -> str | None:
    """SQL giving a reason when ``field``'s text does not parse as ``typ``, else NULL."""
    col = quote_ident(field)
    value = f"trim({col})"
    present = f"nullif({value}, '') IS NOT NULL"
    label = quote_literal(f"{field}: ")
    if typ == "int":
        bad = (
            f"(NOT regexp_full_match({value}, '[+-]?[0-9]+') "
            f"OR TRY_CAST({value} AS BIGINT) IS NULL)"
        )
        what = "is not an integer"
    elif typ == "decimal":
        # A '.' decimal separator and no thousands separator, as packages and JSON write them.
        bad = f"TRY_CAST({value} AS DECIMAL(38,10)) IS NULL"
        what = "is not a decimal number"
    elif typ in ("date", "datetime"):
        formats = "[" + ", ".join(quote_literal(f) for f in EN_US_FORMATS) + "]"
        bad = (
            f"try_strptime({value}, {formats}) IS NULL AND TRY_CAST({value} AS TIMESTAMPTZ) IS NULL"
        )
        what = f"is not a {typ} (M/D/YYYY h:mm:ss AM or ISO 8601)"
    elif typ == "bool":
        bad = f"TRY_CAST({value} AS BOOLEAN) IS NULL"
        what = "is not a boolean"
    elif typ == "object":
        bad = f"NOT json_valid({col})"
        what = "is not valid JSON"
    else:
        return None
    return f"CASE WHEN {present} AND {bad} THEN {label} || {_shown(col)} || ' {what}' END"
