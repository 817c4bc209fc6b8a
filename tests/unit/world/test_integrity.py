"""SCM's data is referentially intact wherever no discrepancy was planted, and realistic."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

from connectors import catalog
from emulator.world import WorldSummary
from tests.unit.world.conftest import rows

# (child relation, its columns, parent relation, its columns, extra condition on the child)
REFERENCES = [
    ("VendorsV2", ("CurrencyCode",), "Currencies", ("CurrencyCode",), ""),
    (
        "VendorsV2",
        ("dataAreaId", "DefaultPaymentTermsName"),
        "PaymentTerms",
        ("dataAreaId", "Name"),
        "",
    ),
    (
        "VendorsV2",
        ("dataAreaId", "DefaultDeliveryTermsCode"),
        "DeliveryTerms",
        ("dataAreaId", "TermsCode"),
        "",
    ),
    ("VendorsV2", ("dataAreaId",), "LegalEntities", ("LegalEntityId",), ""),
    (
        "VendorsV2",
        ("dataAreaId", "PrimaryContactPersonId"),
        "ContactPersons",
        ("dataAreaId", "ContactPersonId"),
        "\"PrimaryContactPersonId\" <> ''",
    ),
    (
        "ContactPersons",
        ("dataAreaId", "VendorAccountNumber"),
        "VendorsV2",
        ("dataAreaId", "VendorAccountNumber"),
        "",
    ),
    (
        "CLMIntegrationReleasedProducts",
        ("PurchaseUnitSymbol",),
        "UnitsOfMeasure",
        ("UnitSymbol",),
        "",
    ),
    (
        "CLMIntegrationReleasedProducts",
        ("ProcurementProductCategoryName",),
        "ProcurementProductCategories",
        ("CategoryName",),
        "",
    ),
    (
        "Warehouses",
        ("dataAreaId", "OperationalSiteId"),
        "OperationalSitesV2",
        ("dataAreaId", "SiteId"),
        "",
    ),
    (
        "CLMIntegrationContracts",
        ("LegalEntityId", "AccountRelationId"),
        "VendorsV2",
        ("dataAreaId", "VendorAccountNumber"),
        "",
    ),
    (
        "CLMIntegrationContracts",
        ("ContractType",),
        "CLMIntegrationContractTypes",
        ("ContractType",),
        "",
    ),
    (
        "CLMIntegrationPurchaseAgreements",
        ("BuyingLegalEntityId", "AgreementVendorAccountNumber"),
        "VendorsV2",
        ("dataAreaId", "VendorAccountNumber"),
        "",
    ),
    (
        "CLMIntegrationPurchaseAgreements",
        ("ContractLegalEntity", "ContractId"),
        "CLMIntegrationContracts",
        ("LegalEntityId", "ContractId"),
        "",
    ),
    ("CLMIntegrationPurchaseAgreements", ("CurrencyCode",), "Currencies", ("CurrencyCode",), ""),
    (
        "CLMIntegrationPurchaseAgreements",
        ("BuyingLegalEntityId", "PaymentTermsName"),
        "PaymentTerms",
        ("dataAreaId", "Name"),
        "",
    ),
    (
        "CLMIntegrationPurchaseAgreementLines",
        ("PurchaseAgreementLegalEntityId", "PurchaseAgreementId"),
        "CLMIntegrationPurchaseAgreements",
        ("BuyingLegalEntityId", "PurchaseAgreementId"),
        "",
    ),
    (
        "CLMIntegrationPurchaseAgreementLines",
        ("PurchaseAgreementLegalEntityId", "ItemNumber"),
        "CLMIntegrationReleasedProducts",
        ("dataAreaId", "ItemNumber"),
        "",
    ),
    (
        "CLMIntegrationPurchaseAgreementLines",
        ("UnitSymbol",),
        "UnitsOfMeasure",
        ("UnitSymbol",),
        "",
    ),
    (
        "CLMIntegrationPurchaseAgreementLines",
        ("PurchaseAgreementLegalEntityId", "ReceivingSiteId"),
        "OperationalSitesV2",
        ("dataAreaId", "SiteId"),
        "",
    ),
    (
        "CLMIntegrationPurchaseAgreementLines",
        ("PurchaseAgreementLegalEntityId", "ReceivingWarehouseId"),
        "Warehouses",
        ("dataAreaId", "WarehouseId"),
        "",
    ),
]


def _q(cols: tuple[str, ...], alias: str) -> list[str]:
    return [f'{alias}."{c}"' for c in cols]


@pytest.mark.parametrize(("child", "ccols", "parent", "pcols", "where"), REFERENCES)
def test_references_resolve(
    loaded: duckdb.DuckDBPyConnection,
    child: str,
    ccols: tuple[str, ...],
    parent: str,
    pcols: tuple[str, ...],
    where: str,
) -> None:
    on = " AND ".join(f"{a} = {b}" for a, b in zip(_q(ccols, "c"), _q(pcols, "p"), strict=True))
    cond = f"AND {where.replace(chr(34), 'c.' + chr(34), 1)}" if where else ""
    total = rows(loaded, f'SELECT count(*) FROM scm."{child}" c WHERE TRUE {cond}')[0][0]
    dangling = rows(
        loaded,
        f'SELECT {", ".join(_q(ccols, "c"))} FROM scm."{child}" c WHERE NOT EXISTS '
        f'(SELECT 1 FROM scm."{parent}" p WHERE {on}) {cond} LIMIT 5',
    )
    assert total > 0
    assert dangling == []


@pytest.mark.parametrize("entity", [e.name for e in catalog.synced_entities()])
def test_keys_are_unique_and_fields_filled(loaded: duckdb.DuckDBPyConnection, entity: str) -> None:
    e = catalog.entity(entity)
    keys = ", ".join(f'"{k}"' for k in e.keys)
    assert (
        rows(
            loaded, f'SELECT {keys}, count(*) FROM scm."{entity}" GROUP BY ALL HAVING count(*) > 1'
        )
        == []
    )
    assert rows(loaded, f'SELECT count(*) FROM scm."{entity}"')[0][0] > 0
    for f in e.fields:
        if f.required:
            nulls = rows(loaded, f'SELECT count(*) FROM scm."{entity}" WHERE "{f.name}" IS NULL')
            assert nulls[0][0] == 0, f.name
        if f.type == "enum":
            bad = rows(
                loaded,
                f'SELECT DISTINCT "{f.name}" FROM scm."{entity}" WHERE "{f.name}" '
                "NOT IN (SELECT unnest(?))",
                [list(f.members)],
            )
            assert bad == [], (f.name, bad)


def test_every_clm_contract_of_a_purchase_agreement_has_exactly_one_agreement(
    loaded: duckdb.DuckDBPyConnection,
) -> None:
    counts = rows(
        loaded,
        """SELECT k.contract_type IN ('Purchase Agreement',
                               'Purchasing Agreement'), count(a.id)
                             FROM clm.contracts k LEFT JOIN clm.agreements a ON a.contract_id = k.id
                             GROUP BY k.id, k.contract_type""",
    )
    for is_pa, n in counts:
        assert n == (1 if is_pa else 0)


def test_lines_per_agreement_are_skewed_between_1_and_20(loaded: duckdb.DuckDBPyConnection) -> None:
    ((low, high, mean),) = rows(
        loaded,
        "SELECT min(n), max(n), avg(n) FROM (SELECT agreement_id, count(*) AS n "
        "FROM clm.agreement_lines GROUP BY 1)",
    )
    assert low == 1
    assert 10 <= high <= 21
    assert 3.3 <= mean <= 5.0


def test_scale_follows_the_number_of_vendors(world: WorldSummary) -> None:
    scm, clm = world.counts["scm"], world.counts["clm"]
    assert 0.97 * world.size <= scm["VendorsV2"] <= world.size
    assert clm["agreements"] == round(world.size / 2)
    assert 0.6 * world.size <= clm["counterparties"] <= 0.8 * world.size


def test_vendor_names_and_accounts_are_varied_and_unique(loaded: duckdb.DuckDBPyConnection) -> None:
    dup = rows(
        loaded,
        """SELECT "dataAreaId", lower(strip_accents("VendorOrganizationName")), count(*)
                          FROM scm."VendorsV2" GROUP BY ALL HAVING count(*) > 1""",
    )
    assert dup == []
    assert (
        rows(loaded, 'SELECT "TaxExemptNumber" FROM scm."VendorsV2" GROUP BY 1 HAVING count(*) > 1')
        == []
    )
    names = [r[0] for r in rows(loaded, 'SELECT "VendorOrganizationName" FROM scm."VendorsV2"')]
    features: dict[str, Any] = {
        "apostrophe": "'",
        "comma": ",",
        "double quote": '"',
        "umlaut": "ü",
        "ampersand": "&",
    }
    for label, char in features.items():
        assert any(char in n for n in names), label
    assert any(len(n) > 60 for n in names)
    assert any("\u3040" <= c <= "\u30ff" or "\u4e00" <= c <= "\u9fff" for n in names for c in n)
    accounts = [r[0] for r in rows(loaded, 'SELECT "VendorAccountNumber" FROM scm."VendorsV2"')]
    assert any("'" in a or " " in a or "&" in a for a in accounts)


def test_every_catalog_field_is_written_with_its_type(world: WorldSummary) -> None:
    con = duckdb.connect(":memory:")
    types = {
        "string": "VARCHAR",
        "enum": "VARCHAR",
        "int": "BIGINT",
        "decimal": "DECIMAL(32,6)",
        "date": "DATE",
        "datetime": "TIMESTAMP",
    }
    for e in catalog.synced_entities():
        path = world.out_dir / "scm" / f"{e.name}.parquet"
        described = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
        assert [(r[0], r[1]) for r in described] == [(f.name, types[f.type]) for f in e.fields]
