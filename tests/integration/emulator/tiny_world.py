"""A small, consistent SCM data set for the emulator's own tests (no world generator needed).

Five legal entities with their reference data, vendors (three of them with key characters that
must be escaped: an apostrophe, a space, an ampersand), released products, contracts,
purchase agreements (one owned by SCM) and lines.
"""

from __future__ import annotations

from emulator.store import Store

LEGAL_ENTITIES = {
    "usmf": ("US", "USA", "USD"),
    "demf": ("DE", "DEU", "EUR"),
    "gbsi": ("GB", "GBR", "GBP"),
    "jpmf": ("JP", "JPN", "JPY"),
    "cnmf": ("CN", "CHN", "CNY"),
}
VENDORS_PER_LE = 12
SPECIAL_VENDORS = ("US-O'HARA-000123", "US-V 0000099", "US-A&B-000012")


def vendor(le: str, number: int) -> str:
    return f"{LEGAL_ENTITIES[le][0]}-V{number:07d}"


def populate(store: Store) -> None:
    """Fill ``store`` with the tiny world."""
    store.insert_rows(
        "LegalEntities",
        [
            {
                "LegalEntityId": le,
                "Name": le.upper(),
                "AddressCountryRegionISOCode": iso2,
                "AddressCountryRegionId": iso3,
                "AccountingCurrency": currency,
            }
            for le, (iso2, iso3, currency) in LEGAL_ENTITIES.items()
        ],
    )
    store.insert_rows(
        "Currencies", [{"CurrencyCode": c, "Name": c} for _, _, c in LEGAL_ENTITIES.values()]
    )
    store.insert_rows("UnitsOfMeasure", [{"UnitSymbol": u} for u in ("ea", "kg", "pcs")])
    store.insert_rows(
        "ProcurementProductCategories", [{"CategoryName": c} for c in ("Office", "IT")]
    )
    store.insert_rows(
        "CLMIntegrationContractTypes",
        [{"ContractType": t} for t in ("PurchaseAgreement", "NDA")],
    )
    companies = list(LEGAL_ENTITIES)
    store.insert_rows(
        "PaymentTerms",
        [
            {"dataAreaId": le, "Name": name, "NumberOfDays": days}
            for le in companies
            for name, days in (("Net30", 30), ("Net60", 60))
        ],
    )
    store.insert_rows("DeliveryTerms", [{"dataAreaId": le, "TermsCode": "FOB"} for le in companies])
    store.insert_rows(
        "OperationalSitesV2", [{"dataAreaId": le, "SiteId": "S1"} for le in companies]
    )
    store.insert_rows(
        "Warehouses",
        [{"dataAreaId": le, "WarehouseId": "W1", "OperationalSiteId": "S1"} for le in companies],
    )
    store.insert_rows(
        "VendorsV2",
        [
            {
                "dataAreaId": le,
                "VendorAccountNumber": vendor(le, n),
                "VendorOrganizationName": f"Vendor {le} {n}",
                "VendorGroupId": "10",
                "CurrencyCode": LEGAL_ENTITIES[le][2],
                "DefaultPaymentTermsName": "Net30",
                "OnHoldStatus": "All" if n == 12 else "No",
                "CreditLimit": n * 1000.5,
                "AddressValidFrom": "2024-01-15T08:30:00Z",
            }
            for le in companies
            for n in range(1, VENDORS_PER_LE + 1)
        ],
    )
    store.insert_rows(
        "VendorsV2",
        [
            {
                "dataAreaId": "usmf",
                "VendorAccountNumber": account,
                "VendorOrganizationName": f"Special {i}",
                "VendorGroupId": "10",
                "CurrencyCode": "USD",
            }
            for i, account in enumerate(SPECIAL_VENDORS)
        ],
    )
    store.insert_rows(
        "ContactPersons",
        [
            {
                "dataAreaId": "usmf",
                "ContactPersonId": "CTC00000001",
                "FirstName": "Ann",
                "VendorAccountNumber": vendor("usmf", 1),
            },
        ],
    )
    store.insert_rows(
        "CLMIntegrationReleasedProducts",
        [
            {
                "dataAreaId": le,
                "ItemNumber": f"I{n:06d}",
                "ProductName": f"Item {n}",
                "PurchaseUnitSymbol": "ea",
                "PurchasePrice": "9.5",
            }
            for le, count in (("usmf", 10), ("demf", 5))
            for n in range(1, count + 1)
        ],
    )
    store.insert_rows(
        "CLMIntegrationContracts",
        [
            {
                "LegalEntityId": "usmf",
                "ContractId": f"C{n:07d}",
                "ExternalContractId": f"K-{n:07d}",
                "ContractType": "PurchaseAgreement",
                "ContractStatus": "Executed",
                "ContractName": f"Contract {n}",
                "EffectiveDate": "2025-01-01",
                "ExpirationDate": "2026-12-31",
                "AccountType": "Vend",
                "AccountRelationId": vendor("usmf", n),
            }
            for n in range(1, 6)
        ],
    )
    store.insert_rows(
        "CLMIntegrationPurchaseAgreements",
        [
            {
                "BuyingLegalEntityId": "usmf",
                "PurchaseAgreementId": f"PA{n:07d}",
                "ExternalContractId": f"K-{n:07d}",
                "ContractId": f"C{n:07d}",
                "ContractLegalEntity": "usmf",
                "AgreementOwnership": "SCM" if n == 3 else "CLM",
                "AgreementStatus": "Effective",
                "DocumentTitle": f"Agreement {n}",
                "DefaultEffectiveDate": "2025-01-01",
                "DefaultExpirationDate": "2026-12-31",
                "AgreementVendorAccountNumber": vendor("usmf", n),
                "CurrencyCode": "USD",
                "PaymentTermsName": "Net30",
            }
            for n in range(1, 4)
        ],
    )
    store.insert_rows(
        "CLMIntegrationPurchaseAgreementLines",
        [
            {
                "PurchaseAgreementLegalEntityId": "usmf",
                "PurchaseAgreementId": "PA0000001",
                "LineNumber": n,
                "ExternalContractId": "K-0000001",
                "ExternalContractLineId": f"AGL-{n:08d}",
                "ItemNumber": f"I{n:06d}",
                "UnitSymbol": "ea",
                "Price": "12.50",
                "CommittedQuantity": 10,
                "EffectiveDate": "2025-01-01",
            }
            for n in (1, 2)
        ],
    )
