"""Mutations for incremental runs, and the ground truth of the next run.

``mutate(store, fraction, seed)`` changes a loaded world in place (see ``mutate_ops``), then
writes the next run's ground truth: the reference reconciliation (``oracle``) run on the store as
it now is. That is exactly "the entries still unresolved plus the new ones": an entry whose
action was applied (a contract created, a date updated, a line deleted, a CLM copy refreshed)
no longer shows up, an entry nothing acted on (and every report-only one) still does.

The file goes to ``out``, by default ``<state dir>/ground_truth.json`` where the state dir is the
folder holding the loaded world (``<state dir>/world``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import duckdb

from emulator.world import clm_store, oracle, writer
from emulator.world.clm_json import iso
from emulator.world.mutate_ops import InsertTyped, Mutation
from emulator.world.sqlkit import Rand

STORE = oracle.Sources(scm="scm", clm="clm", seeds="world", links="world.links")


class StoreLike(Protocol):
    """What mutations need of the emulator's store."""

    def transaction(self) -> Any: ...  # a context manager yielding the writer connection

    def insert_typed(
        self, con: duckdb.DuckDBPyConnection, entity: Any, select: str
    ) -> None: ...  # fmt: skip


@dataclass
class MutationResult:
    """What one mutation did: its number, counts per change, and planted entries it expected
    in the new ground truth but did not find there (always empty unless something is wrong)."""

    number: int
    counts: dict[str, int]
    discrepancies: int
    noise: int
    missing: list[tuple[str, str]] = field(default_factory=list)


def mutate(store: StoreLike, fraction: float, seed: int, *, out: Path | None = None) -> Path:
    """Mutate the store's world and write the next ground truth; returns its path."""
    path, _result = mutate_with_result(store, fraction, seed, out=out)
    return path


def mutate_with_result(
    store: StoreLike, fraction: float, seed: int, *, out: Path | None = None
) -> tuple[Path, MutationResult]:
    if not 0.0 < float(fraction) <= 1.0:
        raise ValueError(f"fraction must be greater than 0 and at most 1, got {fraction!r}")
    with store.transaction() as con:
        result, text = _mutate(con, float(fraction), int(seed), store.insert_typed)
        path = out or clm_store.world_dir(con).parent / "ground_truth.json"
    path.write_text(text, encoding="utf-8")
    return path, result


def _mutate(
    con: duckdb.DuckDBPyConnection, fraction: float, seed: int, insert_typed: InsertTyped
) -> tuple[MutationResult, str]:
    number = int(con.execute("SELECT mutations FROM world.meta").fetchall()[0][0]) + 1
    con.execute("UPDATE world.meta SET mutations = ?", [number])
    ts = clm_store.stamp(con)
    oracle.reconcile(con, STORE)
    vendors = int(con.execute('SELECT count(*) FROM scm."VendorsV2"').fetchall()[0][0])
    m = Mutation(con, fraction, Rand((seed * 7919 + number) % 2**61), number, ts)
    m.eligibility()
    m.amend()
    m.new_contracts()
    m.update_vendors()
    m.delete_vendors()
    m.create_vendors(insert_typed, vendors)
    oracle.reconcile(con, STORE)
    missing = con.execute(
        """SELECT kind, ref FROM m_planted p WHERE NOT EXISTS (SELECT 1 FROM o_gt g
             WHERE g.kind = p.kind AND (g.clm_id = p.ref OR g.legal_entity || '|' ||
                   g.record_key = p.ref))
           ORDER BY ALL"""
    ).fetchall()
    extra = {"number": number, "fraction": fraction, "seed": seed, "counts": m.counts}
    text = ground_truth(con, ts_text=iso(ts), mutation=extra)
    result = MutationResult(
        number=number,
        counts=dict(m.counts),
        discrepancies=_count(con, "o_gt"),
        noise=_count(con, "o_noise"),
        missing=[(str(k), str(r)) for k, r in missing],
    )
    _drop_temp(con)
    return result, text


def ground_truth(
    con: duckdb.DuckDBPyConnection, *, ts_text: str, mutation: dict[str, Any] | None = None
) -> str:
    """The ground-truth document of ``o_gt``/``o_noise`` with the loaded world's header."""
    size, seed, rates = con.execute("SELECT size, seed, rates FROM world.meta").fetchall()[0]
    header: dict[str, Any] = {
        "size": size,
        "seed": seed,
        "rates": json.loads(rates) if rates else None,
        "generated_at": ts_text,
    }
    if mutation is not None:
        header["mutation"] = mutation
    disc = [r[0] for r in con.execute(writer.entry_json_sql("o_gt")).fetchall()]
    noise = [r[0] for r in con.execute(writer.entry_json_sql("o_noise")).fetchall()]
    return writer.ground_truth_text(header, disc, noise)


def refresh_ground_truth(store: StoreLike, out: Path) -> Path:
    """Recompute the ground truth from the store as it is (e.g. after a push) into ``out``."""
    with store.transaction() as con:
        oracle.reconcile(con, STORE)
        text = ground_truth(con, ts_text=iso(datetime.now(UTC).replace(tzinfo=None)))
        _drop_temp(con)
    out.write_text(text, encoding="utf-8")
    return out


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])


def _drop_temp(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.execute(
        "SELECT table_name, table_type FROM information_schema.tables "
        "WHERE table_schema = 'main' AND table_catalog = 'temp' "
        "AND (table_name LIKE 'o\\_%' ESCAPE '\\' OR table_name LIKE 'm\\_%' ESCAPE '\\')"
    ).fetchall()
    for name, kind in rows:
        con.execute(f"DROP {'VIEW' if kind == 'VIEW' else 'TABLE'} IF EXISTS temp.main.{name}")
