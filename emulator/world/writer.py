"""Write a generated world to disk: Parquet per SCM entity and CLM collection, seeds, truth.

Layout of ``out_dir``::

    scm/<EntitySet>.parquet     one per catalog entity with direction != control
    clm/<collection>.parquet    counterparties, contracts, agreements, agreement-lines
    seeds/*.csv                 the seed mapping tables
    truth/links.parquet         which vendor each counterparty really belongs to (the emulator's
                                own knowledge, never served; mutations and tests use it)
    ground_truth.json           what the next reconciliation must find
    world.json                  size, seed, rates, counts and file checksums

Files are written in a fixed row order with fixed settings, so the same world gives the same
bytes.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from connectors import catalog
from emulator.world import seeds
from emulator.world.context import ANCHOR, CLM, OUT, Ctx
from emulator.world.sqlkit import ident
from emulator.world.truth import COLUMNS

GENERATED_AT = ANCHOR.replace(" ", "T") + "Z"
LINKS_SELECT = """
    SELECT c.cid AS counterparty_id, c.le AS legal_entity, v.acct AS vendor_account,
           CASE WHEN c.c_acct IS NOT NULL THEN 'vendor_account'
                WHEN c.c_tax IS NOT NULL THEN 'tax_id' ELSE 'name' END AS method,
           c.variant_kind AS name_variant
    FROM w_cp c JOIN w_vendor v ON v.vid = c.vid ORDER BY c.cid"""
GT_ORDER = "kind, entity, legal_entity, record_key, field NULLS FIRST, clm_id"


def _copy(ctx: Ctx, select: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    ctx.con.execute(
        f"COPY ({select}) TO ? (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 100000)",
        [str(path)],
    )


def entry_json_sql(relation: str) -> str:
    """SELECT the JSON text of each ground-truth entry of ``relation``, in the file's order."""
    fields = ", ".join(f"{c} := {c}" for c in COLUMNS[:8])
    return (
        f"SELECT to_json(struct_pack({fields}, expected := struct_pack(report := report, "
        f"action := action))) FROM {relation} ORDER BY {GT_ORDER}"
    )


def ground_truth_text(header: dict[str, object], discrepancies: list[str], noise: list[str]) -> str:
    """The ground-truth document: header keys, then one entry per line in each list."""
    head = json.dumps(header, ensure_ascii=False, sort_keys=False)[:-1]
    parts = [head, ', "discrepancies": [']
    parts.append(",\n".join(discrepancies))
    parts.append('], "noise": [')
    parts.append(",\n".join(noise))
    parts.append("]}\n")
    return "\n".join(parts)


def write_world(ctx: Ctx, out_dir: Path) -> dict[str, dict[str, int]]:
    """Write every file of the world; returns row counts per SCM entity and CLM collection."""
    out_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, dict[str, int]] = {"scm": {}, "clm": {}}
    for entity in catalog.synced_entities():
        order = ", ".join(ident(k) for k in entity.keys)
        table = f"{OUT}.{ident(entity.name)}"
        _copy(
            ctx,
            f"SELECT * FROM {table} ORDER BY {order}",
            out_dir / "scm" / f"{entity.name}.parquet",
        )
        counts["scm"][entity.name] = ctx.count(table)
    for obj in catalog.CLM_OBJECTS:
        table = f"{CLM}.{obj.table}"
        _copy(ctx, f"SELECT * FROM {table} ORDER BY updated_at, id",
              out_dir / "clm" / f"{obj.collection}.parquet")  # fmt: skip
        counts["clm"][obj.collection] = ctx.count(table)
    seeds.write_seeds(out_dir / "seeds")
    _copy(ctx, LINKS_SELECT, out_dir / "truth" / "links.parquet")
    header: dict[str, object] = {
        "size": ctx.size,
        "seed": ctx.seed,
        "rates": ctx.rates,
        "generated_at": GENERATED_AT,
    }
    disc = [row[0] for row in ctx.con.execute(entry_json_sql("w_gt")).fetchall()]
    noise = [row[0] for row in ctx.con.execute(entry_json_sql("w_noise")).fetchall()]
    (out_dir / "ground_truth.json").write_text(
        ground_truth_text(header, disc, noise), encoding="utf-8"
    )
    by_kind = dict(
        ctx.con.execute("SELECT kind, count(*) FROM w_gt GROUP BY kind ORDER BY kind").fetchall()
    )
    files = {
        str(p.relative_to(out_dir)): _sha256(p)
        for p in sorted(out_dir.rglob("*"))
        if p.is_file() and p.name != "world.json"
    }
    world = {
        **header,
        "anchor": GENERATED_AT,
        "legal_entities": [e[0] for e in ctx.con.execute(
            f'SELECT "LegalEntityId" FROM {OUT}."LegalEntities" ORDER BY 1').fetchall()],
        "counts": counts,
        "discrepancies": {"total": len(disc), "by_kind": by_kind},
        "noise": len(noise),
        "files": files,
    }  # fmt: skip
    (out_dir / "world.json").write_text(
        json.dumps(world, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return counts


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
