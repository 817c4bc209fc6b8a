"""SQL building blocks shared by the store, OData, validation and packages.

Everything here turns catalog metadata into SQL text: quoted identifiers, column types, the
expressions that render a stored value the way SCM shows it (OData JSON, package CSV) and the
expressions that read a value SCM would accept (ISO 8601 or en-US dates, enum member names in
any case). Values never enter SQL text through these helpers: they work on column names only.

Storage follows SCM's own model: text is never NULL (blank is ``''``), numbers are never NULL
(blank is 0), an enum always holds a member (a new record gets the enum's first member, SCM's
value 0) and a blank date or date-time is NULL, shown as 1900-01-01.
"""

from __future__ import annotations

from collections.abc import Sequence

from connectors import catalog
from connectors.catalog import Entity, Field

SQL_TYPES: dict[str, str] = {
    "string": "VARCHAR",
    "enum": "VARCHAR",
    "int": "BIGINT",
    "decimal": "DECIMAL(32,6)",
    "date": "DATE",
    "datetime": "TIMESTAMP",
}

# Enum defaults that differ from SCM's value 0: a data project entity without an explicit
# refresh type follows change tracking (incremental), it is not forced to a full push; an
# agreement created through the CLM integration entity is owned by the CLM.
ENUM_DEFAULTS: dict[tuple[str, str], str] = {
    ("DataManagementDefinitionGroupDetails", "DefaultRefreshType"): "IncrementalPush",
    ("CLMIntegrationPurchaseAgreements", "AgreementOwnership"): "CLM",
}

_US_DATETIME = "%-m/%-d/%Y %-I:%M:%S %p"
_US_PARSE = ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y")
BLANK_US = "1/1/1900 12:00:00 AM"


def ident(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def table(entity: Entity) -> str:
    """The store table of an SCM entity, e.g. ``scm."VendorsV2"``."""
    return f"scm.{ident(entity.name)}"


def quote_literal(text: str) -> str:
    """A SQL string literal. Only for values the emulator itself produced or validated."""
    return "'" + text.replace("'", "''") + "'"


def col(name: str, alias: str = "") -> str:
    return f"{alias}.{ident(name)}" if alias else ident(name)


def key_expr(fields: Sequence[str], alias: str = "") -> str:
    """The lowercase key string of ``fields`` over typed columns (unit separator between)."""
    parts = ", ".join(f"coalesce(CAST({col(f, alias)} AS VARCHAR), '')" for f in fields)
    return f"lower(concat_ws(chr(31), {parts}))"


def enum_default(entity: Entity, field: Field) -> str | None:
    if field.type != "enum":
        return None
    return ENUM_DEFAULTS.get((entity.name, field.name), field.members[0])


def normalized(entity: Entity, field: Field, expr: str) -> str:
    """``expr`` with SCM's blank conventions applied (see the module docstring)."""
    if field.type == "string":
        return f"coalesce({expr}, '')"
    if field.type in ("int", "decimal"):
        return f"coalesce({expr}, 0)"
    if field.type == "enum":
        default = enum_default(entity, field)
        return f"coalesce({expr}, {quote_literal(default)})" if default else expr
    # A stored 1900-01-01 is SCM's blank: keep blanks as NULL so they compare as one value.
    blank = "DATE '1900-01-01'" if field.type == "date" else "TIMESTAMP '1900-01-01 00:00:00'"
    return f"nullif({expr}, {blank})"


def json_expr(field: Field, alias: str = "") -> str:
    """A stored value as OData JSON shows it (dates as ISO text, decimals as numbers)."""
    c = col(field.name, alias)
    if field.type == "decimal":
        return f"CAST(coalesce({c}, 0) AS DOUBLE)"
    if field.type == "int":
        return f"coalesce({c}, 0)"
    if field.type == "string":
        return f"coalesce({c}, '')"
    if field.type == "date":
        return f"coalesce(strftime({c}, '%Y-%m-%dT12:00:00Z'), '{catalog.BLANK_DATE}')"
    if field.type == "datetime":
        return f"coalesce(strftime({c}, '%Y-%m-%dT%H:%M:%SZ'), '{catalog.BLANK_DATETIME}')"
    return c


def csv_expr(field: Field, alias: str = "") -> str:
    """A stored value as a CSV-Unicode package shows it (text; en-US dates; plain decimals)."""
    c = col(field.name, alias)
    if field.type == "decimal":
        return f"rtrim(rtrim(CAST(coalesce({c}, 0) AS VARCHAR), '0'), '.')"
    if field.type == "int":
        return f"CAST(coalesce({c}, 0) AS VARCHAR)"
    if field.type in ("date", "datetime"):
        return f"coalesce(strftime(CAST({c} AS TIMESTAMP), '{_US_DATETIME}'), '{BLANK_US}')"
    return f"coalesce({c}, '')"


def etag_expr(alias: str = "") -> str:
    """The weak ETag of a row: base64 of ``<recid>,<version>``."""
    recid, version = col("_recid", alias), col("_version", alias)
    pair = f"CAST({recid} AS VARCHAR) || ',' || CAST({version} AS VARCHAR)"
    return f"'W/\"' || to_base64(encode({pair})) || '\"'"


def typed_expr(field: Field, raw: str) -> str:
    """Read the text ``raw`` as a value of ``field``; NULL when blank or not readable.

    Accepts what SCM accepts from OData and from packages: ISO 8601 and en-US dates, enum member
    names in any case, plain decimals. :func:`type_error_expr` tells blank from unreadable.
    """
    blank = f"nullif(trim({raw}), '')"
    if field.type == "string":
        return raw
    if field.type == "enum":
        whens = " ".join(
            f"WHEN {quote_literal(m.lower())} THEN {quote_literal(m)}" for m in field.members
        )
        return f"CASE lower(trim({raw})) {whens} END"
    if field.type == "int":
        return f"TRY_CAST({blank} AS BIGINT)"
    if field.type == "decimal":
        return f"TRY_CAST({blank} AS DECIMAL(32,6))"
    formats = "[" + ", ".join(quote_literal(f) for f in _US_PARSE) + "]"
    us = f"try_strptime({blank}, {formats})"
    if field.type == "date":
        iso = (
            f"CASE WHEN regexp_matches({blank}, '^\\d{{4}}-\\d{{2}}-\\d{{2}}') "
            f"THEN TRY_CAST(left({blank}, 10) AS DATE) END"
        )
        return f"coalesce({iso}, CAST({us} AS DATE))"
    iso_ts = f"CAST(TRY_CAST({blank} AS TIMESTAMPTZ) AS TIMESTAMP)"
    return f"coalesce({iso_ts}, {us})"


def type_error_expr(field: Field, raw: str) -> str | None:
    """A condition that is true when ``raw`` is not blank but cannot be read (None: never)."""
    if field.type == "string":
        return None
    return f"(nullif(trim({raw}), '') IS NOT NULL AND ({typed_expr(field, raw)}) IS NULL)"


def create_table_sql(entity: Entity) -> str:
    """The table of an entity: its fields, then four hidden columns.

    ``_recid`` (record id, never reused), ``_version`` (change-tracking version), and ``_key`` /
    ``_nkey``, the lowercase key and natural-key strings that make lookups case-insensitive (as
    SCM's SQL Server collation is) without lowering a million values on every lookup.
    """
    cols = [f"{ident(f.name)} {SQL_TYPES[f.type]}" for f in entity.fields]
    cols += ["_recid BIGINT", "_version BIGINT", "_key VARCHAR", "_nkey VARCHAR"]
    return f"CREATE TABLE {table(entity)} ({', '.join(cols)})"


def nkey_sql(entity: Entity, alias: str = "") -> str:
    """The natural-key string expression, or NULL for entities without a natural key."""
    return key_expr(entity.natural_key, alias) if entity.natural_key else "CAST(NULL AS VARCHAR)"
