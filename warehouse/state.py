"""Run state: every step of every run (``ops.runs``) and the extract watermarks
(``ops.extract_state``).

A step's record is written in its own small transaction when it starts and again when it ends, so
the record survives the rollback of the work it describes: after a failure, ``ops.runs`` says
which step failed and why. Watermarks move only together with the rows they describe (see
:func:`warehouse.landing.land`); the one exception is the *pending* execution, recorded as soon as
an SCM export succeeds, because SCM advances its change tracking at that moment and an export that
is lost before landing can never be asked for again.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb

from warehouse.db import count, transaction


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_run_id() -> str:
    """A run id that sorts by start time: ``20260101T000000Z-1a2b3c``."""
    return f"{utcnow():%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def _le(legal_entity: str | None) -> str:
    # ops.extract_state's key cannot hold NULL; '' stands for "not company-specific".
    return (legal_entity or "").lower()


# --- ops.runs ------------------------------------------------------------------------------


@dataclass
class Step:
    """A running step. Set ``rows`` and add to ``detail`` while it runs; both are recorded when
    it ends."""

    step_id: int
    run_id: str
    step: str
    rows: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    status: str = "succeeded"


@contextmanager
def step(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    name: str,
    *,
    entity: str | None = None,
    legal_entity: str | None = None,
) -> Iterator[Step]:
    """Record one step of a run in ``ops.runs``: running, then succeeded or failed with the error.

    Call it outside any open transaction (the records commit on their own). The exception, if
    any, is re-raised after it is recorded. Set ``Step.status`` to e.g. ``"skipped"`` to record a
    step that had nothing to do.
    """
    started = utcnow()
    step_id = _insert_step(con, run_id, name, entity, legal_entity, "running", started, None)
    current = Step(step_id=step_id, run_id=run_id, step=name)
    try:
        yield current
    except BaseException as exc:
        _finish_step(con, current, "failed", f"{type(exc).__name__}: {exc}")
        raise
    _finish_step(con, current, current.status, None)


def record_step(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    name: str,
    *,
    status: str,
    entity: str | None = None,
    legal_entity: str | None = None,
    rows: int | None = None,
    detail: Mapping[str, Any] | None = None,
    error: str | None = None,
    started_at: datetime | None = None,
) -> int:
    """Record a finished step in one go (for steps timed elsewhere). Returns its step id."""
    step_id = _insert_step(
        con, run_id, name, entity, legal_entity, status, started_at or utcnow(), error
    )
    con.execute(
        "UPDATE ops.runs SET ended_at = ?, rows = ?, detail = ? WHERE step_id = ?",
        [utcnow(), rows, json.dumps(dict(detail or {}), default=str), step_id],
    )
    return step_id


def _insert_step(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    name: str,
    entity: str | None,
    legal_entity: str | None,
    status: str,
    started: datetime,
    error: str | None,
) -> int:
    # The id is drawn first rather than through RETURNING, which is slow on keyed tables.
    step_id = count(con, "SELECT nextval('ops.step_id_seq')")
    con.execute(
        "INSERT INTO ops.runs (step_id, run_id, step, entity, legal_entity, status, started_at, "
        "error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [step_id, run_id, name, entity, legal_entity, status, started, error],
    )
    return step_id


def _finish_step(
    con: duckdb.DuckDBPyConnection, current: Step, status: str, error: str | None
) -> None:
    con.execute(
        "UPDATE ops.runs SET status = ?, ended_at = ?, rows = ?, detail = ?, error = ? "
        "WHERE step_id = ?",
        [
            status,
            utcnow(),
            current.rows,
            json.dumps(current.detail, default=str),
            error,
            current.step_id,
        ],
    )


def run_steps(con: duckdb.DuckDBPyConnection, run_id: str) -> list[dict[str, Any]]:
    """The steps of one run, in the order they started."""
    cur = con.execute("SELECT * FROM ops.runs WHERE run_id = ? ORDER BY step_id", [run_id])
    names = [d[0] for d in cur.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


# --- ops.extract_state ---------------------------------------------------------------------


@dataclass(frozen=True)
class ExtractState:
    """Where the extract of one entity in one legal entity stands."""

    source: str
    entity: str
    legal_entity: str | None
    last_execution_id: str | None
    change_version: str | None
    cursor: str | None
    pending_execution_id: str | None
    pending_at: datetime | None
    rows_landed: int | None
    rows_total: int
    last_run_id: str | None
    updated_at: datetime


@dataclass(frozen=True)
class Watermark:
    """What a landing advances. ``None`` leaves a value as it was.

    SCM: ``execution_id`` (the export landed) and optionally ``change_version``; landing the
    execution recorded as pending clears the pending mark. CLM: ``cursor`` (the largest
    ``updated_at`` seen, or the export id of an export folder).
    """

    execution_id: str | None = None
    change_version: str | None = None
    cursor: str | None = None


def get_extract_state(
    con: duckdb.DuckDBPyConnection, source: str, entity: str, legal_entity: str | None = None
) -> ExtractState | None:
    cur = con.execute(
        "SELECT source, entity, legal_entity, last_execution_id, change_version, cursor, "
        "pending_execution_id, pending_at, rows_landed, rows_total, last_run_id, updated_at "
        "FROM ops.extract_state WHERE source = ? AND entity = ? AND legal_entity = ?",
        [source, entity, _le(legal_entity)],
    )
    rows = cur.fetchall()
    if not rows:
        return None
    values = list(rows[0])
    values[2] = values[2] or None
    return ExtractState(*values)


def set_pending(
    con: duckdb.DuckDBPyConnection,
    source: str,
    entities: Iterable[str],
    legal_entity: str | None,
    execution_id: str,
    *,
    run_id: str,
) -> None:
    """Remember that ``execution_id`` succeeded for ``entities`` but is not landed yet.

    Commits at once. The next run lands this execution's package instead of exporting again.
    """
    now = utcnow()
    with transaction(con):
        for entity in entities:
            _upsert(con, source, entity, legal_entity, now)
            con.execute(
                "UPDATE ops.extract_state SET pending_execution_id = ?, pending_at = ?, "
                "pending_run_id = ?, updated_at = ? "
                "WHERE source = ? AND entity = ? AND legal_entity = ?",
                [execution_id, now, run_id, now, source, entity, _le(legal_entity)],
            )


def clear_pending(
    con: duckdb.DuckDBPyConnection, source: str, entity: str, legal_entity: str | None
) -> None:
    """Forget a pending execution (e.g. SCM no longer has its package: export again)."""
    con.execute(
        "UPDATE ops.extract_state SET pending_execution_id = NULL, pending_at = NULL, "
        "pending_run_id = NULL, updated_at = ? "
        "WHERE source = ? AND entity = ? AND legal_entity = ?",
        [utcnow(), source, entity, _le(legal_entity)],
    )


def advance(
    con: duckdb.DuckDBPyConnection,
    source: str,
    entity: str,
    legal_entity: str | None,
    watermark: Watermark,
    *,
    rows: int,
    run_id: str,
) -> None:
    """Move the watermark of one entity. No transaction of its own: the caller's landing
    transaction holds it, so rows and watermark commit (or roll back) together."""
    now = utcnow()
    _upsert(con, source, entity, legal_entity, now)
    con.execute(
        """
        UPDATE ops.extract_state SET
            last_execution_id = coalesce(?, last_execution_id),
            change_version = coalesce(?, change_version),
            cursor = coalesce(?, cursor),
            pending_run_id = CASE WHEN pending_execution_id = ? THEN NULL ELSE pending_run_id END,
            pending_at = CASE WHEN pending_execution_id = ? THEN NULL ELSE pending_at END,
            pending_execution_id = CASE WHEN pending_execution_id = ? THEN NULL
                                        ELSE pending_execution_id END,
            rows_landed = ?,
            rows_total = rows_total + ?,
            last_run_id = ?,
            updated_at = ?
        WHERE source = ? AND entity = ? AND legal_entity = ?
        """,
        [
            watermark.execution_id,
            watermark.change_version,
            watermark.cursor,
            watermark.execution_id,
            watermark.execution_id,
            watermark.execution_id,
            rows,
            rows,
            run_id,
            now,
            source,
            entity,
            _le(legal_entity),
        ],
    )


def _upsert(
    con: duckdb.DuckDBPyConnection,
    source: str,
    entity: str,
    legal_entity: str | None,
    now: datetime,
) -> None:
    con.execute(
        "INSERT INTO ops.extract_state (source, entity, legal_entity, updated_at) "
        "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [source, entity, _le(legal_entity), now],
    )


def elapsed(start: float) -> float:
    """Seconds since ``start`` (a ``time.perf_counter()`` value), rounded for records."""
    return round(time.perf_counter() - start, 4)
