"""Two runs never write the warehouse at once: the second one fails fast, in words."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from connectors.errors import WarehouseBusy
from flows.settings import Settings, load_settings
from flows.steps.writer import open_writer

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    text = (ROOT / "clmsync.example.toml").read_text()
    text = text.replace('path = "data/warehouse.duckdb"', 'path = "wh/warehouse.duckdb"')
    config = tmp_path / "clmsync.toml"
    config.write_text(text)
    return load_settings(config)


def test_a_second_writer_in_the_same_process_is_refused(settings: Settings) -> None:
    with open_writer(settings) as con:
        con.execute("CREATE TABLE ops.probe AS SELECT 1 AS x")
        with pytest.raises(WarehouseBusy, match="in use by another run"), open_writer(settings):
            pass
    with open_writer(settings) as con:  # free again once the first let go
        assert con.execute("SELECT x FROM ops.probe").fetchall() == [(1,)]


def test_a_writer_in_another_process_is_named(settings: Settings) -> None:
    path = settings.warehouse.path
    with open_writer(settings):
        pass  # create the file
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); "
            "print('ready', flush=True); time.sleep(30)",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "ready"
        started = time.monotonic()
        with pytest.raises(WarehouseBusy) as caught, open_writer(settings):
            pass
        assert time.monotonic() - started < 5  # fails fast, does not queue
        assert f"process {holder.pid}" in str(caught.value)
        assert caught.value.hint
    finally:
        holder.kill()
        holder.wait()
