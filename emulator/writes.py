"""One write path for OData and package imports: stage, type, resolve, validate, apply.

A write starts from a relation ``source`` with ``_row`` and one VARCHAR column per provided
field (an OData body is one row, a package file many). Then, all in SQL on the writer cursor
inside the caller's transaction:

1. typing: text → typed values; unreadable values are *staging* errors (row dropped);
2. matching: each row finds the record it updates (``_target``) or will be new;
3. merging: a row's missing fields come from the record it updates, or SCM's defaults;
4. resolution: keys SCM fills in on create (number sequences for ContractId,
   PurchaseAgreementId and vendor accounts; a line's agreement from its ExternalContractId and
   its next LineNumber; an agreement's ContractId from its contract's ExternalContractId);
5. validation (:mod:`emulator.rules`): *target* errors, row dropped;
6. apply: updates get a new ``_version``, inserts a new record id and ``_version``.

Nothing here loops over rows in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import duckdb

from connectors import catalog
from connectors.catalog import Entity
from emulator import sql
from emulator.rules import RowError, validate

Mode = Literal["create", "update", "upsert"]

_VENDOR_PREFIX = (
    "upper(coalesce((SELECT nullif(l.\"AddressCountryRegionISOCode\", '') FROM "
    "scm.\"LegalEntities\" l WHERE l._key = g.company LIMIT 1), left(g.company, 2))) || '-V'"
)
# entity → (generated key field, SQL prefix over g.company); numbers have 7 digits.
NUMBER_SEQUENCES: dict[str, tuple[str, str]] = {
    "CLMIntegrationContracts": ("ContractId", "'C'"),
    "CLMIntegrationPurchaseAgreements": ("PurchaseAgreementId", "'PA'"),
    "VendorsV2": ("VendorAccountNumber", _VENDOR_PREFIX),
}
_TEMP = ("w_rows", "w_num", "w_ln")


@dataclass
class WriteOutcome:
    """Per-row result of one write: errors, and the record ids created or updated by ``_row``."""

    errors: list[RowError] = field(default_factory=list)
    staged: int = 0
    created: dict[int, int] = field(default_factory=dict)
    updated: dict[int, int] = field(default_factory=dict)


def _drop(con: duckdb.DuckDBPyConnection) -> None:
    for name in _TEMP:
        con.execute(f"DROP TABLE IF EXISTS {name}")


def write(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    source: str,
    provided: Sequence[str],
    *,
    mode: Mode,
    company: str,
    clm_app: bool,
    target: int | None = None,
) -> WriteOutcome:
    """Write the rows of ``source`` into ``entity``; valid rows are applied, others reported."""
    outcome = WriteOutcome()
    _drop(con)
    try:
        outcome.errors += _stage(con, entity, source, provided)
        bad = {e.row for e in outcome.errors}
        total = con.execute(f"SELECT count(*) FROM {source}").fetchall()[0][0]
        outcome.staged = int(total) - len(bad)
        _merge(con, entity, source, provided, company, mode, target, sorted(bad))
        _resolve(con, entity, mode)
        con.execute(
            f"UPDATE w_rows SET _key = {sql.key_expr(entity.keys)}, _nkey = {sql.nkey_sql(entity)}"
        )
        if mode == "update" and set(entity.keys) & set(provided):
            outcome.errors += _key_changes(con, entity)
        outcome.errors += validate(con, entity, provided, clm_app=clm_app)
        failed = sorted({e.row for e in outcome.errors} - bad)
        if failed:
            con.execute("DELETE FROM w_rows WHERE _row IN (SELECT unnest(?))", [failed])
        if entity.name == "DataManagementDefinitionGroupDetails":
            # Enabling a disabled project entity again restarts its change tracking.
            con.execute(
                f"DELETE FROM emu.watermarks WHERE detail IN (SELECT r._target FROM w_rows r "
                f"JOIN {sql.table(entity)} t ON t._recid = r._target "
                "WHERE t.\"Disable\" = 'Yes' AND r.\"Disable\" = 'No')"
            )
        _apply(con, entity, outcome, mode, provided)
        return outcome
    finally:
        _drop(con)


_KINDS = {"enum": "value of the enum {enum}", "date": "date", "datetime": "date and time"}


def _stage(
    con: duckdb.DuckDBPyConnection, entity: Entity, source: str, provided: Sequence[str]
) -> list[RowError]:
    """Staging errors: provided values that cannot be read as their field's type."""
    checks = []
    for name in provided:
        f = entity.field(name)
        check = sql.type_error_expr(f, sql.col(name, "s"))
        if check is not None:
            checks.append(
                (f, f"SELECT s._row, s.{sql.ident(name)} AS v FROM {source} s WHERE {check}")
            )
    if not checks:
        return []
    union = " UNION ALL ".join(f"SELECT {i} AS q, * FROM ({q})" for i, (_, q) in enumerate(checks))
    errors = []
    for q, row, value in con.execute(f"{union} ORDER BY _row, q").fetchall():
        f = checks[int(q)][0]
        kind = _KINDS.get(f.type, f.type).format(enum=f.enum)
        errors.append(
            RowError(
                int(row),
                f.name,
                str(value),
                f"The value '{value}' in field '{f.name}' is not a valid {kind}.",
                stage="staging",
            )
        )
    return errors


def _merge(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    source: str,
    provided: Sequence[str],
    company: str,
    mode: Mode,
    target: int | None,
    bad: Sequence[int],
) -> None:
    """Create ``w_rows``: typed rows merged with the record each one updates (if any)."""
    typed = []
    for f in entity.fields:
        expr = (
            sql.typed_expr(f, sql.col(f.name, "s"))
            if f.name in provided
            else f"CAST(NULL AS {sql.SQL_TYPES[f.type]})"
        )
        if f.name == entity.company_field:
            expr = f"coalesce(nullif(lower({expr}), ''), {sql.quote_literal(company)})"
        elif entity.name == "LegalEntities" and f.name == "LegalEntityId":
            expr = f"lower({expr})"
        typed.append(f"{expr} AS {sql.ident(f.name)}")
    skip = f" WHERE s._row NOT IN ({', '.join(str(int(b)) for b in bad)})" if bad else ""
    if mode == "update":
        if target is None:
            raise ValueError("an update needs the target record id")
        target_sql = str(int(target))
    elif mode == "create":
        target_sql = "CAST(NULL AS BIGINT)"
    else:
        target_sql = (
            f"(SELECT t._recid FROM {sql.table(entity)} t "
            f"WHERE t._key = {sql.key_expr(entity.keys, 'w')} LIMIT 1)"
        )
    merged = []
    for f in entity.fields:
        new = sql.normalized(entity, f, sql.col(f.name, "w"))
        keep = new if f.name in provided else sql.col(f.name, "t")
        merged.append(
            f"CASE WHEN w._target IS NULL THEN {new} ELSE {keep} END AS {sql.ident(f.name)}"
        )
    con.execute(
        f"CREATE TEMP TABLE w_rows AS SELECT w._row, w._target, {', '.join(merged)}, "
        "CAST(NULL AS VARCHAR) AS _key, CAST(NULL AS VARCHAR) AS _nkey, "
        "CAST(NULL AS BIGINT) AS _new "
        f"FROM (SELECT *, {target_sql} AS _target FROM "
        f"(SELECT s._row, {', '.join(typed)} FROM {source} s{skip}) w) w "
        f"LEFT JOIN {sql.table(entity)} t ON t._recid = w._target"
    )


def _resolve(con: duckdb.DuckDBPyConnection, entity: Entity, mode: Mode) -> None:
    """Fill in what SCM fills in on create (an update of one record keeps its keys)."""
    if mode == "update":
        return
    if entity.name == "CLMIntegrationPurchaseAgreements":
        contracts = sql.table(catalog.entity("CLMIntegrationContracts"))
        con.execute(
            'UPDATE w_rows SET "ContractLegalEntity" = lower(CASE WHEN "ContractLegalEntity" = '
            '\'\' THEN "BuyingLegalEntityId" ELSE "ContractLegalEntity" END)'
        )
        con.execute(
            f'UPDATE w_rows SET "ContractId" = c."ContractId" FROM {contracts} c '
            "WHERE w_rows.\"ContractId\" = '' AND w_rows.\"ExternalContractId\" <> '' "
            "AND c._nkey = "
            f"{sql.key_expr(('ContractLegalEntity', 'ExternalContractId'), 'w_rows')}"
        )
    if entity.name == "CLMIntegrationPurchaseAgreementLines":
        _resolve_lines(con)
    _assign_numbers(con, entity)


def _resolve_lines(con: duckdb.DuckDBPyConnection) -> None:
    agreements = sql.table(catalog.entity("CLMIntegrationPurchaseAgreements"))
    lines = sql.table(catalog.entity("CLMIntegrationPurchaseAgreementLines"))
    le, pa = '"PurchaseAgreementLegalEntityId"', '"PurchaseAgreementId"'
    # The agreement may be named by its ExternalContractId instead of its id (on create).
    con.execute(
        f"UPDATE w_rows SET {pa} = a.{pa} FROM {agreements} a WHERE w_rows.{pa} = '' "
        "AND w_rows.\"ExternalContractId\" <> '' AND a._nkey = "
        f"{sql.key_expr(('PurchaseAgreementLegalEntityId', 'ExternalContractId'), 'w_rows')}"
    )
    # Keep SCM's spelling of the agreement id (keys compare case-insensitively), and the
    # agreement's ExternalContractId when the line leaves it out.
    con.execute(
        f'UPDATE w_rows SET {pa} = a.{pa}, "ExternalContractId" = CASE WHEN '
        'w_rows."ExternalContractId" = \'\' THEN a."ExternalContractId" ELSE '
        'w_rows."ExternalContractId" END '
        f"FROM {agreements} a WHERE a._key = "
        f"{sql.key_expr(('PurchaseAgreementLegalEntityId', 'PurchaseAgreementId'), 'w_rows')}"
    )
    con.execute(
        f"CREATE TEMP TABLE w_ln AS SELECT _row, {le} AS le, {pa} AS pa, row_number() OVER "
        f"(PARTITION BY {le}, {pa} ORDER BY _row) AS n FROM w_rows "
        f"WHERE _target IS NULL AND \"LineNumber\" = 0 AND {pa} <> ''"
    )
    con.execute(
        'UPDATE w_rows SET "LineNumber" = x.v FROM (SELECT g._row, coalesce(m.mx, 0) + g.n AS v '
        "FROM w_ln g LEFT JOIN (SELECT le, pa, max(mx) AS mx FROM ("
        f'SELECT t.{le} AS le, t.{pa} AS pa, max(t."LineNumber") AS mx FROM {lines} t '
        f"SEMI JOIN (SELECT DISTINCT le, pa FROM w_ln) d ON t.{le} = d.le AND t.{pa} = d.pa "
        "GROUP BY ALL UNION ALL "
        f'SELECT {le}, {pa}, max("LineNumber") FROM w_rows GROUP BY ALL) GROUP BY ALL) m '
        "ON m.le = g.le AND m.pa = g.pa) x WHERE w_rows._row = x._row"
    )


def _assign_numbers(con: duckdb.DuckDBPyConnection, entity: Entity) -> None:
    spec = NUMBER_SEQUENCES.get(entity.name)
    if spec is None or entity.company_field is None:
        return
    key, prefix = sql.ident(spec[0]), spec[1]
    company = sql.ident(entity.company_field)
    con.execute(
        f"CREATE TEMP TABLE w_num AS SELECT _row, {company} AS company, row_number() OVER "
        f"(PARTITION BY {company} ORDER BY _row) AS n FROM w_rows "
        f"WHERE _target IS NULL AND {key} = ''"
    )
    if not con.execute("SELECT count(*) FROM w_num").fetchall()[0][0]:
        return
    con.execute(
        "INSERT INTO emu.numseq SELECT ?, d.company, coalesce((SELECT max(TRY_CAST("
        f"regexp_extract(t.{key}, '(\\d+)$', 1) AS BIGINT)) FROM {sql.table(entity)} t "
        f"WHERE t.{company} = d.company), 0) FROM (SELECT DISTINCT company FROM w_num) d "
        "WHERE NOT EXISTS (SELECT 1 FROM emu.numseq s WHERE s.entity = ? "
        "AND s.company = d.company)",
        [entity.name, entity.name],
    )
    con.execute(
        f"UPDATE w_rows SET {key} = x.v FROM (SELECT g._row, {prefix} || "
        "lpad(CAST(s.last + g.n AS VARCHAR), 7, '0') AS v FROM w_num g JOIN emu.numseq s "
        "ON s.entity = ? AND s.company = g.company) x WHERE w_rows._row = x._row",
        [entity.name],
    )
    con.execute(
        "UPDATE emu.numseq SET last = last + x.cnt FROM (SELECT company, count(*) AS cnt "
        "FROM w_num GROUP BY company) x WHERE emu.numseq.entity = ? "
        "AND emu.numseq.company = x.company",
        [entity.name],
    )


def _key_changes(con: duckdb.DuckDBPyConnection, entity: Entity) -> list[RowError]:
    rows = con.execute(
        f"SELECT r._row FROM w_rows r JOIN {sql.table(entity)} t ON t._recid = r._target "
        "WHERE r._key <> t._key"
    ).fetchall()
    names = ", ".join(entity.keys)
    return [
        RowError(
            int(row),
            entity.keys[-1],
            None,
            f"The key fields ({names}) of a record cannot be changed.",
        )
        for (row,) in rows
    ]


def _apply(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    outcome: WriteOutcome,
    mode: Mode,
    provided: Sequence[str],
) -> None:
    table = sql.table(entity)
    names = [sql.ident(f.name) for f in entity.fields]
    assignments = ", ".join(f"{n} = r.{n}" for n in names)
    if mode != "create":
        con.execute(
            f"UPDATE {table} SET {assignments}, _version = nextval('scm.row_version'), "
            f"_key = r._key, _nkey = r._nkey FROM w_rows r WHERE {table}._recid = r._target"
        )
    if mode != "update":
        con.execute("UPDATE w_rows SET _new = nextval('scm.recid') WHERE _target IS NULL")
        con.execute(
            f"INSERT INTO {table} SELECT {', '.join(names)}, _new, nextval('scm.row_version'), "
            "_key, _nkey FROM (SELECT * FROM w_rows WHERE _target IS NULL ORDER BY _row)"
        )
    for row, target, new in con.execute("SELECT _row, _target, _new FROM w_rows").fetchall():
        if target is None:
            outcome.created[int(row)] = int(new)
        else:
            outcome.updated[int(row)] = int(target)
    spec = NUMBER_SEQUENCES.get(entity.name)
    if spec and entity.company_field and spec[0] in provided and mode != "update":
        key, company = sql.ident(spec[0]), sql.ident(entity.company_field)
        # Keys given explicitly move the sequence past them, so a later generated one is free.
        con.execute(
            "UPDATE emu.numseq SET last = greatest(last, x.m) FROM (SELECT "
            f"{company} AS company, max(TRY_CAST(regexp_extract({key}, '(\\d+)$', 1) AS BIGINT)) "
            "AS m FROM w_rows WHERE _target IS NULL GROUP BY ALL) x WHERE emu.numseq.entity = ? "
            "AND emu.numseq.company = x.company AND x.m IS NOT NULL",
            [entity.name],
        )


def delete_record(
    con: duckdb.DuckDBPyConnection, entity: Entity, recid: int, *, clm_app: bool
) -> list[RowError]:
    """Delete one record (change tracking never sees deletes, as in SCM)."""
    if entity.name == "CLMIntegrationPurchaseAgreements" and clm_app:
        row = con.execute(
            f'SELECT "PurchaseAgreementId", "AgreementOwnership" FROM {sql.table(entity)} '
            "WHERE _recid = ?",
            [recid],
        ).fetchall()
        if row and row[0][1] == "SCM":
            from emulator.rules import ownership_error

            return [ownership_error(0, str(row[0][0]))]
    if entity.name == "DataManagementDefinitionGroups":
        # A data project takes its entity list with it.
        details = catalog.entity("DataManagementDefinitionGroupDetails")
        con.execute(
            f'DELETE FROM {sql.table(details)} WHERE lower("DefinitionGroupId") = '
            f'(SELECT lower("Name") FROM {sql.table(entity)} WHERE _recid = ?)',
            [recid],
        )
    con.execute(f"DELETE FROM {sql.table(entity)} WHERE _recid = ?", [recid])
    return []
