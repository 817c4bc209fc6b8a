"""The CLM side of the emulator's store: its four collections and the world's own knowledge.

``load(con, world_dir)`` creates ``clm.counterparties``, ``clm.contracts``, ``clm.agreements``
and ``clm.agreement_lines`` from the world's Parquet files, physically ordered by
``(updated_at, id)`` (the API's paging order, so its range scans skip row groups), and schema
``world`` with the seed tables (``world.seed_<name>``), the hidden link table
(``world.links``), the world's identity (``world.meta``) and the CLM clock (``world.clock``).

The clock makes every CLM write stamp a strictly increasing ``updated_at`` (the wall clock, or one
microsecond after the latest stamp when the wall clock is behind): a client paging by
``(updated_at, id)`` then never misses a row changed while it pages.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from connectors import catalog
from emulator.world import seeds
from emulator.world.emit_docs import CLM_SQL_TYPES

SCHEMA = "clm"
WORLD = "world"


def table(obj: catalog.ClmObject) -> str:
    return f"{SCHEMA}.{obj.table}"


def _check_columns(con: duckdb.DuckDBPyConnection, obj: catalog.ClmObject, path: Path) -> None:
    found = {
        r[0]: r[1]
        for r in con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
    }
    for field in obj.fields:
        if field.name not in found:
            raise ValueError(f"{path}: column {field.name!r} of {obj.collection} is missing")
        want = CLM_SQL_TYPES[field.type]
        if field.type != "object" and found[field.name] != want:
            raise ValueError(
                f"{path}: column {field.name!r} is {found[field.name]}, expected {want}"
            )
    extra = sorted(set(found) - set(obj.field_names))
    if extra:
        raise ValueError(f"{path}: unexpected columns {extra} for {obj.collection}")


def load(con: duckdb.DuckDBPyConnection, world_dir: Path) -> dict[str, int]:
    """Create and fill the CLM tables and the ``world`` schema from ``world_dir``."""
    world_dir = Path(world_dir)
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {WORLD}")
    counts = {}
    for obj in catalog.CLM_OBJECTS:
        path = world_dir / "clm" / f"{obj.collection}.parquet"
        if not path.is_file():
            raise FileNotFoundError(f"the world has no CLM file {path}")
        _check_columns(con, obj, path)
        cols = ", ".join(f'"{f.name}"' for f in obj.fields)
        con.execute(
            f"CREATE OR REPLACE TABLE {table(obj)} AS SELECT {cols} FROM read_parquet(?) "
            "ORDER BY updated_at, id",
            [str(path)],
        )
        counts[obj.collection] = int(
            con.execute(f"SELECT count(*) FROM {table(obj)}").fetchall()[0][0]
        )
    seeds.load_seeds(con, world_dir / "seeds", WORLD)
    links = world_dir / "truth" / "links.parquet"
    if links.is_file():
        con.execute(
            f"CREATE OR REPLACE TABLE {WORLD}.links AS SELECT * FROM read_parquet(?)", [str(links)]
        )
    else:  # a world written by hand: no hidden links, every link must be deterministic
        con.execute(
            f"CREATE OR REPLACE TABLE {WORLD}.links (counterparty_id VARCHAR, legal_entity VARCHAR,"
            " vendor_account VARCHAR, method VARCHAR, name_variant VARCHAR)"
        )
    meta_path = world_dir / "world.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
    con.execute(
        f"CREATE OR REPLACE TABLE {WORLD}.meta AS SELECT ? AS world_dir, ? AS size, ? AS seed, "
        "? AS rates, 0 AS mutations",
        [
            str(world_dir.resolve()),
            meta.get("size"),
            meta.get("seed"),
            json.dumps(meta.get("rates")),
        ],
    )
    latest = " UNION ALL ".join(
        f"SELECT max(updated_at) AS t FROM {table(o)}" for o in catalog.CLM_OBJECTS
    )
    con.execute(f"CREATE OR REPLACE TABLE {WORLD}.clock AS SELECT max(t) AS ts FROM ({latest})")
    return counts


def stamp(con: duckdb.DuckDBPyConnection) -> datetime:
    """The next ``updated_at`` for CLM writes (call inside the store's write transaction)."""
    last = con.execute(f"SELECT ts FROM {WORLD}.clock").fetchall()[0][0]
    now = datetime.now(UTC).replace(tzinfo=None)
    if last is not None and now <= last:
        now = last + timedelta(microseconds=1)
    con.execute(f"UPDATE {WORLD}.clock SET ts = ?", [now])
    return now


def world_dir(con: duckdb.DuckDBPyConnection) -> Path:
    """The folder the loaded world came from."""
    rows = con.execute(f"SELECT world_dir FROM {WORLD}.meta").fetchall()
    if not rows:
        raise RuntimeError("no world is loaded")
    return Path(rows[0][0])
