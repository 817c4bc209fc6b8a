"""How fast the emulator serves bulk work, so it never hides the client's own speed.

``python -m bench.emulator_speed [--rows N]`` fills VendorsV2 with N rows (default 1,000,000, one
legal entity, made by DuckDB from ``range`` and ``hash``), then measures over real HTTPS:

* a full ``ExportToPackage`` of those rows: queued → Succeeded, and the package download
  (target: under 30 s for 1M rows);
* one server-driven OData page of 10,000 rows, first and deep (target: under 1 s).

Execution delays are set to zero, so the figures are the emulator's own work.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import requests

from connectors import catalog
from emulator.server import EmulatorInfo, running_emulator

VENDORS = catalog.entity("VendorsV2")


def fill_vendors(info: EmulatorInfo, rows: int) -> float:
    """Insert ``rows`` synthetic usmf vendors with DuckDB SQL; returns the seconds it took."""
    assert info.state is not None
    store = info.state.store
    started = time.perf_counter()
    select = f"""
        SELECT 'usmf' AS "dataAreaId",
               'US-V' || lpad(CAST(i AS VARCHAR), 7, '0') AS "VendorAccountNumber",
               'Vendor ' || CAST(hash(i) % 1000003 AS VARCHAR) || ' Industries'
                   AS "VendorOrganizationName",
               CASE WHEN i % 10 = 0 THEN 'Person' ELSE 'Organization' END AS "VendorPartyType",
               lpad(CAST(i AS VARCHAR), 9, '0') AS "VendorPartyNumber",
               'VENDOR ' || CAST(i AS VARCHAR) AS "VendorSearchName",
               CAST(10 + i % 5 AS VARCHAR) AS "VendorGroupId",
               'USD' AS "CurrencyCode",
               CASE WHEN i % 3 = 0 THEN 'Net60' ELSE 'Net30' END AS "DefaultPaymentTermsName",
               CASE WHEN i % 97 = 0 THEN 'All' ELSE 'No' END AS "OnHoldStatus",
               TIMESTAMP '2024-01-01' + to_seconds(CAST(hash(i) % 31536000 AS BIGINT))
                   AS "VendorHoldReleaseDate",
               CAST(hash(i * 7) % 1000000000 AS VARCHAR) AS "TaxExemptNumber",
               'ap' || CAST(i AS VARCHAR) || '@vendor.example.com' AS "PrimaryEmailAddress",
               '+1 555 ' || lpad(CAST(hash(i) % 10000000 AS VARCHAR), 7, '0')
                   AS "PrimaryPhoneNumber",
               CAST(1 + hash(i) % 9999 AS VARCHAR) || ' Main Street' AS "AddressStreet",
               'Springfield' AS "AddressCity",
               lpad(CAST(hash(i * 3) % 100000 AS VARCHAR), 5, '0') AS "AddressZipCode",
               'IL' AS "AddressStateId",
               'USA' AS "AddressCountryRegionId",
               'US' AS "AddressCountryRegionISOCode",
               TIMESTAMP '2020-01-01 08:30:00' AS "AddressValidFrom",
               CAST(hash(i) % 10000000 AS DECIMAL(32,6)) / 100 AS "CreditLimit",
               'en-US' AS "LanguageId"
        FROM range({rows}) t(i)
    """
    with store.transaction() as con:
        store.insert_typed(con, VENDORS, select)
    return time.perf_counter() - started


class _Client:
    """Just enough of an SCM client: bearer token, the emulator's CA, the service root."""

    def __init__(self, info: EmulatorInfo) -> None:
        self.root = f"{info.scm_url}/data"
        self.session = info.session()
        self.session.headers["Authorization"] = f"Bearer {info.token()}"

    def post(self, path: str, body: dict[str, Any]) -> requests.Response:
        response = self.session.post(f"{self.root}/{path}", json=body, timeout=600)
        response.raise_for_status()
        return response

    def value(self, action: str, body: dict[str, Any]) -> Any:
        path = f"DataManagementDefinitionGroups/Microsoft.Dynamics.DataEntities.{action}"
        return self.post(path, body).json()["value"]

    def get(self, path: str) -> requests.Response:
        response = self.session.get(f"{self.root}/{path}", timeout=600)
        response.raise_for_status()
        return response


def measure_export(info: EmulatorInfo) -> tuple[float, float, int]:
    """Seconds from ExportToPackage to Succeeded, seconds to download, package bytes."""
    scm = _Client(info)
    scm.post("DataManagementDefinitionGroups", {"Name": "BENCH", "OperationType": "Export"})
    detail = {
        "DefinitionGroupId": "BENCH",
        "EntityName": VENDORS.label,
        "SourceFormat": "CSV-Unicode",
        "ExecutionUnit": 1,
        "LevelInExecutionUnit": 1,
        "SequenceInLevel": 1,
    }
    scm.post("DataManagementDefinitionGroupDetails", detail)
    started = time.perf_counter()
    execution = scm.value(
        "ExportToPackage",
        {
            "definitionGroupId": "BENCH",
            "packageName": "bench.zip",
            "executionId": "",
            "legalEntityId": "usmf",
        },
    )
    while (status := scm.value("GetExecutionSummaryStatus", {"executionId": execution})) not in (
        "Succeeded",
        "PartiallySucceeded",
        "Failed",
    ):
        time.sleep(0.05)
    exported = time.perf_counter() - started
    if status != "Succeeded":
        raise RuntimeError(f"export ended {status}")
    url = scm.value("GetExportedPackageUrl", {"executionId": execution})
    started = time.perf_counter()
    size = 0
    with info.session() as plain, plain.get(url, stream=True, timeout=600) as response:
        response.raise_for_status()
        for chunk in response.iter_content(1 << 20):
            size += len(chunk)
    return exported, time.perf_counter() - started, size


def measure_page(info: EmulatorInfo, skip: int) -> tuple[float, int]:
    """Seconds to serve one 10,000-row page at ``$skip``, and its row count."""
    scm = _Client(info)
    started = time.perf_counter()
    body = scm.get(f"VendorsV2?$skip={skip}").json()
    return time.perf_counter() - started, len(body["value"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with running_emulator(
        execution_queue_seconds=0, execution_fixed_seconds=0, execution_row_seconds=0
    ) as info:
        print(f"filled {args.rows:,} VendorsV2 rows in {fill_vendors(info, args.rows):.1f} s")
        exported, downloaded, size = measure_export(info)
        verdict = "ok" if exported < 30 else "SLOWER THAN TARGET"
        print(
            f"export of {args.rows:,} rows: {exported:.1f} s to Succeeded "
            f"(target < 30 s: {verdict})"
        )
        print(f"download of the package ({size / 1e6:.0f} MB): {downloaded:.1f} s")
        for skip in (0, args.rows // 2):
            seconds, rows = measure_page(info, min(skip, max(args.rows - 10_000, 0)))
            verdict = "ok" if seconds < 1 else "SLOWER THAN TARGET"
            print(
                f"OData page of {rows:,} rows at $skip={skip:,}: {seconds:.2f} s "
                f"(target < 1 s: {verdict})"
            )


if __name__ == "__main__":
    main()
