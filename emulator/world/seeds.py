"""The seed mapping tables between the CLM's codes and SCM's, as CSV files.

``seeds/<name>.csv`` in a world and ``data/seeds/<name>.csv`` in the repository hold the same
bytes: both are rendered from :mod:`emulator.world.reference`. ``preferred`` marks the CLM code
used when an SCM value is sent to the CLM (one per SCM value).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

import duckdb

from emulator.world import reference as ref

SeedTable = tuple[tuple[str, ...], list[tuple[str, ...]]]


def _flag(value: bool) -> str:
    return "true" if value else "false"


def seed_tables() -> dict[str, SeedTable]:
    """Every seed table: file stem → (header, rows)."""
    currencies: list[tuple[str, ...]] = [(c[0], c[0], "true") for c in ref.CURRENCIES]
    currencies += [(alias, iso, "false") for alias, iso in ref.CLM_CURRENCY_ALIASES]
    countries: list[tuple[str, ...]] = [(iso2, iso3, "true") for iso2, iso3 in ref.COUNTRIES]
    countries += [(alias, iso3, "false") for alias, iso3 in ref.COUNTRY_ALIASES]
    return {
        "clm_business_units": (("clm_business_unit", "legal_entity"), list(ref.BUSINESS_UNITS)),
        "clm_payment_terms": (
            ("clm_payment_terms", "scm_payment_terms", "preferred"),
            [(c, s, _flag(p)) for c, s, p in ref.CLM_PAYMENT_TERMS],
        ),
        "clm_units": (
            ("clm_unit", "scm_unit", "preferred"),
            [(c, s, _flag(p)) for c, s, p in ref.CLM_UNITS],
        ),
        "clm_currencies": (("clm_currency", "scm_currency", "preferred"), currencies),
        "clm_countries": (("clm_country", "scm_country", "preferred"), countries),
        "clm_contract_types": (
            ("clm_contract_type", "scm_contract_type"),
            list(ref.CLM_CONTRACT_TYPES),
        ),
        "clm_contract_statuses": (("clm_status", "scm_status"), list(ref.CLM_CONTRACT_STATUSES)),
        "clm_agreement_statuses": (
            ("clm_status", "scm_status"),
            list(ref.CLM_AGREEMENT_STATUSES),
        ),
    }


def render_csv(header: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    """CSV bytes: UTF-8, LF line ends, quotes only where a value needs them."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def write_seeds(out_dir: Path) -> list[Path]:
    """Write every seed table to ``out_dir/<name>.csv``; returns the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (header, rows) in seed_tables().items():
        path = out_dir / f"{name}.csv"
        path.write_bytes(render_csv(header, rows))
        written.append(path)
    return written


def load_seeds(con: duckdb.DuckDBPyConnection, seeds_dir: Path, schema: str) -> None:
    """Create ``<schema>.seed_<name>`` tables from the CSV files in ``seeds_dir`` (all VARCHAR).

    A missing file or a file whose header differs from the expected one is an error naming it:
    a mapping table that silently lost a column would turn every code it maps into a mismatch.
    """
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    for name, (header, _rows) in seed_tables().items():
        path = seeds_dir / f"{name}.csv"
        if not path.is_file():
            raise FileNotFoundError(f"seed table {path} is missing")
        with path.open(encoding="utf-8", newline="") as fh:
            found = tuple(next(csv.reader(fh), ()))
        if found != header:
            raise ValueError(f"{path}: header {list(found)} differs from {list(header)}")
        cols = ", ".join(f"'{c}': 'VARCHAR'" for c in header)
        con.execute(
            f"CREATE OR REPLACE TABLE {schema}.seed_{name} AS SELECT * FROM read_csv("
            f"?, header = true, columns = {{{cols}}}, quote = '\"', escape = '\"', "
            "auto_detect = false, delim = ',')",
            [str(path)],
        )


def create_seed_tables(con: duckdb.DuckDBPyConnection, schema: str) -> None:
    """Create ``<schema>.seed_<name>`` tables straight from the constants (generation time)."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    for name, (header, rows) in seed_tables().items():
        cols = ", ".join(f"{c} VARCHAR" for c in header)
        con.execute(f"CREATE OR REPLACE TABLE {schema}.seed_{name} ({cols})")
        marks = ", ".join("?" for _ in header)
        con.executemany(f"INSERT INTO {schema}.seed_{name} VALUES ({marks})", rows)
