"""The one writer of the warehouse: a run holds it from its first write to its last.

Two runs must never write the warehouse at once. Across processes DuckDB's own file lock already
refuses the second writer, and :func:`warehouse.db.connect` turns that into
:class:`WarehouseBusy`. Inside one process DuckDB shares one database instance between
connections, so it would not refuse a second writer there (two runs in threads of one process);
a lock per warehouse file closes that gap. Both fail fast: a run that finds the warehouse busy
stops at once with one clear message instead of queueing behind the other: the run that holds
the warehouse already does the work, and the next scheduled run picks up whatever changed
meanwhile. Under Prefect the global concurrency limit makes a second run wait for the slot before
it gets here.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from connectors.errors import WarehouseBusy
from flows.settings import Settings
from warehouse import db

_locks: dict[Path, threading.Lock] = {}
_guard = threading.Lock()


def _lock_for(path: Path) -> threading.Lock:
    key = path.resolve()
    with _guard:
        return _locks.setdefault(key, threading.Lock())


@contextmanager
def open_writer(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the settings' warehouse for writing, as the only writer; close it on exit.

    Raises :class:`WarehouseBusy` at once when another run (in this process or another) holds it.
    """
    path = Path(settings.warehouse.path)
    lock = _lock_for(path)
    if not lock.acquire(blocking=False):
        raise WarehouseBusy(
            f"warehouse {path} is in use by another run in this process",
            hint="Only one run may write the warehouse at a time; wait for the other to finish.",
        )
    try:
        con = db.connect(
            path,
            memory_limit=settings.warehouse.memory_limit,
            threads=settings.warehouse.threads,
        )
        try:
            yield con
        finally:
            con.close()
    finally:
        lock.release()
