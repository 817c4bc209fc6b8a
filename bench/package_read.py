"""Reading a CSV-Unicode data package into DuckDB, against DuckDB reading the same rows itself.

Builds a VendorsV2 package of ``--rows`` rows (default 1,000,000) with the package writer, writes
the very same CSV text as a plain UTF-8 file, then times, in alternation and ``--repeat`` times:

* ours: ``PackageReader(...).open_csv("Vendors V2")`` (inflate, UTF-16 → UTF-8, parse, row
  numbers, error channel) streamed into a DuckDB table;
* duckdb: ``read_csv`` of the plain UTF-8 file into a table, all columns VARCHAR like ours
  (and, for information, with DuckDB's type detection).

Prints the medians and the ratio (target: ours ≤ 1.5 × duckdb).
Run: ``python -m bench.package_read [--rows N] [--repeat N]``.
"""

from __future__ import annotations

import argparse
import codecs
import statistics
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import duckdb

from connectors import catalog
from connectors.package import PackageReader, RowError
from connectors.package_writer import PackageWriter

ENTITY = catalog.entity("VendorsV2")
TARGET = 1.5

# Realistic VendorsV2 rows: short codes, a few longer texts, blank dates and empty fields as
# SCM exports them.
_VALUES = {
    "dataAreaId": "['usmf','demf','gbsi','jpmf','cnmf'][i % 5 + 1]",
    "VendorAccountNumber": "'US-V' || lpad(i::varchar, 7, '0')",
    "VendorOrganizationName": "'Vendor ' || i || ' ' || ['Inc.','GmbH','Ltd','KK'][i % 4 + 1]",
    "VendorPartyType": "'Organization'",
    "VendorPartyNumber": "lpad((i + 100000)::varchar, 9, '0')",
    "VendorSearchName": "'VENDOR' || i",
    "VendorGroupId": "['10','20','30','40'][i % 4 + 1]",
    "CurrencyCode": "['USD','EUR','GBP','JPY','CNY'][i % 5 + 1]",
    "DefaultPaymentTermsName": "['Net30','Net45','Net60','COD'][i % 4 + 1]",
    "DefaultDeliveryTermsCode": "['FOB','CIF','EXW'][i % 3 + 1]",
    "OnHoldStatus": "CASE WHEN i % 97 = 0 THEN 'All' ELSE 'No' END",
    "VendorHoldReleaseDate": "'1900-01-01T00:00:00Z'",
    "TaxExemptNumber": "'TX' || lpad((i * 7919 % 1000000000)::varchar, 9, '0')",
    "PrimaryEmailAddress": "'ap' || i || '@vendor' || i || '.example.com'",
    "PrimaryPhoneNumber": "'+1 555 ' || lpad((i % 10000000)::varchar, 7, '0')",
    "AddressStreet": "(i % 9999 + 1) || ' ' || ['Main','Oak','Elm','Pine'][i % 4 + 1] || ' Street'",
    "AddressCity": "['Springfield','Berlin','London','Osaka','Suzhou'][i % 5 + 1]",
    "AddressZipCode": "lpad((i % 99999)::varchar, 5, '0')",
    "AddressStateId": "CASE WHEN i % 5 = 0 THEN 'WA' ELSE '' END",
    "AddressCountryRegionId": "['USA','DEU','GBR','JPN','CHN'][i % 5 + 1]",
    "AddressCountryRegionISOCode": "['US','DE','GB','JP','CN'][i % 5 + 1]",
    "AddressValidFrom": "'2024-01-' || lpad((i % 28 + 1)::varchar, 2, '0') || 'T08:30:00Z'",
    "CreditLimit": "((i % 50) * 1000)::varchar",
    "LanguageId": "['en-us','de','en-gb','ja','zh-hans'][i % 5 + 1]",
    "PrimaryContactPersonId": "'CTC' || lpad(i::varchar, 8, '0')",
    "BuyerGroupId": "''",
    "InvoiceVendorAccountNumber": "''",
}


def build(folder: Path, rows: int) -> tuple[Path, Path]:
    """(package, plain UTF-8 CSV holding the same text) in ``folder``."""
    package = folder / "vendors.zip"
    plain = folder / "vendors.csv"
    select = ", ".join(f'{_VALUES[f.name]} AS "{f.name}"' for f in ENTITY.fields)
    con = duckdb.connect()
    reader = con.sql(f"SELECT {select} FROM range({rows}) t(i)").to_arrow_reader(65536)
    with PackageWriter(package, definition_group="BENCH-VENDORS") as writer:
        writer.add_entity(ENTITY, reader)
    con.close()
    # The same text as plain UTF-8: the data file's bytes, transcoded, BOM dropped.
    with (
        zipfile.ZipFile(package) as archive,
        archive.open(f"{ENTITY.label}.csv") as member,
        plain.open("wb") as out,
    ):
        decoder = codecs.getincrementaldecoder("utf-16")()
        while block := member.read(8 << 20):
            out.write(decoder.decode(block).encode("utf-8"))
    return package, plain


Timing = tuple[float, float, int]  # wall seconds, CPU seconds (all threads), rows landed


def time_ours(package: Path) -> Timing:
    errors: list[RowError] = []
    con = duckdb.connect()
    start, cpu = time.perf_counter(), time.process_time()
    with PackageReader(package) as reader:
        batches = reader.open_csv(ENTITY.label, on_error=errors.append)
        con.register("batches", batches)
        con.execute("CREATE TABLE landed AS SELECT * FROM batches")
    elapsed, used = time.perf_counter() - start, time.process_time() - cpu
    count = con.execute("SELECT count(*) FROM landed").fetchall()[0][0]
    con.close()
    if errors:
        raise SystemExit(f"the reader rejected {len(errors)} rows: {errors[0]}")
    return elapsed, used, int(count)


def time_duckdb(plain: Path, *, all_varchar: bool = True) -> Timing:
    con = duckdb.connect()
    option = ", all_varchar = true" if all_varchar else ""
    start, cpu = time.perf_counter(), time.process_time()
    con.execute(f"CREATE TABLE landed AS SELECT * FROM read_csv('{plain}', header = true{option})")
    elapsed, used = time.perf_counter() - start, time.process_time() - cpu
    count = con.execute("SELECT count(*) FROM landed").fetchall()[0][0]
    con.close()
    return elapsed, used, int(count)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="clmsync-bench-") as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        package, plain = build(folder, args.rows)
        print(
            f"built {args.rows:,} VendorsV2 rows in {time.perf_counter() - start:.1f} s: "
            f"package {package.stat().st_size / 1e6:.1f} MB, "
            f"CSV-Unicode {_member_size(package) / 1e6:.1f} MB, "
            f"plain UTF-8 {plain.stat().st_size / 1e6:.1f} MB"
        )
        runs: dict[str, list[float]] = {"ours": [], "duckdb": [], "duckdb_typed": []}
        cpus: dict[str, list[float]] = {name: [] for name in runs}
        steps: dict[str, Callable[[], Timing]] = {
            "ours": lambda: time_ours(package),
            "duckdb": lambda: time_duckdb(plain),
            "duckdb_typed": lambda: time_duckdb(plain, all_varchar=False),
        }
        for _ in range(args.repeat):
            for name, step in steps.items():
                elapsed, used, count = step()
                if count != args.rows:
                    raise SystemExit(f"{name} landed {count} rows, expected {args.rows}")
                runs[name].append(elapsed)
                cpus[name].append(used)
        medians = {k: statistics.median(v) for k, v in runs.items()}
        cpu = {k: statistics.median(v) for k, v in cpus.items()}
        for name, values in runs.items():
            shown = ", ".join(f"{v:.2f}" for v in values)
            print(
                f"{name:>13}: median {medians[name]:.2f} s wall, {cpu[name]:.2f} s CPU  ({shown})"
            )
        ratio = medians["ours"] / medians["duckdb"]
        typed = medians["ours"] / medians["duckdb_typed"]
        verdict = "within" if ratio <= TARGET else "ABOVE"
        print(
            f"ratio ours / duckdb read_csv (all VARCHAR): {ratio:.2f}x wall ({verdict} the "
            f"{TARGET}x target), {cpu['ours'] / cpu['duckdb']:.2f}x CPU; against read_csv "
            f"with type detection: {typed:.2f}x wall"
        )
    return 0


def _member_size(package: Path) -> int:
    with zipfile.ZipFile(package) as archive:
        return archive.getinfo(f"{ENTITY.label}.csv").file_size


if __name__ == "__main__":
    raise SystemExit(main())
