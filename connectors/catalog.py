"""The one typed catalog of the entities clmsync moves.

SCM entities carry their public OData set name, the data management entity name (its label, which
is what packages and data projects use), the AOT target entity, keys, the field that holds the
legal entity, direction, how they are extracted, the security role that guards them and their
fields with types. The CLM objects are described here too. The emulator, the connectors, landing,
the models' sources and the loader all read this module; nothing else defines an entity.

Field names follow the public OData names in the SCM reference. Where the reference does not list
an entity's fields (units, sites, warehouses, delivery terms, procurement categories, contacts,
contract types, the CLM released products) the names follow SCM's conventions and are marked
``verified=False`` on the entity: check them against ``/data/$metadata`` before relying on them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Literal

FieldType = Literal["string", "int", "decimal", "date", "datetime", "enum"]
Direction = Literal["scm_to_clm", "clm_to_scm", "control"]
ExtractVia = Literal["package", "odata", "none"]

ENUM_NAMESPACE = "Microsoft.Dynamics.DataEntities"

CLM_INTEGRATION_ROLE = "CLM integration"
DATA_MANAGEMENT_ROLE = "Data management administrator"

# SCM writes an empty date as this value in exports and OData (§2.6 of the reference).
BLANK_DATE = "1900-01-01T12:00:00Z"
BLANK_DATETIME = "1900-01-01T00:00:00Z"

# fmt: off
ENUMS: dict[str, tuple[str, ...]] = {
    "NoYes": ("No", "Yes"),
    "CustVendorBlocked": ("No", "Invoice", "All", "Payment", "Requisition", "Never"),
    "DirPartyBaseType": ("Organization", "Person"),
    "NetCurrent": ("Net", "CurrentMonth", "CurrentQuarter", "CurrentYear", "CurrentWeek", "COD"),
    "EcoResProductType": ("Item", "Service"),
    "CLMContractStatus": (
        "Draft", "WaitingForApproval", "Approved", "Rejected", "WaitingForSignatures",
        "WaitingForExternalSignatures", "WaitingForInternalSignatures", "Executed", "Terminated",
        "Expired", "OnHold", "Cancelled", "WaitingForReview", "Reviewed",
    ),
    "CLMAccountType": ("Vend", "Cust", "Party"),
    "AgreementOwnership": ("SCM", "CLM"),
    "AgreementStatus": ("OnHold", "Effective", "Closed"),
    "CommitmentType": (
        "ProductQuantity", "ProductVolume", "ProductCategory", "ProductRootCategory",
    ),
    "DmfOperationType": ("Import", "Export"),
    "DmfProjectCategory": ("Project", "Configuration", "Integration", "Migration"),
    "DmfRefreshType": ("FullPush", "IncrementalPush"),
    "DMFExecutionSummaryStatus": (
        "Unknown", "NotRun", "Executing", "Succeeded", "PartiallySucceeded", "Failed", "Canceled",
    ),
}
# fmt: on


@dataclass(frozen=True)
class Field:
    """One field of an entity. ``enum`` names a member of :data:`ENUMS` when ``type`` is enum."""

    name: str
    type: FieldType = "string"
    enum: str | None = None
    required: bool = False
    max_length: int | None = None
    read_only: bool = False

    @property
    def column(self) -> str:
        """The column header in a data package (entity fields are uppercase there)."""
        return self.name.upper()

    @property
    def members(self) -> tuple[str, ...]:
        return ENUMS[self.enum] if self.enum else ()


@dataclass(frozen=True)
class Entity:
    """An SCM data entity as clmsync uses it."""

    name: str  # public OData collection, e.g. VendorsV2
    label: str  # data management entity name, e.g. "Vendors V2"
    target: str  # AOT entity, e.g. VendVendorV2Entity
    public_name: str  # OData entity type, e.g. VendorV2
    table: str  # warehouse relation stem: raw_scm.<table>, staging stg_scm__<table>
    keys: tuple[str, ...]
    fields: tuple[Field, ...]
    direction: Direction
    extract: ExtractVia
    company_field: str | None = None  # the key field holding the legal entity, if any
    role: str = CLM_INTEGRATION_ROLE
    verified: bool = True
    natural_key: tuple[str, ...] = ()  # how a CLM-created record is found again (external ids)
    generated_keys: tuple[str, ...] = ()  # keys SCM assigns from a number sequence on create
    level: int = 1  # data project sequencing level (dependencies load first)

    def __post_init__(self) -> None:
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: duplicate field names")
        missing = [k for k in self.keys if k not in names]
        if missing:
            raise ValueError(f"{self.name}: keys {missing} are not fields")
        if self.company_field and self.company_field not in self.keys:
            raise ValueError(f"{self.name}: company field must be a key")

    @property
    def company_specific(self) -> bool:
        return self.company_field is not None

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def record_keys(self) -> tuple[str, ...]:
        """Key fields other than the legal entity, in catalog order (the record_key convention)."""
        return tuple(k for k in self.keys if k != self.company_field)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name} has no field {name!r}")

    def by_column(self) -> dict[str, Field]:
        """Package column (uppercase) → field."""
        return {f.column: f for f in self.fields}

    def record_key(self, row: Mapping[str, object]) -> str:
        """The record key of ``row``: its non-company key values, canonical, joined with ``|``."""
        return "|".join(canonical_key_value(row[k]) for k in self.record_keys)


@dataclass(frozen=True)
class ClmField:
    """One field of a CLM object as the CLM API returns it (JSON names, snake_case)."""

    name: str
    type: Literal["string", "int", "decimal", "date", "datetime", "bool", "object"] = "string"
    required: bool = False


@dataclass(frozen=True)
class ClmObject:
    """A CLM object type: counterparties, contracts, agreements, agreement lines."""

    name: str  # singular object type, used as ``entity`` in reports when no SCM record exists
    collection: str  # API path segment and export file stem, e.g. counterparties
    table: str  # raw_clm.<table>
    fields: tuple[ClmField, ...]
    id_field: str = "id"
    updated_field: str = "updated_at"

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


def canonical_key_value(value: object) -> str:
    """Render a key value the way record keys are compared everywhere.

    Text is kept as it is (keys are case-insensitive in SCM, but a record key repeats SCM's own
    spelling). Numbers lose trailing zeros and an integral number loses its decimal point, so a
    ``LineNumber`` of ``1.0000000000`` is ``1``.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int | float | Decimal):
        return _canonical_number(str(value))
    return str(value)


def scm_text(value: object) -> str | None:
    """A Python value as the text SCM accepts and exports for it: ``Yes``/``No`` for a bool, ISO
    dates and times, decimals at their full precision without an exponent; None stays None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, date):  # datetime is a date too
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _canonical_number(text: str) -> str:
    try:
        number = Decimal(text)
    except InvalidOperation:
        return text
    if number == number.to_integral_value():
        return str(number.quantize(Decimal(1)))
    return format(number.normalize(), "f")


def _f(name: str, type_: FieldType = "string", **kw: object) -> Field:
    return Field(name, type_, **kw)  # type: ignore[arg-type]


def _enum(name: str, enum: str, **kw: object) -> Field:
    return Field(name, "enum", enum=enum, **kw)  # type: ignore[arg-type]


def _strings(*names: str) -> tuple[Field, ...]:
    return tuple(Field(n) for n in names)


ADDRESS = _strings(
    "AddressStreet",
    "AddressCity",
    "AddressZipCode",
    "AddressStateId",
    "AddressCountryRegionId",
    "AddressCountryRegionISOCode",
)

# fmt: off
ENTITIES: tuple[Entity, ...] = (
    Entity(
        name="LegalEntities", label="Legal entities", target="OMLegalEntity",
        public_name="LegalEntity", table="legal_entities", keys=("LegalEntityId",),
        fields=(
            _f("LegalEntityId", required=True, max_length=4), _f("Name", required=True),
            _f("NameAlias"), *ADDRESS[:3], _f("AddressCountryRegionId"),
            _f("AddressCountryRegionISOCode"), _f("LanguageId"), _f("VATNum"),
            _f("AccountingCurrency"),
        ),
        direction="scm_to_clm", extract="odata",
    ),
    Entity(
        name="Currencies", label="Currencies", target="CurrencyEntity", public_name="Currency",
        table="currencies", keys=("CurrencyCode",),
        fields=(
            _f("CurrencyCode", required=True, max_length=3), _f("Name"), _f("Symbol"),
            _f("GeneralRoundingRule", "decimal"),
        ),
        direction="scm_to_clm", extract="odata",
    ),
    Entity(
        name="UnitsOfMeasure", label="Units", target="UnitOfMeasureEntity",
        public_name="UnitOfMeasure", table="units_of_measure", keys=("UnitSymbol",),
        fields=(
            _f("UnitSymbol", required=True, max_length=10), _f("UnitDescription"),
            _f("UnitClass"), _f("DecimalPrecision", "int"), _f("SystemOfUnits"),
            _enum("IsBaseUnit", "NoYes"),
        ),
        direction="scm_to_clm", extract="odata",
    ),
    Entity(
        name="PaymentTerms", label="Terms of payment", target="PaymentTermEntity",
        public_name="PaymentTerm", table="payment_terms", keys=("dataAreaId", "Name"),
        fields=(
            _f("dataAreaId", required=True), _f("Name", required=True, max_length=10),
            _f("Description"), _enum("PaymentMethodType", "NetCurrent"),
            _f("NumberOfDays", "int"), _f("NumberOfMonths", "int"),
            _enum("IsDefaultPaymentTerm", "NoYes"), _enum("IsCashPayment", "NoYes"),
        ),
        direction="scm_to_clm", extract="odata", company_field="dataAreaId",
    ),
    Entity(
        name="DeliveryTerms", label="Terms of delivery", target="DeliveryTermsEntity",
        public_name="DeliveryTerm", table="delivery_terms", keys=("dataAreaId", "TermsCode"),
        fields=(
            _f("dataAreaId", required=True), _f("TermsCode", required=True),
            _f("TermsDescription"),
        ),
        direction="scm_to_clm", extract="odata", company_field="dataAreaId", verified=False,
    ),
    Entity(
        name="OperationalSitesV2", label="Sites V2", target="InventOperationalSiteV2Entity",
        public_name="OperationalSiteV2", table="operational_sites",
        keys=("dataAreaId", "SiteId"),
        fields=(_f("dataAreaId", required=True), _f("SiteId", required=True), _f("SiteName")),
        direction="scm_to_clm", extract="odata", company_field="dataAreaId", verified=False,
    ),
    Entity(
        name="Warehouses", label="Warehouses", target="InventWarehouseEntity",
        public_name="Warehouse", table="warehouses", keys=("dataAreaId", "WarehouseId"),
        fields=(
            _f("dataAreaId", required=True), _f("WarehouseId", required=True),
            _f("WarehouseName"), _f("OperationalSiteId"),
        ),
        direction="scm_to_clm", extract="odata", company_field="dataAreaId", verified=False,
    ),
    Entity(
        name="ProcurementProductCategories", label="Procurement product categories",
        target="CatProcurementProductCategoryEntity", public_name="ProcurementProductCategory",
        table="procurement_categories", keys=("CategoryName",),
        fields=(
            _f("CategoryName", required=True), _f("CategoryCode"), _f("CategoryDescription"),
            _f("ParentCategoryName"),
        ),
        direction="scm_to_clm", extract="odata", verified=False,
    ),
    Entity(
        name="CLMIntegrationContractTypes", label="CLM integration contract types",
        target="CLMIntegrationContractTypeEntity", public_name="CLMIntegrationContractType",
        table="contract_types", keys=("ContractType",),
        fields=(_f("ContractType", required=True), _f("Description")),
        direction="scm_to_clm", extract="odata", verified=False,
    ),
    Entity(
        name="VendorsV2", label="Vendors V2", target="VendVendorV2Entity",
        public_name="VendorV2", table="vendors", keys=("dataAreaId", "VendorAccountNumber"),
        fields=(
            _f("dataAreaId", required=True), _f("VendorAccountNumber", required=True),
            _f("VendorOrganizationName", required=True),
            _enum("VendorPartyType", "DirPartyBaseType"),
            _f("VendorPartyNumber"), _f("VendorSearchName"), _f("VendorGroupId", required=True),
            _f("CurrencyCode"), _f("DefaultPaymentTermsName"), _f("DefaultDeliveryTermsCode"),
            _enum("OnHoldStatus", "CustVendorBlocked"), _f("VendorHoldReleaseDate", "datetime"),
            _f("TaxExemptNumber"), _f("PrimaryEmailAddress"), _f("PrimaryPhoneNumber"),
            *ADDRESS, _f("AddressValidFrom", "datetime"), _f("CreditLimit", "decimal"),
            _f("LanguageId"), _f("PrimaryContactPersonId"), _f("BuyerGroupId"),
            _f("InvoiceVendorAccountNumber"),
        ),
        direction="scm_to_clm", extract="package", company_field="dataAreaId",
        generated_keys=("VendorAccountNumber",),
    ),
    Entity(
        name="ContactPersons", label="Contacts V2", target="smmContactPersonV2Entity",
        public_name="ContactPerson", table="contact_persons",
        keys=("dataAreaId", "ContactPersonId"),
        fields=(
            _f("dataAreaId", required=True), _f("ContactPersonId", required=True),
            _f("FirstName"), _f("MiddleName"), _f("LastName"), _f("JobTitle"),
            _f("PrimaryEmailAddress"), _f("PrimaryPhoneNumber"), _f("AssociatedPartyNumber"),
            _f("VendorAccountNumber"),
        ),
        direction="scm_to_clm", extract="package", company_field="dataAreaId", verified=False,
        level=2,
    ),
    Entity(
        name="CLMIntegrationReleasedProducts", label="CLM integration released products",
        target="CLMIntegrationReleasedProductEntity", public_name="CLMIntegrationReleasedProduct",
        table="released_products", keys=("dataAreaId", "ItemNumber"),
        fields=(
            _f("dataAreaId", required=True), _f("ItemNumber", required=True),
            _f("ProductNumber"), _f("ProductName"), _f("ProductSearchName"),
            _enum("ProductType", "EcoResProductType"), _f("PurchaseUnitSymbol"),
            _f("InventoryUnitSymbol"), _f("ProcurementProductCategoryName"),
            _f("PurchasePrice", "decimal"), _enum("IsPurchaseStopped", "NoYes"),
        ),
        direction="scm_to_clm", extract="package", company_field="dataAreaId", verified=False,
    ),
    Entity(
        name="CLMIntegrationContracts", label="CLM integration contract",
        target="CLMIntegrationContractEntity", public_name="CLMIntegrationContract",
        table="contracts", keys=("LegalEntityId", "ContractId"),
        fields=(
            _f("LegalEntityId", required=True), _f("ContractId", required=True),
            _f("ExternalContractId", required=True), _f("ContractType", required=True),
            _enum("ContractStatus", "CLMContractStatus", required=True), _f("ContractName"),
            _f("EffectiveDate", "date"), _f("ExpirationDate", "date"),
            _f("RequesterWorkerName"), _f("RequesterWorkerEmail"),
            _enum("AccountType", "CLMAccountType"), _f("AccountRelationId"), _f("PartyNumber"),
            _f("ContactPersonId"), _f("LatestAmendmentId"), _f("LatestExternalAmendmentId"),
            _enum("AmendmentInProcess", "NoYes"),
        ),
        direction="clm_to_scm", extract="package", company_field="LegalEntityId",
        natural_key=("LegalEntityId", "ExternalContractId"), generated_keys=("ContractId",),
        level=3,
    ),
    Entity(
        name="CLMIntegrationPurchaseAgreements", label="CLM integration purchase agreements",
        target="CLMIntegrationPurchaseAgreementHeaderEntity",
        public_name="CLMIntegrationPurchaseAgreement", table="purchase_agreements",
        keys=("BuyingLegalEntityId", "PurchaseAgreementId"),
        fields=(
            _f("BuyingLegalEntityId", required=True), _f("PurchaseAgreementId", required=True),
            _f("ExternalContractId", required=True), _f("ContractId"),
            _f("ContractLegalEntity"), _enum("AgreementOwnership", "AgreementOwnership"),
            _enum("AgreementStatus", "AgreementStatus"), _f("DocumentTitle"),
            _f("PurchaseAgreementClassificationName"), _f("DefaultEffectiveDate", "date"),
            _f("DefaultExpirationDate", "date"),
            _f("AgreementVendorAccountNumber", required=True), _f("InvoiceVendorAccountNumber"),
            _f("VendorReference"), _f("PrimaryResponsibleWorkerEmail"),
            _f("PrimaryResponsibleWorkerName"), _f("ContactPersonId"),
            _f("CurrencyCode", required=True), _f("PaymentTermsName"),
            _enum("DefaultCommitmentType", "CommitmentType"),
        ),
        direction="clm_to_scm", extract="package", company_field="BuyingLegalEntityId",
        natural_key=("BuyingLegalEntityId", "ExternalContractId"),
        generated_keys=("PurchaseAgreementId",), level=4,
    ),
    Entity(
        name="CLMIntegrationPurchaseAgreementLines",
        label="CLM integration purchase agreement lines",
        target="CLMIntegrationPurchaseAgreementLineEntity",
        public_name="CLMIntegrationPurchaseAgreementLine", table="purchase_agreement_lines",
        keys=("PurchaseAgreementLegalEntityId", "PurchaseAgreementId", "LineNumber"),
        fields=(
            _f("PurchaseAgreementLegalEntityId", required=True),
            _f("PurchaseAgreementId", required=True), _f("LineNumber", "decimal", required=True),
            _f("ExternalContractId"), _f("ExternalContractLineId", required=True),
            _enum("CommitmentType", "CommitmentType"), _f("CommittedAmount", "decimal"),
            _f("CommittedQuantity", "decimal"), _f("EffectiveDate", "date"),
            _f("ExpirationDate", "date"), _f("ItemNumber"), _f("ProcurementProductCategoryName"),
            _f("Price", "decimal"), _f("PriceQuantity", "decimal"),
            _f("LineDiscountAmount", "decimal"), _f("LineDiscountPercentage", "decimal"),
            _f("UnitSymbol"), _f("ReceivingSiteId"), _f("ReceivingWarehouseId"),
            _enum("IsPriceAndDiscountFixed", "NoYes"),
        ),
        direction="clm_to_scm", extract="package", company_field="PurchaseAgreementLegalEntityId",
        natural_key=("PurchaseAgreementLegalEntityId", "ExternalContractLineId"),
        generated_keys=("LineNumber",), level=5,
    ),
    Entity(
        name="DataManagementDefinitionGroups", label="Definition Groups",
        target="DataManagementDefinitionGroupEntity", public_name="DataManagementDefinitionGroup",
        table="dm_definition_groups", keys=("Name",),
        fields=(
            _f("Name", required=True), _f("Description"),
            _enum("OperationType", "DmfOperationType"),
            _enum("ProjectCategory", "DmfProjectCategory"),
            _enum("GenerateDataPackage", "NoYes"), _enum("TruncateEntityData", "NoYes"),
        ),
        direction="control", extract="none", role=DATA_MANAGEMENT_ROLE,
    ),
    Entity(
        name="DataManagementDefinitionGroupDetails", label="Entities for a processing group",
        target="DataManagementDefinitionGroupDetailEntity",
        public_name="DataManagementDefinitionGroupDetail", table="dm_definition_group_details",
        keys=("DefinitionGroupId", "EntityName"),
        fields=(
            _f("DefinitionGroupId", required=True), _f("EntityName", required=True),
            _f("SourceFormat"), _f("ExecutionUnit", "int", required=True),
            _f("LevelInExecutionUnit", "int", required=True),
            _f("SequenceInLevel", "int", required=True),
            _enum("DefaultRefreshType", "DmfRefreshType"), _enum("AutoGenerateMapping", "NoYes"),
            _enum("SkipStaging", "NoYes"), _enum("RunBusinessLogic", "NoYes"),
            _enum("RunBusinessValidation", "NoYes"), _enum("FailExecutionUnitOnError", "NoYes"),
            _enum("FailLevelOnError", "NoYes"), _enum("Disable", "NoYes"),
        ),
        direction="control", extract="none", role=DATA_MANAGEMENT_ROLE,
    ),
    Entity(
        name="DataManagementExecutionJobDetails", label="Execution job details",
        target="DataManagementExecutionJobDetailEntity",
        public_name="DataManagementExecutionJobDetail", table="dm_execution_job_details",
        keys=("DefinitionGroupId", "JobId", "EntityName"),
        fields=(
            _f("DefinitionGroupId", required=True), _f("JobId", required=True),
            _f("EntityName", required=True), _f("StagingStatus"), _f("TargetStatus"),
            _f("StagingRecordsCreatedCount", "int"), _f("StagingRecordsToBeProcessedCount", "int"),
            _f("TargetRecordsCreatedCount", "int"), _f("TargetRecordsUpdatedCount", "int"),
            _f("StagingStartDateTime", "datetime"), _f("StagingEndDateTime", "datetime"),
            _f("TargetStartDateTime", "datetime"), _f("TargetEndDateTime", "datetime"),
            _f("SourceFormat"), _f("FilePath"),
        ),
        direction="control", extract="none", role=DATA_MANAGEMENT_ROLE,
    ),
)

# fmt: on

_ADDRESS_OBJECT = ClmField("address", "object")

# fmt: off
CLM_OBJECTS: tuple[ClmObject, ...] = (
    ClmObject(
        name="counterparty", collection="counterparties", table="counterparties",
        fields=(
            ClmField("id", required=True), ClmField("name", required=True), ClmField("tax_id"),
            ClmField("vendor_account"), ClmField("business_unit", required=True),
            ClmField("country"), _ADDRESS_OBJECT, ClmField("currency"),
            ClmField("payment_terms"), ClmField("email"), ClmField("phone"),
            ClmField("status"), ClmField("created_at", "datetime"),
            ClmField("updated_at", "datetime", required=True),
        ),
    ),
    ClmObject(
        name="contract", collection="contracts", table="contracts",
        fields=(
            ClmField("id", required=True), ClmField("title"),
            ClmField("contract_type", required=True),
            ClmField("status", required=True), ClmField("counterparty_id", required=True),
            ClmField("business_unit", required=True), ClmField("effective_date", "date"),
            ClmField("expiration_date", "date"), ClmField("owner_name"), ClmField("owner_email"),
            ClmField("amendment_number", "int"), ClmField("created_at", "datetime"),
            ClmField("updated_at", "datetime", required=True),
        ),
    ),
    ClmObject(
        name="agreement", collection="agreements", table="agreements",
        fields=(
            ClmField("id", required=True), ClmField("contract_id", required=True),
            ClmField("title"), ClmField("counterparty_id", required=True),
            ClmField("business_unit", required=True), ClmField("currency"),
            ClmField("payment_terms"), ClmField("effective_date", "date"),
            ClmField("expiration_date", "date"), ClmField("status", required=True),
            ClmField("classification"), ClmField("owner_email"), ClmField("created_at", "datetime"),
            ClmField("updated_at", "datetime", required=True),
        ),
    ),
    ClmObject(
        name="agreement_line", collection="agreement-lines", table="agreement_lines",
        fields=(
            ClmField("id", required=True), ClmField("agreement_id", required=True),
            ClmField("line_no", "int", required=True), ClmField("product_code"),
            ClmField("description"), ClmField("quantity", "decimal"), ClmField("unit"),
            ClmField("unit_price", "decimal"), ClmField("effective_date", "date"),
            ClmField("expiration_date", "date"), ClmField("status", required=True),
            ClmField("created_at", "datetime"), ClmField("updated_at", "datetime", required=True),
        ),
    ),
)

# fmt: on

_BY_NAME = {e.name: e for e in ENTITIES}
_BY_NAME_CI = {e.name.lower(): e for e in ENTITIES}
_BY_LABEL = {e.label.lower(): e for e in ENTITIES}
_CLM_BY_NAME = {o.name: o for o in CLM_OBJECTS} | {o.collection: o for o in CLM_OBJECTS}


def entity(name: str) -> Entity:
    """The entity whose OData set name is ``name`` (case-insensitive, as SCM is)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        pass
    try:
        return _BY_NAME_CI[name.lower()]
    except KeyError:
        known = ", ".join(sorted(_BY_NAME))
        raise KeyError(f"unknown entity {name!r}; known: {known}") from None


def entity_by_label(label: str) -> Entity:
    """The entity whose data management name (label) is ``label`` (case-insensitive)."""
    try:
        return _BY_LABEL[label.lower()]
    except KeyError:
        raise KeyError(f"no entity has the data management name {label!r}") from None


def clm_object(name: str) -> ClmObject:
    """A CLM object type by its singular name or its collection name."""
    try:
        return _CLM_BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown CLM object {name!r}") from None


def synced_entities() -> tuple[Entity, ...]:
    """Entities clmsync extracts from SCM (everything except data management control entities)."""
    return tuple(e for e in ENTITIES if e.direction != "control")


def package_entities(names: Iterable[str] | None = None) -> tuple[Entity, ...]:
    """Entities extracted through data packages, in data project sequence order."""
    wanted = {entity(n).name for n in names} if names is not None else None
    chosen = [
        e for e in ENTITIES if e.extract == "package" and (wanted is None or e.name in wanted)
    ]
    return tuple(sorted(chosen, key=lambda e: e.level))


def odata_entities(names: Iterable[str] | None = None) -> tuple[Entity, ...]:
    """Entities extracted through OData paging (small reference sets)."""
    wanted = {entity(n).name for n in names} if names is not None else None
    return tuple(
        e for e in ENTITIES if e.extract == "odata" and (wanted is None or e.name in wanted)
    )


def enum_literal(enum: str, member: str) -> str:
    """An OData enum literal, e.g. ``Microsoft.Dynamics.DataEntities.NoYes'Yes'``."""
    return f"{ENUM_NAMESPACE}.{enum}'{member}'"


@dataclass(frozen=True)
class DataProject:
    """An export data project clmsync owns in SCM: one per legal entity in scope."""

    name: str
    legal_entity: str
    entities: tuple[Entity, ...] = field(default_factory=tuple)


def export_project_name(prefix: str, legal_entity: str) -> str:
    """The data project clmsync exports one legal entity's package entities through."""
    return f"{prefix}-EXPORT-{legal_entity.upper()}"
