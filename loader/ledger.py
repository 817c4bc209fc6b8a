"""``ops.push_ledger``: what happened to every plan row, written as it happens.

Each plan row gets one ledger row, ``pending`` at first. Before a request that may apply rows
leaves, they are marked ``sent`` (with the channel, batch or execution id, and one more attempt)
in a committed write; when its answer arrives they become ``succeeded``, ``failed`` (with SCM's
message) or go back to ``pending`` for another try. A crash therefore leaves exactly the rows
whose fate is unknown marked ``sent``, and nothing else. Every write is one set-based statement
over an Arrow table of changes, never a statement per row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb
import pyarrow as pa

from loader.model import Failure
from loader.schema import LEDGER, PLAN, TERMINAL
from warehouse.db import transaction


@dataclass(frozen=True)
class Outcome:
    """The new state of one ledger row. ``None`` fields keep what the row holds."""

    seq: int
    status: str
    reason: str | None = None
    http_status: int | None = None
    scm_message: str | None = None
    generated_keys: dict[str, Any] | None = None
    execution_id: str | None = None
    batch_id: str | None = None


def now() -> datetime:
    return datetime.now(UTC)


def open_rows(con: duckdb.DuckDBPyConnection, run_id: str) -> int:
    """Give every plan row of the run a ledger row (``pending``) if it has none yet."""
    rows = con.execute(
        f"""INSERT INTO {LEDGER} (run_id, seq, idempotency_key, target, entity, legal_entity,
              action, record_key, status, channel, batch_id, attempts, updated_at)
            SELECT p.run_id, p.seq, p.idempotency_key, p.target, p.entity, p.legal_entity,
              p.action, p.record_key, 'pending', p.channel, p.batch_id, 0, ?
            FROM {PLAN} p WHERE p.run_id = ? AND NOT EXISTS (
              SELECT 1 FROM {LEDGER} l WHERE l.run_id = p.run_id AND l.seq = p.seq)""",
        [now(), run_id],
    ).fetchall()
    return int(rows[0][0]) if rows else 0


def mark_sent(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    seqs: Sequence[int],
    *,
    channel: str,
    batch_id: str | None = None,
    execution_id: str | None = None,
) -> None:
    """Rows about to leave in one request: ``sent``, one more attempt (committed at once)."""
    if not seqs:
        return
    stamp = now()
    con.execute(
        f"""UPDATE {LEDGER} SET status = 'sent', channel = ?, batch_id = coalesce(?, batch_id),
              execution_id = coalesce(?, execution_id), attempts = attempts + 1, sent_at = ?,
              updated_at = ?
            WHERE run_id = ? AND seq IN (SELECT unnest(?::BIGINT[]))""",
        [channel, batch_id, execution_id, stamp, stamp, run_id, list(seqs)],
    )


def record(con: duckdb.DuckDBPyConnection, run_id: str, outcomes: Iterable[Outcome]) -> None:
    """Write outcomes (terminal or back to ``pending``) in one statement."""
    listed = list(outcomes)
    if not listed:
        return
    table = pa.table(
        {
            "seq": pa.array([o.seq for o in listed], pa.int64()),
            "status": pa.array([o.status for o in listed], pa.string()),
            "reason": pa.array([o.reason for o in listed], pa.string()),
            "http_status": pa.array([o.http_status for o in listed], pa.int32()),
            "scm_message": pa.array([o.scm_message for o in listed], pa.string()),
            "generated_keys": pa.array(
                [json.dumps(o.generated_keys) if o.generated_keys else None for o in listed],
                pa.string(),
            ),
            "execution_id": pa.array([o.execution_id for o in listed], pa.string()),
            "batch_id": pa.array([o.batch_id for o in listed], pa.string()),
        }
    )
    stamp = now()
    con.register("_ledger_outcomes", table)
    try:
        con.execute(
            f"""UPDATE {LEDGER} AS l SET status = o.status,
                  reason = CASE WHEN o.status = 'succeeded' THEN o.reason
                                ELSE coalesce(o.reason, l.reason) END,
                  http_status = coalesce(o.http_status, l.http_status),
                  scm_message = coalesce(o.scm_message, l.scm_message),
                  generated_keys = coalesce(CAST(o.generated_keys AS JSON), l.generated_keys),
                  execution_id = coalesce(o.execution_id, l.execution_id),
                  batch_id = coalesce(o.batch_id, l.batch_id),
                  finished_at = CASE WHEN o.status IN ('succeeded', 'failed', 'skipped')
                                     THEN ? ELSE l.finished_at END,
                  updated_at = ?
                FROM _ledger_outcomes o WHERE l.run_id = ? AND l.seq = o.seq""",
            [stamp, stamp, run_id],
        )
    finally:
        con.unregister("_ledger_outcomes")


def finish_invalid_and_unwanted(
    con: duckdb.DuckDBPyConnection, run_id: str, entities: Sequence[str] | None
) -> None:
    """Invalid deltas fail with their problem; entities the caller did not allow are skipped;
    changes another run already applied are skipped (the idempotency key)."""
    stamp = now()
    with transaction(con):
        con.execute(
            f"""UPDATE {LEDGER} AS l SET status = 'failed', reason = 'invalid delta: ' || p.problem,
                  finished_at = ?, updated_at = ?
                FROM {PLAN} p WHERE p.run_id = l.run_id AND p.seq = l.seq AND l.run_id = ?
                  AND l.status = 'pending' AND p.problem IS NOT NULL""",
            [stamp, stamp, run_id],
        )
        if entities is not None:
            con.execute(
                f"""UPDATE {LEDGER} SET status = 'skipped',
                      reason = 'not pushed: ' || entity || ' was not among the entities allowed',
                      finished_at = ?, updated_at = ?
                    WHERE run_id = ? AND status = 'pending'
                      AND entity NOT IN (SELECT unnest(?::VARCHAR[]))""",
                [stamp, stamp, run_id, list(entities)],
            )
        con.execute(
            f"""UPDATE {LEDGER} AS l SET status = 'skipped',
                  reason = 'already applied by run ' || d.run_id || ' (plan row ' || d.seq || ')',
                  generated_keys = d.generated_keys, finished_at = ?, updated_at = ?
                FROM (SELECT idempotency_key, arg_min(run_id, finished_at) AS run_id,
                             arg_min(seq, finished_at) AS seq,
                             arg_min(generated_keys, finished_at) AS generated_keys
                      FROM {LEDGER} WHERE status = 'succeeded' AND run_id <> ?
                      GROUP BY idempotency_key) d
                WHERE l.run_id = ? AND l.status = 'pending'
                  AND l.idempotency_key = d.idempotency_key""",
            [stamp, stamp, run_id, run_id],
        )


def record_verify(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    outcome: dict[int, tuple[str, dict[str, Any], dict[str, Any] | None]],
) -> None:
    """Write read-back results: seq → (status, drift, generated keys or None)."""
    if not outcome:
        return
    seqs = sorted(outcome)
    table = pa.table(
        {
            "seq": pa.array(seqs, pa.int64()),
            "verify_status": [outcome[s][0] for s in seqs],
            "drift": pa.array(
                [json.dumps(outcome[s][1], default=str) if outcome[s][1] else None for s in seqs],
                pa.string(),
            ),
            "generated_keys": pa.array(
                [json.dumps(outcome[s][2], default=str) if outcome[s][2] else None for s in seqs],
                pa.string(),
            ),
        }
    )
    stamp = now()
    con.register("_verify_rows", table)
    try:
        con.execute(
            f"""UPDATE {LEDGER} AS l SET verify_status = v.verify_status,
                  drift = CAST(v.drift AS JSON), verified_at = ?, updated_at = ?,
                  generated_keys = coalesce(l.generated_keys, CAST(v.generated_keys AS JSON))
                FROM _verify_rows v WHERE l.run_id = ? AND l.seq = v.seq""",
            [stamp, stamp, run_id],
        )
    finally:
        con.unregister("_verify_rows")


def counts(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, int]:
    """Ledger rows per status."""
    return {
        str(s): int(n)
        for s, n in con.execute(
            f"SELECT status, count(*) FROM {LEDGER} WHERE run_id = ? GROUP BY status", [run_id]
        ).fetchall()
    }


def by_channel(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, int]:
    """Rows that were sent (at least once), per channel."""
    return {
        str(c): int(n)
        for c, n in con.execute(
            f"SELECT channel, count(*) FROM {LEDGER} WHERE run_id = ? AND attempts > 0 "
            "GROUP BY channel",
            [run_id],
        ).fetchall()
    }


def failures(con: duckdb.DuckDBPyConnection, run_id: str, limit: int = 200) -> list[Failure]:
    """Rows that failed, or are not finished, in plan order (the first ``limit``); the reason
    is the loader's words, then SCM's (or the CLM's)."""
    rows = con.execute(
        f"""SELECT seq, entity, legal_entity, record_key, action, status,
              concat_ws(': ', reason, scm_message) FROM {LEDGER}
            WHERE run_id = ? AND status NOT IN ('succeeded', 'skipped') ORDER BY seq LIMIT ?""",
        [run_id, limit],
    ).fetchall()
    return [Failure(int(r[0]), r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows]


def seqs_with(con: duckdb.DuckDBPyConnection, run_id: str, status: str) -> list[int]:
    return [
        int(r[0])
        for r in con.execute(
            f"SELECT seq FROM {LEDGER} WHERE run_id = ? AND status = ? ORDER BY seq",
            [run_id, status],
        ).fetchall()
    ]


def is_terminal(status: str) -> bool:
    return status in TERMINAL
