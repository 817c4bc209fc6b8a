"""Publish the analytics snapshot: the last step of a run that got this far without an error.

Analysts query ``warehouse.analytics_path`` (``data/analytics.duckdb``), never the warehouse:
DuckDB lets no other process open a file a writer holds. The snapshot is replaced atomically (see
:mod:`warehouse.snapshot`), so a reader sees the previous snapshot or the new one, whole. A run
that fails earlier never calls this, and the previous snapshot stays in place.
"""

from __future__ import annotations

import duckdb

from flows.settings import Settings
from warehouse.snapshot import SnapshotResult, publish_snapshot


def publish(con: duckdb.DuckDBPyConnection, settings: Settings) -> SnapshotResult:
    """Copy ``reports``, ``marts``, ``ops`` and ``seeds`` into the analytics snapshot."""
    return publish_snapshot(con, settings.warehouse.analytics_path)
