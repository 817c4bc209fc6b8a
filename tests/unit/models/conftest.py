"""Tiny hand-made warehouses for the SQL models: land a few rows the way extraction does (text),
refresh the current tables, build the models a test needs."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from itertools import count

import duckdb
import pyarrow as pa
import pytest

from connectors import catalog
from warehouse import current, db, landing, runner
from warehouse.runner import DEFAULT_MODELS_DIR, DEFAULT_SEEDS_DIR, Project

Rows = Sequence[Mapping[str, str | None]]


def _table(rows: Rows) -> pa.Table:
    names: list[str] = []
    for row in rows:
        names.extend(n for n in row if n not in names)
    columns = {n: pa.array([row.get(n) for row in rows], pa.string()) for n in names}
    columns["_row_number"] = pa.array(range(1, len(rows) + 1), pa.int64())
    return pa.table(columns)


class Warehouse:
    """An in-memory warehouse the tests land rows into and build models on."""

    def __init__(self, con: duckdb.DuckDBPyConnection, project: Project) -> None:
        self.con = con
        self.project = project
        self._batch = count(1)

    def scm(self, entity: str, rows: Rows) -> None:
        """Land SCM rows (catalog field names → text) and refresh the current table."""
        n = next(self._batch)
        landing.land_scm(
            self.con, catalog.entity(entity), _table(rows), run_id=f"run{n}",
            execution_id=f"exec{n}", source_file=f"{entity}.csv", legal_entity=None,
        )  # fmt: skip
        current.refresh_all(self.con)

    def clm(self, obj: str, rows: Rows) -> None:
        """Land CLM rows (API field names → text) and refresh the current table."""
        n = next(self._batch)
        landing.land_clm(
            self.con, catalog.clm_object(obj), _table(rows), run_id=f"run{n}",
            cursor=f"cursor{n}", source_file=f"{obj}.jsonl",
        )  # fmt: skip
        current.refresh_all(self.con)

    def build(self, *selectors: str) -> None:
        runner.build(self.con, self.project, selectors=list(selectors))

    def rows(self, sql: str) -> list[tuple[object, ...]]:
        return [tuple(r) for r in self.con.execute(sql).fetchall()]


@pytest.fixture(scope="session")
def project() -> Project:
    return runner.load_project(DEFAULT_MODELS_DIR, DEFAULT_SEEDS_DIR)


@pytest.fixture
def wh(project: Project) -> Iterator[Warehouse]:
    con = db.connect(":memory:")
    yield Warehouse(con, project)
    con.close()


def vendor(le: str, account: str, name: str, **fields: str) -> dict[str, str | None]:
    """A vendor row as a package delivers it, with plausible defaults."""
    row: dict[str, str | None] = {
        "dataAreaId": le, "VendorAccountNumber": account, "VendorOrganizationName": name,
        "VendorGroupId": "DOM", "CurrencyCode": "EUR", "DefaultPaymentTermsName": "Net30",
        "OnHoldStatus": "No", "TaxExemptNumber": "", "AddressStreet": "Hauptstraße 1",
        "AddressCity": "München", "AddressZipCode": "80331", "AddressCountryRegionId": "DEU",
        "AddressCountryRegionISOCode": "DE", "VendorHoldReleaseDate": "1/1/1900 12:00:00 AM",
        "AddressValidFrom": "1/1/1900 12:00:00 AM", "CreditLimit": "0.000000",
    }  # fmt: skip
    row.update(fields)
    return row


def scm_agreement(agreement: str, contract: str, vendor_account: str) -> dict[str, str | None]:
    """An SCM purchase agreement owned by the CLM, as a package delivers it."""
    return {
        "BuyingLegalEntityId": "demf", "PurchaseAgreementId": agreement,
        "ExternalContractId": contract, "AgreementOwnership": "CLM",
        "AgreementStatus": "Effective", "AgreementVendorAccountNumber": vendor_account,
        "CurrencyCode": "EUR", "DefaultEffectiveDate": "3/1/2025 12:00:00 AM",
        "DefaultExpirationDate": "1/1/1900 12:00:00 AM",
    }  # fmt: skip


def scm_agreement_line(agreement: str, line: str, price: str, item: str) -> dict[str, str | None]:
    """Line 1 of an SCM purchase agreement, as a package delivers it."""
    return {
        "PurchaseAgreementLegalEntityId": "demf", "PurchaseAgreementId": agreement,
        "LineNumber": "1.000000", "ExternalContractLineId": line, "Price": price,
        "EffectiveDate": "3/1/2025 12:00:00 AM", "ExpirationDate": "1/1/1900 12:00:00 AM",
        "ItemNumber": item, "UnitSymbol": "ea",
    }  # fmt: skip


def counterparty(cid: str, name: str, **fields: str | None) -> dict[str, str | None]:
    """A CLM counterparty as the API delivers it (address as JSON text)."""
    street = fields.pop("street", "Hauptstraße 1")
    city = fields.pop("city", "München")
    zip_code = fields.pop("zip", "80331")
    address = (
        '{"street": "%s", "city": "%s", "zip": "%s", "state": ""}' % (street, city, zip_code)  # noqa: UP031
    )
    row: dict[str, str | None] = {
        "id": cid, "name": name, "business_unit": "EU-DE-MFG", "country": "DE",
        "address": address, "currency": "EUR", "payment_terms": "Net 30 days",
        "status": "active", "updated_at": "2025-12-01T00:00:00Z",
    }  # fmt: skip
    row.update(fields)
    return row
