"""The analytics snapshot: atomic, read-only, commented, and readable while runs go on."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from warehouse.db import connect
from warehouse.snapshot import publish_snapshot


def _warehouse(path: Path, marker: int) -> duckdb.DuckDBPyConnection:
    con = connect(path)
    con.execute(
        "CREATE OR REPLACE TABLE reports.rpt_summary AS SELECT ? AS marker, 'x' AS kind", [marker]
    )
    con.execute("COMMENT ON TABLE reports.rpt_summary IS 'Mismatches by kind'")
    con.execute("COMMENT ON COLUMN reports.rpt_summary.kind IS 'The mismatch kind'")
    con.execute("CREATE OR REPLACE VIEW marts.v_summary AS SELECT marker FROM reports.rpt_summary")
    con.execute("CREATE OR REPLACE TABLE staging.not_published AS SELECT 1 AS x")
    return con


def test_publish_copies_schemas_with_comments_read_only(tmp_path: Path) -> None:
    con = _warehouse(tmp_path / "warehouse.duckdb", 1)
    result = publish_snapshot(con, tmp_path / "analytics.duckdb")
    con.close()
    assert result.relations["reports.rpt_summary"] == 1
    assert result.relations["marts.v_summary"] == 1
    assert not any(name.startswith("staging.") for name in result.relations)
    assert not (result.path.stat().st_mode & 0o222)
    reader = duckdb.connect(str(result.path), read_only=True)
    assert reader.execute("select marker from marts.v_summary").fetchall() == [(1,)]
    comments = reader.execute(
        "select comment from duckdb_tables() where table_name = 'rpt_summary'"
    ).fetchall()
    column = reader.execute(
        "select comment from duckdb_columns() "
        "where table_name = 'rpt_summary' and column_name = 'kind'"
    ).fetchall()
    reader.close()
    assert comments == [("Mismatches by kind",)]
    assert column == [("The mismatch kind",)]
    assert list(tmp_path.glob(".analytics.duckdb.*")) == []


def test_a_failed_publication_leaves_the_previous_snapshot(tmp_path: Path) -> None:
    con = _warehouse(tmp_path / "warehouse.duckdb", 1)
    target = tmp_path / "analytics.duckdb"
    publish_snapshot(con, target)
    before = target.read_bytes()
    con.execute("CREATE TABLE marts.gone AS SELECT 1 AS x")
    con.execute("CREATE VIEW marts.broken AS SELECT x FROM marts.gone")
    con.execute("DROP TABLE marts.gone")
    with pytest.raises(duckdb.Error):
        publish_snapshot(con, target)
    con.close()
    assert target.read_bytes() == before
    assert list(tmp_path.glob(".analytics.duckdb.*")) == []


READER = textwrap.dedent(
    """
    import sys, time, duckdb
    path, deadline = sys.argv[1], time.time() + float(sys.argv[2])
    reads = 0
    while time.time() < deadline:
        con = duckdb.connect(path, read_only=True)
        con.execute("select count(*) from reports.rpt_summary").fetchall()
        con.close()
        reads += 1
    print(reads)
    """
)


def test_readers_never_fail_while_runs_write_and_publish(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    target = tmp_path / "analytics.duckdb"
    con = _warehouse(warehouse, 0)
    publish_snapshot(con, target)
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(target), "4"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    marker = 0
    started = time.time()
    while time.time() - started < 3.5:
        marker += 1
        con.execute(
            "CREATE OR REPLACE TABLE reports.rpt_summary AS SELECT ? AS marker, 'x' AS kind",
            [marker],
        )
        con.execute("CREATE OR REPLACE TABLE raw_scm.busy AS SELECT range AS i FROM range(20000)")
        publish_snapshot(con, target)
    con.close()
    out, err = reader.communicate(timeout=30)
    assert reader.returncode == 0, err
    assert int(out) > 5
    assert marker > 3
