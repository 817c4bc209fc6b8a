"""The state one generation run shares between its steps."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from connectors import catalog
from emulator.world.sqlkit import Rand, ident, typed_select

# The world's own clock: every generated timestamp lies before ANCHOR, every object the CLM
# changed after SCM last synchronised has updated_at at or after LAST_SYNC.
ANCHOR = "2026-01-01 00:00:00"
LAST_SYNC = "2025-12-01 00:00:00"
OUT = "scm_out"  # schema holding the SCM tables as they are written
CLM = "clm_out"  # schema holding the CLM tables as they are written
SEEDS = "seed"  # schema holding the seed tables used while generating


@dataclass
class Ctx:
    """Connection, randomness and parameters of one generation run."""

    con: duckdb.DuckDBPyConnection
    rnd: Rand
    size: int
    rates: dict[str, float]

    @property
    def seed(self) -> int:
        return self.rnd.seed

    def run(self, sql: str) -> None:
        self.con.execute(sql)

    def table(self, name: str, select: str) -> None:
        """Create (or replace) work table ``name`` from ``select``."""
        self.con.execute(f"CREATE OR REPLACE TABLE {name} AS {select}")

    def view(self, name: str, select: str) -> None:
        """Create (or replace) a view: a step read once, so never copied into a table."""
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {select}")

    def scm(self, entity_name: str, exprs: dict[str, str], source: str) -> None:
        """Create the SCM output table of ``entity_name`` with every catalog field, typed."""
        entity = catalog.entity(entity_name)
        select = typed_select(entity, exprs, source)
        self.con.execute(f"CREATE OR REPLACE TABLE {OUT}.{ident(entity.name)} AS {select}")

    def count(self, relation: str) -> int:
        row = self.con.execute(f"SELECT count(*) FROM {relation}").fetchall()
        return int(row[0][0])
