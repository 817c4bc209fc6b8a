"""Scenario 1, package landing: a 1M-row CSV-Unicode VendorsV2 package into ``raw_scm``.

The package is built with the connectors' ``PackageWriter`` (``bench.package_read.build``, which
also writes the same CSV text as plain UTF-8). Each round lands it, into a fresh file-backed
DuckDB database each time, through:

* **clmsync**: ``PackageReader.open_csv`` (inflate, UTF-16 → UTF-8, parse, row numbers, error
  channel) streamed into ``warehouse.landing.land_scm`` (type checks, lineage, quarantine,
  accounting) in a warehouse opened with ``warehouse.db.connect``;
* **DuckDB floor**: ``CREATE TABLE AS SELECT * FROM read_csv(plain UTF-8 file, all_varchar)``:
  no decoding, no checks, no lineage; what DuckDB alone does with the same rows;
* **dlt**: what a dlt user writes for a zipped CSV-Unicode file: a ``@dlt.resource`` yielding
  chunks of ``csv.DictReader`` rows read from the package's data file (dlt's
  ``filesystem | read_csv_duckdb`` cannot read UTF-16: DuckDB refuses non-UTF-8 file objects,
  and ``read_csv`` needs pandas), loaded with ``loader_file_format="parquet"``, dlt's fastest
  format for DuckDB (its default, insert_values, was about 4× slower again at 50k rows);
* **Python csv + executemany**: a hand-written loader (``csv.reader`` over the data file,
  ``executemany`` in chunks of 1,000 in one transaction) on the first 100k rows, extrapolated
  per row to the full size.

Targets: clmsync ≥ 0.7× the floor's speed, ≥ 3× dlt's.
"""

from __future__ import annotations

import csv
import io
import itertools
import shutil
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from bench import harness
from bench.package_read import ENTITY, build
from bench.scenarios import Options
from connectors.package import PackageReader, RowError
from warehouse import db, landing

SUMMARY = "1M-row CSV-Unicode VendorsV2 package into raw_scm vs DuckDB read_csv, dlt, csv loop"
ROWS = 1_000_000
ROUNDS = 3
CSV_ROWS = 100_000
CHUNK = 1_000
DLT_CHUNK = 10_000
DATA_FILE = f"{ENTITY.label}.csv"

CLMSYNC = "clmsync (package → raw_scm)"
FLOOR = "DuckDB read_csv (floor)"
DLT = "dlt (DictReader resource, parquet)"
CSV_LOOP = "Python csv + executemany"


def run(options: Options) -> harness.Result:
    harness.peer("dlt")  # before an hour of work, not after
    rows = options.size or ROWS
    rounds = options.rounds or ROUNDS
    csv_rows = min(CSV_ROWS, rows)
    work = options.workdir
    package, plain = build(work, rows)
    counter = itertools.count()

    def fresh(kind: str) -> Path:
        return work / f"{kind}-{next(counter)}.duckdb"

    contenders = {
        CLMSYNC: lambda: _timed_and_checked(land_clmsync, package, fresh("warehouse"), rows),
        FLOOR: lambda: _timed_and_checked(land_read_csv, plain, fresh("floor"), rows),
        DLT: lambda: _timed_and_checked(land_dlt, package, fresh("dlt"), rows),
        CSV_LOOP: lambda: _timed_and_checked(
            lambda p, d: land_csv_loop(p, d, csv_rows), package, fresh("csv"), csv_rows
        ),
    }
    figures = harness.run_rounds(contenders, rounds)
    extrapolated = f"{CSV_LOOP}, per {rows:,} rows (extrapolated)"
    figures[extrapolated] = figures[CSV_LOOP].scaled(rows / csv_rows)
    ours = figures[CLMSYNC]
    vs_floor = harness.ratio("clmsync speed / DuckDB floor", figures[FLOOR], ours)
    vs_dlt = harness.ratio("clmsync speed / dlt", figures[DLT], ours)
    vs_csv = harness.ratio("clmsync speed / csv + executemany", figures[extrapolated], ours)
    return harness.Result(
        scenario="1 package landing",
        parameters={
            "rows": rows,
            "csv loop rows": csv_rows,
            "rounds": rounds,
            "package MB": round(package.stat().st_size / 1e6, 1),
            "UTF-8 CSV MB": round(plain.stat().st_size / 1e6, 1),
        },
        figures=figures,
        ratios=[vs_floor, vs_dlt, vs_csv],
        targets=[
            harness.Target("speed vs the DuckDB floor", vs_floor.value, ">=", 0.7),
            harness.Target("speed vs dlt", vs_dlt.value, ">=", 3.0),
        ],
        notes=[f"clmsync {rows / ours.median:,.0f} rows/s"],
    )


Loader = Callable[[Path, Path], tuple[float, str]]


def _timed_and_checked(load: Loader, source: Path, database: Path, expected: int) -> float:
    """Run ``load(source, database) -> (seconds, table)`` and check what it landed."""
    seconds, table = load(source, database)
    harness.check_and_remove(database, table, expected)
    return float(seconds)


def land_clmsync(package: Path, database: Path) -> tuple[float, str]:
    """clmsync's path, from opening the warehouse to closing it."""
    started = time.perf_counter()
    con = db.connect(database)
    errors: list[RowError] = []
    with PackageReader(package) as reader:
        result = landing.land_scm(
            con,
            ENTITY,
            reader.open_csv(ENTITY.label, on_error=errors.append),
            run_id="bench",
            execution_id="bench-export",
            source_file=DATA_FILE,
            legal_entity="usmf",
            bad_rows=errors,
        )
    con.close()
    seconds = time.perf_counter() - started
    if result.quarantined:
        raise RuntimeError(f"landing quarantined {result.quarantined} rows")
    return seconds, "raw_scm.vendors"


def land_read_csv(plain: Path, database: Path) -> tuple[float, str]:
    started = time.perf_counter()
    con = duckdb.connect(str(database))
    con.execute(
        f"CREATE TABLE vendors AS SELECT * FROM read_csv('{plain}', header = true, "
        "all_varchar = true)"
    )
    con.close()
    return time.perf_counter() - started, "vendors"


@contextmanager
def _package_text(package: Path) -> Iterator[io.TextIOWrapper]:
    """The package's data file as text, read straight from the zip."""
    with zipfile.ZipFile(package) as archive, archive.open(DATA_FILE) as member:
        yield io.TextIOWrapper(member, encoding="utf-16", newline="")


def land_dlt(package: Path, database: Path) -> tuple[float, str]:
    dlt = harness.peer("dlt")

    @dlt.resource(name="vendors", write_disposition="append")
    def vendors() -> Iterator[list[dict[str, str]]]:
        with _package_text(package) as text:
            reader = csv.DictReader(text)
            while chunk := list(itertools.islice(reader, DLT_CHUNK)):
                yield chunk

    started = time.perf_counter()
    pipeline = dlt.pipeline(
        pipeline_name=database.stem.replace("-", "_"),
        destination=dlt.destinations.duckdb(str(database)),
        dataset_name="raw_scm",
        pipelines_dir=str(database.parent / f"{database.stem}-pipelines"),
    )
    pipeline.run(vendors(), loader_file_format="parquet")
    seconds = time.perf_counter() - started
    pipeline.drop()
    shutil.rmtree(database.parent / f"{database.stem}-pipelines", ignore_errors=True)
    return seconds, "raw_scm.vendors"


def land_csv_loop(package: Path, database: Path, rows: int) -> tuple[float, str]:
    started = time.perf_counter()
    con = duckdb.connect(str(database))
    with _package_text(package) as text:
        reader = csv.reader(text)
        columns = next(reader)
        con.execute("CREATE TABLE vendors (" + ", ".join(f'"{c}" VARCHAR' for c in columns) + ")")
        insert = f"INSERT INTO vendors VALUES ({', '.join('?' * len(columns))})"
        wanted = itertools.islice(reader, rows)
        con.execute("BEGIN")
        while chunk := list(itertools.islice(wanted, CHUNK)):
            con.executemany(insert, chunk)
        con.execute("COMMIT")
    con.close()
    return time.perf_counter() - started, "vendors"
