"""The warehouse as a file on disk: one writer, and a run's data surviving a reopen."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from connectors.errors import WarehouseBusy
from warehouse import current, db, landing, relations, runner, state, tombstones

ROOT = Path(__file__).resolve().parents[3]

HOLDER = """
import sys, time
from warehouse import db
con = db.connect(sys.argv[1])
print("holding", flush=True)
sys.stdin.readline()
"""


@pytest.fixture
def held(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A warehouse file held open for writing by another process."""
    path = tmp_path / "warehouse.duckdb"
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "holding"
        yield path, proc.pid
    finally:
        proc.communicate("\n", timeout=30)


def test_a_second_writer_gets_warehouse_busy_naming_the_file(held: tuple[Path, int]) -> None:
    path, pid = held
    for read_only in (False, True):
        with pytest.raises(WarehouseBusy) as err:
            db.connect(path, read_only=read_only)
        assert str(path) in str(err.value)
        assert f"process {pid}" in str(err.value)
        assert err.value.hint
        assert "one run" in err.value.hint


def test_a_run_lands_refreshes_snapshots_and_builds_on_a_file(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    vendors = relations.scm("VendorsV2")
    run = state.new_run_id()
    con = db.connect(path, memory_limit="512MB", threads=2)
    for le, accounts in (("usmf", ["US-V1", "US-V2"]), ("demf", ["DE-V1"])):
        data = pa.table({"dataAreaId": [le] * len(accounts), "VendorAccountNumber": accounts,
                         "_row_number": list(range(1, len(accounts) + 1))})  # fmt: skip
        with state.step(con, run, "land", entity=vendors.name, legal_entity=le) as step:
            result = landing.land(
                con, vendors, data, run_id=run, batch_id=f"EXE-{le}", source_file="Vendors V2.csv",
                legal_entity=le, expected_rows=len(accounts),
                watermark=state.Watermark(execution_id=f"EXE-{le}"),
            )  # fmt: skip
            step.rows = result.landed
    current.refresh_all(con, run_id=run)
    keys = pa.table({"VendorAccountNumber": ["US-V1"]})
    tombstones.apply_key_snapshot(con, vendors, keys, run_id=run, legal_entity="usmf")
    models = tmp_path / "models" / "reports"
    models.mkdir(parents=True)
    (models / "rpt_vendors_per_le.sql").write_text(
        'select "dataAreaId" as legal_entity, count(*) as vendors from current_scm.vendors '
        "group by all"
    )
    runner.build(con, runner.load_project(tmp_path / "models", tmp_path / "seeds"), run_id=run)
    con.close()

    reader = db.connect(path, read_only=True)
    try:
        assert sorted(reader.execute("SELECT * FROM reports.rpt_vendors_per_le").fetchall()) == [
            ("demf", 1),
            ("usmf", 1),
        ]
        steps = state.run_steps(reader, run)
        assert [(s["step"], s["legal_entity"], s["rows"]) for s in steps] == [
            ("land", "usmf", 2),
            ("land", "demf", 1),
        ]
        extract = state.get_extract_state(reader, "scm", vendors.name, "demf")
        assert extract is not None
        assert extract.last_execution_id == "EXE-demf"
        assert [t[0] for t in tombstones.active_tombstones(reader, vendors)] == ["US-V2"]
    finally:
        reader.close()


def test_entities_land_and_refresh_concurrently_on_cursors(tmp_path: Path) -> None:
    con = db.connect(tmp_path / "warehouse.duckdb")
    errors: list[BaseException] = []

    def extract(entity: str, le: str) -> None:
        cursor = con.cursor()  # one per thread, as the extract flow does
        table = relations.scm(entity)
        try:
            for k in range(3):
                n = 2000
                data = {key: [f"{le}-{k}-{i}" for i in range(n)] for key in table.keys}
                data[str(table.company_field)] = [le] * n
                data["_row_number"] = [str(i) for i in range(1, n + 1)]
                landing.land(
                    cursor, table, pa.table(data), run_id="run", batch_id=f"EXE-{k}",
                    source_file="f.csv", legal_entity=le,
                    watermark=state.Watermark(execution_id=f"EXE-{k}"),
                )  # fmt: skip
                current.refresh_current(cursor, table)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    jobs = [("VendorsV2", le) for le in ("usmf", "demf", "gbsi")] + [("ContactPersons", "usmf")]
    threads = [threading.Thread(target=extract, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert con.execute("SELECT count(*) FROM current_scm.vendors").fetchall() == [(18000,)]
    assert con.execute(
        "SELECT count(*) FROM ops.landed_files WHERE current_refreshed_at IS NULL"
    ).fetchall() == [(0,)]
    con.close()
