"""CLM export folders: the other way CLMs deliver their data.

``export_clm(con, out_dir, since=None)`` writes ``out_dir/<export_id>/<collection>.jsonl`` (one
JSON object per line, the same objects the API serves, ordered by ``(updated_at, id)``; with
``since``, only objects updated at or after it) and ``manifest.json``::

    {"export_id", "created_at", "since",
     "files": [{"object", "file", "rows", "sha256"}]}

The manifest is written last, so a folder without one is an export still being written.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from connectors import catalog
from emulator.world import clm_store
from emulator.world.clm_json import columns_sql, iso


def export_clm(
    con: duckdb.DuckDBPyConnection, out_dir: Path, since: datetime | None = None
) -> Path:
    """Write one export folder from the CLM tables in ``con``; returns the folder."""
    now = datetime.now(UTC).replace(tzinfo=None)
    export_id = "clm-export-" + now.strftime("%Y%m%dT%H%M%S%fZ")
    folder = Path(out_dir) / export_id
    folder.mkdir(parents=True, exist_ok=False)
    files: list[dict[str, Any]] = []
    for obj in catalog.CLM_OBJECTS:
        path = folder / f"{obj.collection}.jsonl"
        where = "WHERE updated_at >= ?" if since is not None else ""
        params = [since] if since is not None else []
        con.execute(
            f"COPY (SELECT {columns_sql(obj)} FROM {clm_store.table(obj)} {where} "
            f"ORDER BY updated_at, id) TO '{_literal(path)}' (FORMAT json)",
            params,
        )
        rows = int(
            con.execute(f"SELECT count(*) FROM {clm_store.table(obj)} {where}", params).fetchall()[
                0
            ][0]
        )
        files.append({"object": obj.name, "file": path.name, "rows": rows, "sha256": _sha256(path)})
    manifest = {
        "export_id": export_id,
        "created_at": iso(now),
        "since": iso(since) if since is not None else None,
        "files": files,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return folder


def export_world(world_dir: Path, out_dir: Path, since: datetime | None = None) -> Path:
    """Export the CLM side of a generated world (no emulator running)."""
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET TimeZone = 'UTC'")
        clm_store.load(con, world_dir)
        return export_clm(con, out_dir, since)
    finally:
        con.close()


def verify(folder: Path) -> list[str]:
    """Problems of an export folder (empty when its manifest's counts and checksums hold)."""
    problems = []
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    for entry in manifest["files"]:
        path = folder / entry["file"]
        if not path.is_file():
            problems.append(f"{entry['file']}: missing")
            continue
        if _sha256(path) != entry["sha256"]:
            problems.append(f"{entry['file']}: checksum differs")
        with path.open("rb") as fh:
            lines = sum(1 for _ in fh)
        if lines != entry["rows"]:
            problems.append(f"{entry['file']}: {lines} rows, manifest says {entry['rows']}")
    return problems


def _literal(path: Path) -> str:
    return str(path).replace("'", "''")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
