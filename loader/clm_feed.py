"""The master-data feed to the CLM: SCM's vendor values onto the CLM's counterparties.

Plan rows of ``deltas.dlt_clm__master_data`` go through the CLM's bulk upsert API (one item per
counterparty, the fields of all its rows merged, 1,000 items a call), or, for a CLM that takes
files, into an export folder (``counterparties.jsonl`` + ``manifest.json`` with row counts and
SHA-256, the shape the CLM's own exports have). Same plan, same ledger as the SCM push. An upsert
by id gives the same result when sent again, so rows left ``sent`` are simply sent again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from connectors.clm import MAX_UPSERT, ClmClient
from loader import ledger
from loader.ledger import Outcome
from loader.model import Drift, PlanRow, ProgressCallback, PushProgress, VerifyResult
from loader.plan import load_rows
from loader.schema import LEDGER

log = logging.getLogger(__name__)

SINCE_MARGIN = timedelta(seconds=30)  # clock difference tolerated when reading changes back


def _active(con: duckdb.DuckDBPyConnection, run_id: str) -> list[PlanRow]:
    return load_rows(
        con,
        run_id,
        f"p.target = 'clm' AND p.seq IN (SELECT seq FROM {LEDGER} l WHERE l.run_id = p.run_id "
        "AND l.status IN ('pending', 'sent'))",
    )


def _items(rows: Sequence[PlanRow]) -> dict[str, dict[str, Any]]:
    items: dict[str, dict[str, Any]] = {}
    for row in rows:
        item = items.setdefault(str(row.clm_id), {"id": str(row.clm_id)})
        item.update(row.payload)
    return items


def push_feed(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    *,
    clm: ClmClient | None,
    feed_folder: Path | None,
    progress: ProgressCallback | None = None,
) -> int:
    """Send the run's CLM rows; returns how many rows were handled."""
    rows = _active(con, run_id)
    api = [r for r in rows if r.channel == "clm_api"]
    files = [r for r in rows if r.channel == "clm_export"]
    if api:
        if clm is None:
            raise ValueError("the plan sends master data to the CLM API, but no CLM client")
        _upsert(con, clm, run_id, api, progress)
    if files:
        if feed_folder is None:
            raise ValueError("the plan writes master data to a folder, but none is configured")
        _export(con, run_id, files, feed_folder)
    return len(rows)


def _upsert(
    con: duckdb.DuckDBPyConnection,
    clm: ClmClient,
    run_id: str,
    rows: Sequence[PlanRow],
    progress: ProgressCallback | None,
) -> None:
    items = _items(rows)
    ids = list(items)
    by_id: dict[str, list[int]] = {}
    for row in rows:
        by_id.setdefault(str(row.clm_id), []).append(row.seq)
    done = failed = 0
    for start in range(0, len(ids), MAX_UPSERT):
        chunk = ids[start : start + MAX_UPSERT]
        seqs = [s for i in chunk for s in by_id[i]]
        batch_id = f"clm-upsert-{start // MAX_UPSERT + 1:04d}"
        ledger.mark_sent(con, run_id, seqs, channel="clm_api", batch_id=batch_id)
        results = clm.bulk_upsert([items[i] for i in chunk])
        outcomes: list[Outcome] = []
        for item_id, result in zip(chunk, results, strict=True):
            for seq in by_id[item_id]:
                if result.status == "error":
                    failed += 1
                    outcomes.append(Outcome(seq, "failed", reason="the CLM refused the update",
                                            scm_message=result.error))  # fmt: skip
                else:
                    done += 1
                    note = "the CLM created it (it did not have this id)" if (
                        result.status == "created") else None  # fmt: skip
                    outcomes.append(Outcome(seq, "succeeded", reason=note))
        ledger.record(con, run_id, outcomes)
        if progress is not None:
            progress(PushProgress("clm_feed", "counterparty", None, "clm_api", done + failed,
                                  len(rows), done, failed))  # fmt: skip
    log.info("CLM feed: %d rows upserted, %d refused", done, failed)


def _export(
    con: duckdb.DuckDBPyConnection, run_id: str, rows: Sequence[PlanRow], feed_folder: Path
) -> None:
    folder = feed_folder / f"clmsync-{run_id}"
    folder.mkdir(parents=True, exist_ok=True)
    items = _items(rows)
    data = "".join(json.dumps(i, ensure_ascii=False, sort_keys=True) + "\n" for i in items.values())
    encoded = data.encode("utf-8")
    (folder / "counterparties.jsonl").write_bytes(encoded)
    manifest = {
        "export_id": folder.name,
        "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "since": None,
        "files": [
            {
                "object": "counterparties",
                "file": "counterparties.jsonl",
                "rows": len(items),
                "sha256": hashlib.sha256(encoded).hexdigest(),
            }
        ],
    }
    # The manifest last: a reader takes a folder without one as still being written.
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    seqs = [r.seq for r in rows]
    ledger.mark_sent(con, run_id, seqs, channel="clm_export", batch_id=folder.name)
    ledger.record(
        con,
        run_id,
        [
            Outcome(s, "succeeded", reason=f"written to {folder} for the CLM to import")
            for s in seqs
        ],
    )
    log.info("CLM feed: %d counterparties written to %s", len(items), folder)


def _value(item: dict[str, Any], name: str) -> Any:
    if name.startswith("address."):
        address = item.get("address") or {}
        return address.get(name.split(".", 1)[1]) if isinstance(address, dict) else None
    return item.get(name)


def verify_feed(con: duckdb.DuckDBPyConnection, clm: ClmClient | None, run_id: str) -> VerifyResult:
    """Read back the counterparties the feed updated through the API; files are unverifiable."""
    started = time.perf_counter()
    rows = load_rows(
        con,
        run_id,
        f"p.target = 'clm' AND p.seq IN (SELECT seq FROM {LEDGER} l WHERE l.run_id = p.run_id "
        "AND l.status = 'succeeded')",
    )
    result = VerifyResult(run_id=run_id, checked=len(rows))
    outcome: dict[int, tuple[str, dict[str, Any]]] = {}
    api = [r for r in rows if r.channel == "clm_api"]
    for row in rows:
        if row.channel != "clm_api":
            outcome[row.seq] = ("unverifiable", {})
    if api and clm is not None:
        since = con.execute(
            f"SELECT min(sent_at) FROM {LEDGER} WHERE run_id = ? AND channel = 'clm_api'",
            [run_id],
        ).fetchall()[0][0]
        wanted = {str(r.clm_id) for r in api}
        found: dict[str, dict[str, Any]] = {}
        start = (since - SINCE_MARGIN).strftime("%Y-%m-%dT%H:%M:%SZ") if since else None
        for page in clm.pages("counterparties", updated_since=start):
            found.update({str(i.get("id")): i for i in page.items if str(i.get("id")) in wanted})
        for row in api:
            item = found.get(str(row.clm_id))
            if item is None:
                outcome[row.seq] = ("missing", {})
                continue
            drift = {
                k: {"intended": v, "actual": _value(item, k)}
                for k, v in row.payload.items()
                if (v or "") != (_value(item, k) or "")
            }
            outcome[row.seq] = ("drift" if drift else "verified", drift)
    ledger.record_verify(con, run_id, {s: (st, d, None) for s, (st, d) in outcome.items()})
    by_seq = {r.seq: r for r in rows}
    for seq, (status, drift) in sorted(outcome.items()):
        if status == "verified":
            result.verified += 1
        elif status == "unverifiable":
            result.unverifiable += 1
        else:
            row = by_seq[seq]
            result.drift.append(
                Drift(seq, row.entity, row.legal_entity, row.record_key, status, drift)
            )
    result.seconds = time.perf_counter() - started
    return result
