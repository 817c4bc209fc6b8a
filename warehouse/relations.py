"""The source relations: ``raw_*`` and ``current_*`` tables derived from the catalog.

Every SCM entity clmsync extracts and every CLM object has a raw table (append-only, one row per
landed source row, all text plus lineage) and a current table (one row per key). Both have the same
columns: the catalog's fields as VARCHAR in catalog order, then the lineage columns. Landing, the
current-state refresh, the key snapshots and the model runner all derive names, columns and keys
from here so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import duckdb

from connectors import catalog
from warehouse.db import quote_ident, transaction

Source = Literal["scm", "clm"]

# ``_load_id`` (last) is the landing's sequence number: it orders landings that share an
# extraction time and lets the current-state refresh find exactly the rows of a landing.
SCM_LINEAGE: tuple[tuple[str, str], ...] = (
    ("_run_id", "VARCHAR"),
    ("_execution_id", "VARCHAR"),
    ("_extracted_at", "TIMESTAMPTZ"),
    ("_source_file", "VARCHAR"),
    ("_row_number", "BIGINT"),
    ("_load_id", "BIGINT"),
)
CLM_LINEAGE: tuple[tuple[str, str], ...] = (
    ("_run_id", "VARCHAR"),
    ("_cursor", "VARCHAR"),
    ("_extracted_at", "TIMESTAMPTZ"),
    ("_source_file", "VARCHAR"),
    ("_row_number", "BIGINT"),
    ("_load_id", "BIGINT"),
)

# Field types whose text landing checks, per source.
CHECKED_TYPES = frozenset({"int", "decimal", "date", "datetime", "bool", "object"})
_NUMERIC = frozenset({"int", "decimal"})


@dataclass(frozen=True)
class SourceTable:
    """One source relation pair as the warehouse sees it."""

    source: Source
    name: str  # SCM entity set name (VendorsV2) or CLM object name (contract)
    table: str  # relation stem: raw_scm.<table>, current_scm.<table>
    fields: tuple[str, ...]
    types: tuple[str, ...]  # catalog type of each field, same order
    keys: tuple[str, ...]
    company_field: str | None

    @property
    def raw_schema(self) -> str:
        return f"raw_{self.source}"

    @property
    def current_schema(self) -> str:
        return f"current_{self.source}"

    @property
    def raw(self) -> str:
        """The raw relation, quoted: ``"raw_scm"."vendors"``."""
        return f"{quote_ident(self.raw_schema)}.{quote_ident(self.table)}"

    @property
    def current(self) -> str:
        return f"{quote_ident(self.current_schema)}.{quote_ident(self.table)}"

    @property
    def relation_name(self) -> str:
        """The raw relation, unquoted, as ``ops`` tables name it."""
        return f"{self.raw_schema}.{self.table}"

    @property
    def lineage(self) -> tuple[tuple[str, str], ...]:
        return SCM_LINEAGE if self.source == "scm" else CLM_LINEAGE

    @property
    def batch_column(self) -> str:
        """The lineage column naming the batch: the execution id (SCM) or the cursor (CLM)."""
        return "_execution_id" if self.source == "scm" else "_cursor"

    @property
    def columns(self) -> tuple[str, ...]:
        return self.fields + tuple(name for name, _ in self.lineage)

    def type_of(self, field: str) -> str:
        return self.types[self.fields.index(field)]

    def key_expr(self, field: str, col: str | None = None) -> str:
        """The comparable form of key ``field`` (read from SQL ``col``, default the column of
        that name): numbers canonical (``1`` for ``1.000000``), so one record spelled two ways by
        two sources is still one key; text as it is."""
        col = col or quote_ident(field)
        if self.type_of(field) in _NUMERIC:
            return (
                f"regexp_replace(CAST(TRY_CAST(trim({col}) AS DECIMAL(38,10)) AS VARCHAR), "
                r"'\.?0+$', '')"
            )
        return col

    def key_match(self, left: str, right: str) -> str:
        """``left`` and ``right`` (aliases of relations holding comparable keys) are one key."""
        return " AND ".join(
            f"{left}.{quote_ident(k)} = {right}.{quote_ident(k)}" for k in self.keys
        )

    def key_list(self, alias: str) -> str:
        """The comparable key as a VARCHAR list (how ``ops.tombstones`` stores it)."""
        return "[" + ", ".join(f"{alias}.{quote_ident(k)}" for k in self.keys) + "]"

    def record_key(self, alias: str) -> str:
        """The record key convention: non-company key values joined with ``|``."""
        parts = [f"{alias}.{quote_ident(k)}" for k in self.keys if k != self.company_field]
        return "concat_ws('|', " + ", ".join(parts) + ")"


def scm(entity: str | catalog.Entity) -> SourceTable:
    """The source tables of an SCM entity (by OData set name, case-insensitive)."""
    ent = catalog.entity(entity) if isinstance(entity, str) else entity
    return SourceTable(
        source="scm",
        name=ent.name,
        table=ent.table,
        fields=ent.field_names,
        types=tuple(f.type for f in ent.fields),
        keys=ent.keys,
        company_field=ent.company_field,
    )


def clm(obj: str | catalog.ClmObject) -> SourceTable:
    """The source tables of a CLM object (by object or collection name)."""
    o = catalog.clm_object(obj) if isinstance(obj, str) else obj
    return SourceTable(
        source="clm",
        name=o.name,
        table=o.table,
        fields=o.field_names,
        types=tuple(f.type for f in o.fields),
        keys=(o.id_field,),
        company_field=None,
    )


def source_table(source: Source, name: str) -> SourceTable:
    return scm(name) if source == "scm" else clm(name)


def all_source_tables() -> tuple[SourceTable, ...]:
    """Every SCM entity clmsync extracts and every CLM object."""
    return tuple(scm(e) for e in catalog.synced_entities()) + tuple(
        clm(o) for o in catalog.CLM_OBJECTS
    )


def source_relation_names() -> set[str]:
    """Lowercase ``schema.table`` of every raw and current relation (for model references)."""
    names: set[str] = set()
    for t in all_source_tables():
        names.add(f"{t.raw_schema}.{t.table}")
        names.add(f"{t.current_schema}.{t.table}")
    return names


def ensure_tables(con: duckdb.DuckDBPyConnection, tables: Sequence[SourceTable]) -> None:
    """Create missing raw and current tables, and add catalog fields a table lacks.

    A field added to the catalog later is appended to the existing tables (at the end, since
    DuckDB cannot insert a column in the middle); old rows hold NULL in it. Call it outside a
    transaction: the changes, if any, are made in one of their own.
    """
    existing: dict[tuple[str, str], set[str]] = {}
    for schema, table, column in con.execute(
        "SELECT schema_name, table_name, column_name FROM duckdb_columns() "
        "WHERE schema_name IN ('raw_scm', 'raw_clm', 'current_scm', 'current_clm')"
    ).fetchall():
        existing.setdefault((schema, table), set()).add(column)
    ddl: list[str] = []
    for t in tables:
        wanted = [(f, "VARCHAR") for f in t.fields] + list(t.lineage)
        for schema in (t.raw_schema, t.current_schema):
            have = existing.get((schema, t.table))
            target = f"{quote_ident(schema)}.{quote_ident(t.table)}"
            if have is None:
                cols = ", ".join(f"{quote_ident(n)} {typ}" for n, typ in wanted)
                ddl.append(f"CREATE TABLE IF NOT EXISTS {target} ({cols})")
                continue
            ddl.extend(
                f"ALTER TABLE {target} ADD COLUMN {quote_ident(name)} {typ}"
                for name, typ in wanted
                if name not in have
            )
    if ddl:
        with transaction(con):
            con.execute(";\n".join(ddl))


def ensure_all(con: duckdb.DuckDBPyConnection) -> None:
    """Create every source relation, so models reading them bind even before a first extract."""
    ensure_tables(con, all_source_tables())
