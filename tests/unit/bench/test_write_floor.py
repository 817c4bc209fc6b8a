"""The model benchmark's "writing the model tables" figure: it writes every model table's rows
again and leaves the warehouse as it found it."""

from __future__ import annotations

from bench.models import model_tables, run_write_floor
from tests.unit.models.conftest import Warehouse, counterparty, vendor
from warehouse import db, runner


def _contents(wh: Warehouse, tables: list[str]) -> dict[str, list[tuple[object, ...]]]:
    return {t: sorted(wh.rows(f"FROM {t}"), key=repr) for t in tables}


def test_every_model_table_is_written_again_and_nothing_is_left_behind() -> None:
    project = runner.load_project(runner.DEFAULT_MODELS_DIR, runner.DEFAULT_SEEDS_DIR)
    con = db.connect(":memory:")
    wh = Warehouse(con, project)
    wh.scm("VendorsV2", [vendor("demf", "DE-V1", "Alpha Stahlbau GmbH")])
    wh.clm("counterparty", [counterparty("CP-A", "Alpha Stahlbau", vendor_account="DE-V1")])
    wh.build()
    tables = model_tables(project)
    assert db.qualified("intermediate", "int_vendors") in tables
    assert db.qualified("staging", "stg_scm__vendors") not in tables  # views are not written
    before = _contents(wh, tables)
    relations = set(wh.rows("SELECT database_name, schema_name, table_name FROM duckdb_tables()"))
    setting = wh.rows("SELECT current_setting('disabled_compression_methods')")

    seconds = run_write_floor(con, project)

    assert seconds > 0
    assert _contents(wh, tables) == before
    assert set(wh.rows("SELECT database_name, schema_name, table_name FROM duckdb_tables()")) == (
        relations
    )
    assert wh.rows("SELECT current_setting('disabled_compression_methods')") == setting
    con.close()
