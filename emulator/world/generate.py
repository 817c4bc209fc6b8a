"""``generate(size, seed, out_dir)``: build a world and write it to ``out_dir``.

The steps run in one in-memory DuckDB database: reference data and products, vendors and
contacts, counterparties, contracts with their agreements and lines, the CLM's current values,
SCM's synced copies, the ground truth; then every table is written out (see ``writer``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from emulator.world import (
    emit_docs,
    gen_counterparties,
    gen_docs,
    gen_master,
    gen_vendors,
    seeds,
    textnoise,
    truth,
    writer,
)
from emulator.world.context import SEEDS, Ctx
from emulator.world.rates import resolve_rates
from emulator.world.sqlkit import Rand

MIN_SIZE = 10


@dataclass(frozen=True)
class WorldSummary:
    """What ``generate`` wrote: where, from which parameters, how many rows and discrepancies."""

    out_dir: Path
    size: int
    seed: int
    rates: dict[str, float]
    counts: dict[str, dict[str, int]]
    discrepancies: dict[str, int] = field(default_factory=dict)
    noise: int = 0
    seconds: float = 0.0

    @property
    def ground_truth(self) -> Path:
        return self.out_dir / "ground_truth.json"


def build(con: duckdb.DuckDBPyConnection, size: int, seed: int, rates: dict[str, float]) -> Ctx:
    """Build every table of the world in ``con`` (no files written)."""
    if size < MIN_SIZE:
        raise ValueError(f"size must be at least {MIN_SIZE} vendors, got {size}")
    ctx = Ctx(con, Rand(seed), size, rates)
    seeds.create_seed_tables(con, SEEDS)
    con.execute(textnoise.nfd_macro_sql())
    gen_master.build_all(ctx)
    gen_vendors.build_all(ctx)
    gen_counterparties.build_counterparties(ctx)
    gen_docs.build_bundles(ctx)
    gen_docs.build_lines(ctx)
    emit_docs.build_current(ctx)
    emit_docs.build_scm_documents(ctx)
    emit_docs.build_clm(ctx)
    truth.build_truth(ctx)
    return ctx


def generate(
    size: int, seed: int, out_dir: Path, rates: Mapping[str, float] | None = None
) -> WorldSummary:
    """Generate the world of ``size`` vendors from ``seed`` into ``out_dir``.

    The same size, seed and rates always give byte-identical files. ``rates`` overrides the
    default share of eligible objects that get each discrepancy kind (see ``rates``).
    """
    started = time.perf_counter()
    resolved = resolve_rates(rates)
    out_dir = Path(out_dir)
    con = duckdb.connect(":memory:")
    try:
        ctx = build(con, int(size), int(seed), resolved)
        counts = writer.write_world(ctx, out_dir)
        by_kind = dict(con.execute("SELECT kind, count(*) FROM w_gt GROUP BY kind").fetchall())
        noise = ctx.count("w_noise")
    finally:
        con.close()
    return WorldSummary(
        out_dir=out_dir,
        size=int(size),
        seed=int(seed),
        rates=resolved,
        counts=counts,
        discrepancies={str(k): int(v) for k, v in sorted(by_kind.items())},
        noise=noise,
        seconds=time.perf_counter() - started,
    )
