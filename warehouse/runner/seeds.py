"""Seeds: the mapping tables users edit as CSV, loaded into ``seeds.<file stem>``.

Every ``data/seeds/*.csv`` becomes a table of VARCHAR columns named by its header (a header is
required: names non-empty and distinct). A seed is reloaded only when its file changed (SHA-256 in
``ops.seed_state``) or its table is gone; a seed whose file was removed loses its table, so a
model still reading it fails loudly. ``seeds.mismatch_kinds`` comes from
``warehouse.taxonomy`` the same way.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from connectors.errors import ModelError
from warehouse import state, taxonomy
from warehouse.db import count, qualified, quote_ident, quote_literal, transaction

KINDS_SEED = "mismatch_kinds"


@dataclass(frozen=True)
class SeedResult:
    seed: str
    relation: str
    rows: int
    loaded: bool  # False: unchanged since the last load


def load_seeds(con: duckdb.DuckDBPyConnection, files: tuple[Path, ...]) -> list[SeedResult]:
    """Load changed seeds (each in its own transaction) and drop seeds whose file is gone."""
    loaded = {
        str(r[0]): (str(r[1]), int(r[2]))
        for r in con.execute("SELECT seed, checksum, rows FROM ops.seed_state").fetchall()
    }
    present = {
        str(r[0]).lower()
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'seeds'"
        ).fetchall()
    }
    results: list[SeedResult] = []
    wanted = {KINDS_SEED}
    for path in files:
        name = path.stem.lower()
        wanted.add(name)
        data = path.read_bytes()
        checksum = hashlib.sha256(data).hexdigest()
        if loaded.get(name, ("", 0))[0] == checksum and name in present:
            results.append(SeedResult(name, f"seeds.{name}", loaded[name][1], False))
            continue
        header = _header(path, data)
        with transaction(con):
            rows = _load_csv(con, name, path, header)
            _record(con, name, checksum, rows)
        results.append(SeedResult(name, f"seeds.{name}", rows, True))
    results.append(_load_kinds(con, loaded, present))
    for gone in sorted(set(loaded) - wanted):
        with transaction(con):
            con.execute(f"DROP TABLE IF EXISTS {qualified('seeds', gone)}")
            con.execute("DELETE FROM ops.seed_state WHERE seed = ?", [gone])
    return results


def _header(path: Path, data: bytes) -> list[str]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ModelError(f"seed {path.name}: not UTF-8 ({exc})", files=[str(path)]) from None
    first = next(csv.reader(io.StringIO(text)), None)
    if not first:
        raise ModelError(
            f"seed {path.name}: empty file; a header row is required", files=[str(path)]
        )
    names = [c.strip() for c in first]
    if any(not n for n in names) or len({n.lower() for n in names}) != len(names):
        raise ModelError(
            f"seed {path.name}: the header {first} must name every column once",
            files=[str(path)],
        )
    return names


def _load_csv(con: duckdb.DuckDBPyConnection, name: str, path: Path, header: list[str]) -> int:
    columns = "{" + ", ".join(f"{quote_literal(c)}: 'VARCHAR'" for c in header) + "}"
    target = qualified("seeds", name)
    try:
        con.execute(
            f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM read_csv("
            f"{quote_literal(str(path))}, header = true, auto_detect = false, delim = ',', "
            f"quote = '\"', escape = '\"', columns = {columns}, strict_mode = true)"
        )
    except duckdb.Error as exc:
        raise ModelError(f"seed {path.name}: {exc}", files=[str(path)]) from None
    return count(con, f"SELECT count(*) FROM {target}")


def _record(con: duckdb.DuckDBPyConnection, name: str, checksum: str, rows: int) -> None:
    con.execute(
        "INSERT OR REPLACE INTO ops.seed_state (seed, relation, checksum, rows, loaded_at) "
        "VALUES (?, ?, ?, ?, ?)",
        [name, f"seeds.{name}", checksum, rows, state.utcnow()],
    )


def _load_kinds(
    con: duckdb.DuckDBPyConnection, loaded: dict[str, tuple[str, int]], present: set[str]
) -> SeedResult:
    kinds = [
        {k: (None if v is None else str(v)) for k, v in asdict(kind).items()}
        for kind in taxonomy.KINDS
    ]
    checksum = hashlib.sha256(json.dumps(kinds, sort_keys=True).encode()).hexdigest()
    relation = f"seeds.{KINDS_SEED}"
    if loaded.get(KINDS_SEED, ("", 0))[0] == checksum and KINDS_SEED in present:
        return SeedResult(KINDS_SEED, relation, loaded[KINDS_SEED][1], False)
    names = list(kinds[0])
    table = pa.table({n: pa.array([k[n] for k in kinds], pa.string()) for n in names})
    view = "_clmsync_kinds"
    with transaction(con):
        con.register(view, table)
        try:
            con.execute(
                f"CREATE OR REPLACE TABLE {qualified('seeds', KINDS_SEED)} AS SELECT "
                + ", ".join(quote_ident(n) for n in names)
                + f" FROM {view}"
            )
        finally:
            con.unregister(view)
        _record(con, KINDS_SEED, checksum, len(kinds))
    return SeedResult(KINDS_SEED, relation, len(kinds), True)
