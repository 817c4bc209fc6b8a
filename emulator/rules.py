"""SCM's business validation, shared by OData writes and package imports.

Rules run set-based over a table of candidate rows (``w_rows``: every field, typed and merged
with the existing record, plus ``_row``, ``_target`` = the record id being updated or NULL for a
new record, and ``_key``/``_nkey``). Each rule is one SELECT returning the failing rows; the
Infolog-style messages name the field and the value, as SCM's do.

References point at keys or natural keys of other entities and are matched through the hidden
lowercase key columns, so a check against a million-row table is one hash anti-join.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

from connectors import catalog
from connectors.catalog import Entity
from emulator import sql


@dataclass(frozen=True)
class Ref:
    """``fields`` must name an existing record of ``target`` (its keys or natural key)."""

    fields: tuple[str, ...]
    target: str
    natural: bool = False
    when: str | None = None  # extra SQL condition on the candidate row (alias r)

    @property
    def report(self) -> str:
        return self.fields[-1]


def _company_ref(field: str) -> Ref:
    return Ref((field,), "LegalEntities")


REFS: dict[str, tuple[Ref, ...]] = {
    "PaymentTerms": (_company_ref("dataAreaId"),),
    "DeliveryTerms": (_company_ref("dataAreaId"),),
    "OperationalSitesV2": (_company_ref("dataAreaId"),),
    "Warehouses": (
        _company_ref("dataAreaId"),
        Ref(("dataAreaId", "OperationalSiteId"), "OperationalSitesV2"),
    ),
    "VendorsV2": (
        _company_ref("dataAreaId"),
        Ref(("CurrencyCode",), "Currencies"),
        Ref(("dataAreaId", "DefaultPaymentTermsName"), "PaymentTerms"),
        Ref(("dataAreaId", "DefaultDeliveryTermsCode"), "DeliveryTerms"),
        Ref(("dataAreaId", "InvoiceVendorAccountNumber"), "VendorsV2"),
    ),
    "ContactPersons": (
        _company_ref("dataAreaId"),
        Ref(("dataAreaId", "VendorAccountNumber"), "VendorsV2"),
    ),
    "CLMIntegrationReleasedProducts": (
        _company_ref("dataAreaId"),
        Ref(("PurchaseUnitSymbol",), "UnitsOfMeasure"),
        Ref(("InventoryUnitSymbol",), "UnitsOfMeasure"),
        Ref(("ProcurementProductCategoryName",), "ProcurementProductCategories"),
    ),
    "CLMIntegrationContracts": (
        _company_ref("LegalEntityId"),
        Ref(("ContractType",), "CLMIntegrationContractTypes"),
        Ref(("LegalEntityId", "AccountRelationId"), "VendorsV2", when="r.\"AccountType\" = 'Vend'"),
        Ref(("LegalEntityId", "ContactPersonId"), "ContactPersons"),
    ),
    "CLMIntegrationPurchaseAgreements": (
        _company_ref("BuyingLegalEntityId"),
        Ref(("BuyingLegalEntityId", "AgreementVendorAccountNumber"), "VendorsV2"),
        Ref(("BuyingLegalEntityId", "InvoiceVendorAccountNumber"), "VendorsV2"),
        Ref(("CurrencyCode",), "Currencies"),
        Ref(("BuyingLegalEntityId", "PaymentTermsName"), "PaymentTerms"),
        Ref(("ContractLegalEntity", "ContractId"), "CLMIntegrationContracts"),
        Ref(("BuyingLegalEntityId", "ContactPersonId"), "ContactPersons"),
    ),
    "CLMIntegrationPurchaseAgreementLines": (
        _company_ref("PurchaseAgreementLegalEntityId"),
        Ref(
            ("PurchaseAgreementLegalEntityId", "PurchaseAgreementId"),
            "CLMIntegrationPurchaseAgreements",
        ),
        Ref(
            ("PurchaseAgreementLegalEntityId", "ExternalContractId"),
            "CLMIntegrationPurchaseAgreements",
            natural=True,
            when="r.\"PurchaseAgreementId\" = ''",
        ),
        Ref(("PurchaseAgreementLegalEntityId", "ItemNumber"), "CLMIntegrationReleasedProducts"),
        Ref(("UnitSymbol",), "UnitsOfMeasure"),
        Ref(("ProcurementProductCategoryName",), "ProcurementProductCategories"),
        Ref(("PurchaseAgreementLegalEntityId", "ReceivingSiteId"), "OperationalSitesV2"),
        Ref(("PurchaseAgreementLegalEntityId", "ReceivingWarehouseId"), "Warehouses"),
    ),
    "DataManagementDefinitionGroupDetails": (
        Ref(("DefinitionGroupId",), "DataManagementDefinitionGroups"),
    ),
}


@dataclass
class RowError:
    """One failing row: ``row`` is the candidate's ``_row``; ``stage`` staging or target."""

    row: int
    field: str | None
    value: str | None
    message: str
    stage: str = "target"
    level: str = "Warning"  # the Infolog level SCM shows the message with

    def infolog(self) -> str:
        return f"{self.level}: {self.message}"


def _text(value: object) -> str:
    return "" if value is None else catalog.canonical_key_value(value)


@dataclass(frozen=True)
class _Check:
    """One rule as SQL selecting ``_row`` and ``v`` (the offending value) of failing rows."""

    query: str
    field: str
    message: str  # template; {v} is the offending value
    level: str = "Warning"


def _checks(entity: Entity, provided: Sequence[str], clm_app: bool) -> list[_Check]:
    checks: list[_Check] = []
    changed = set(provided)
    for f in entity.fields:
        c = f"r.{sql.ident(f.name)}"
        touched = "TRUE" if f.name in changed else "r._target IS NULL"
        if f.required:
            blank = f"{c} = ''" if f.type in ("string", "enum") else f"{c} IS NULL"
            checks.append(
                _Check(
                    f"SELECT r._row, '' AS v FROM w_rows r WHERE ({touched}) AND {blank}",
                    f.name,
                    f"Field '{f.name}' must be filled in.",
                )
            )
        if f.max_length and f.type == "string":
            checks.append(
                _Check(
                    f"SELECT r._row, {c} AS v FROM w_rows r WHERE ({touched}) "
                    f"AND length({c}) > {int(f.max_length)}",
                    f.name,
                    f"The value '{{v}}' in field '{f.name}' is too long: at most "
                    f"{f.max_length} characters are allowed.",
                )
            )
    for ref in REFS.get(entity.name, ()):
        # An update re-checks a reference only when it sets one of its fields, as SCM's
        # validateField runs for modified fields only.
        scope = "TRUE" if set(ref.fields) & changed else "r._target IS NULL"
        related = catalog.entity(ref.target)
        column = "_nkey" if ref.natural else "_key"
        condition = f" AND ({ref.when})" if ref.when else ""
        report = sql.col(ref.report, "r")
        checks.append(
            _Check(
                f"SELECT r._row, {report} AS v FROM w_rows r WHERE ({scope}) AND {report} <> ''"
                f"{condition} AND NOT EXISTS (SELECT 1 FROM {sql.table(related)} t "
                f"WHERE t.{column} = {sql.key_expr(ref.fields, 'r')})",
                ref.report,
                f"The value '{{v}}' in field '{ref.report}' is not found in the related table "
                f"'{related.label}'.; Warning: validateField failed on field "
                f"'{entity.target}.{ref.report}'",
            )
        )
    if entity.name == "DataManagementDefinitionGroupDetails":
        labels = ", ".join(sql.quote_literal(e.label.lower()) for e in catalog.ENTITIES)
        checks.append(
            _Check(
                'SELECT r._row, r."EntityName" AS v FROM w_rows r WHERE r."EntityName" <> \'\' '
                f'AND lower(r."EntityName") NOT IN ({labels})',
                "EntityName",
                "Entity {v} does not exist in the target environment.",
            )
        )
    if entity.name == "CLMIntegrationPurchaseAgreements" and clm_app:
        checks.append(
            _Check(
                f'SELECT r._row, t."PurchaseAgreementId" AS v FROM w_rows r '
                f"JOIN {sql.table(entity)} t ON t._recid = r._target "
                "WHERE t.\"AgreementOwnership\" = 'SCM'",
                "AgreementOwnership",
                ownership_error(0, "{v}").message,
            )
        )
    return checks


def validate(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    provided: Sequence[str],
    *,
    clm_app: bool,
) -> list[RowError]:
    """Every business-rule failure of the candidates in ``w_rows`` (one query per kind)."""
    checks = _checks(entity, provided, clm_app)
    errors: list[RowError] = []
    if checks:
        union = " UNION ALL ".join(
            f"SELECT {i} AS q, _row, CAST(v AS VARCHAR) AS v FROM ({c.query})"
            for i, c in enumerate(checks)
        )
        for q, row, value in con.execute(f"{union} ORDER BY _row, q").fetchall():
            check = checks[int(q)]
            text = "" if value is None else str(value)
            message = check.message.format(v=text)
            errors.append(RowError(int(row), check.field, text, message, level=check.level))
    errors.extend(_uniqueness(con, entity))
    return errors


def ownership_error(row: int, agreement: str) -> RowError:
    return RowError(
        row,
        "AgreementOwnership",
        "SCM",
        f"The purchase agreement {agreement} is owned by SCM (AgreementOwnership = SCM); a "
        "CLM integration application cannot change it.",
    )


def _uniqueness(con: duckdb.DuckDBPyConnection, entity: Entity) -> list[RowError]:
    """The record already exists: same key, or same natural key, as another record."""
    errors: list[RowError] = []
    table = sql.table(entity)
    checks = [("_key", entity.keys, "r._target IS NULL AND ")]
    if entity.natural_key:
        blanks = " AND ".join(f"r.{sql.ident(k)} <> ''" for k in entity.natural_key)
        checks.append(("_nkey", entity.natural_key, blanks + " AND "))
    seen: set[int] = set()
    for column, names, guard in checks:
        fields = ", ".join(sql.col(n, "r") for n in names)
        query = (
            f"SELECT r._row, {fields} FROM w_rows r WHERE {guard}("
            f"EXISTS (SELECT 1 FROM {table} t WHERE t.{column} = r.{column} "
            f"AND t._recid IS DISTINCT FROM r._target) OR r._row IN (SELECT _row FROM "
            f"(SELECT _row, row_number() OVER (PARTITION BY {column} ORDER BY _row) AS n "
            f"FROM w_rows) WHERE n > 1))"
        )
        for row, *values in con.execute(query).fetchall():
            if int(row) in seen:
                continue
            seen.add(int(row))
            pairs = ", ".join(f"{n}: {_text(v)}" for n, v in zip(names, values, strict=True))
            errors.append(
                RowError(
                    int(row),
                    names[-1],
                    _text(values[-1]),
                    f"Cannot create a record in {entity.label} ({entity.target}). {pairs}. "
                    "The record already exists.",
                    level="Info",
                )
            )
    return errors
