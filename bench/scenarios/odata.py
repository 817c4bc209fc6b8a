"""Scenario 2, OData extraction: 100k vendors through server-driven OData paging into DuckDB.

The emulator serves a generated 100k-vendor world over HTTPS (in a thread of this process, page
size 10,000 as SCM's). Each round reads every ``VendorsV2`` row across companies into a fresh
file-backed DuckDB database through:

* **clmsync**: the connectors wired from the emulator's ``clmsync.toml`` by
  ``flows.clients.build_clients`` (msal token, retry policy, CA-pinned session),
  ``ODataClient.pages`` (``$select`` of the catalog's fields, as the extraction asks) → Arrow
  record batches of text by the extraction's ``rows_to_table`` → ``warehouse.landing.land_scm``
  (type checks, lineage, accounting against ``$count``);
* **dlt**: ``dlt.sources.rest_api`` pointed at the same endpoint with the same bearer token
  (fetched from the emulator's token endpoint), ``@odata.nextLink`` as a JSON link paginator,
  ``value`` as the data selector, loaded with ``loader_file_format="parquet"``. dlt's own session
  honours ``REQUESTS_CA_BUNDLE`` (set on these machines to the system bundle), so it is pointed at
  the emulator's CA for dlt's run, as a dlt user would do.

Target: clmsync ≥ 1.5× dlt's speed.
"""

from __future__ import annotations

import itertools
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa

from bench import harness
from bench.scenarios import Options
from connectors import catalog
from emulator.server import EmulatorInfo, running_emulator
from flows.clients import Clients, build_clients
from flows.settings import load_settings
from flows.steps.extract_odata import rows_to_table
from warehouse import db, landing

SUMMARY = "100k vendors over OData paging into DuckDB: clmsync vs dlt's REST API source"
VENDORS = 100_000
ROUNDS = 3
ENTITY = catalog.entity("VendorsV2")

CLMSYNC = "clmsync (OData pages → raw_scm)"
DLT = "dlt rest_api (parquet)"


def run(options: Options) -> harness.Result:
    harness.peer("dlt")  # before the world is generated, not after
    size = options.size or VENDORS
    rounds = options.rounds or ROUNDS
    work = options.workdir
    started = time.perf_counter()
    with running_emulator(
        work / "emulator",
        size=size,
        execution_queue_seconds=0,
        execution_fixed_seconds=0,
        execution_row_seconds=0,
    ) as info:
        world_seconds = time.perf_counter() - started
        settings = load_settings(Path(info.state_dir) / "clmsync.toml")
        counter = itertools.count()
        with build_clients(settings) as clients:
            expected = clients.odata.count(ENTITY.name, cross_company=True)
            contenders = {
                CLMSYNC: _checked(
                    lambda: extract_clmsync(clients, work / f"c{next(counter)}.duckdb", expected),
                    expected,
                ),
                DLT: _checked(
                    lambda: extract_dlt(info, work / f"d{next(counter)}.duckdb"), expected
                ),
            }
            assert info.state is not None  # running_emulator serves in this process
            page_size = info.state.options.page_size
            figures = harness.run_rounds(contenders, rounds)
    ours = figures[CLMSYNC]
    vs_dlt = harness.ratio("clmsync speed / dlt", figures[DLT], ours)
    return harness.Result(
        scenario="2 OData extraction",
        parameters={
            "vendors (world size)": size,
            "VendorsV2 rows read": expected,
            "page size": page_size,
            "rounds": rounds,
            "world + emulator start s": round(world_seconds, 1),
        },
        figures=figures,
        ratios=[vs_dlt],
        targets=[harness.Target("speed vs dlt", vs_dlt.value, ">=", 1.5)],
        notes=[f"clmsync {expected / ours.median:,.0f} rows/s"],
    )


Step = Callable[[], tuple[float, Path, str]]


def _checked(step: Step, expected: int) -> Callable[[], float]:
    """``step`` timed by itself; its table's row count checked; its database removed."""

    def checked() -> float:
        seconds, database, table = step()
        harness.check_and_remove(database, table, expected)
        return float(seconds)

    return checked


def page_batches(
    pages: Iterable[list[dict[str, Any]]], entity: catalog.Entity
) -> Iterator[pa.RecordBatch]:
    """OData pages as the extraction turns them into Arrow: text in catalog order, numbers in
    canonical text, plus ``_row_number`` (``flows.steps.extract_odata.rows_to_table``)."""
    first = 1
    for rows in pages:
        yield from rows_to_table(entity.field_names, rows, first).to_batches()
        first += len(rows)


def extract_clmsync(clients: Clients, database: Path, expected: int) -> tuple[float, Path, str]:
    started = time.perf_counter()
    con = db.connect(database)
    pages = clients.odata.pages(ENTITY.name, select=ENTITY.field_names, cross_company=True)
    landing.land_scm(
        con,
        ENTITY,
        page_batches(pages, ENTITY),
        run_id="bench",
        execution_id=f"odata-{database.stem}",
        source_file=f"odata:{ENTITY.name}",
        legal_entity=None,
        expected_rows=expected,
    )
    con.close()
    return time.perf_counter() - started, database, "raw_scm.vendors"


@contextmanager
def _ca_bundle(path: str) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")}
    os.environ["REQUESTS_CA_BUNDLE"] = path
    os.environ.pop("CURL_CA_BUNDLE", None)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def extract_dlt(info: EmulatorInfo, database: Path) -> tuple[float, Path, str]:
    dlt = harness.peer("dlt")
    rest_api_source = harness.peer("dlt.sources.rest_api").rest_api_source
    token = info.token()  # outside the timing: clmsync's token is cached by msal too
    pipelines = database.parent / f"{database.stem}-pipelines"
    with _ca_bundle(info.ca_cert):
        started = time.perf_counter()
        source = rest_api_source(
            {
                "client": {
                    "base_url": f"{info.scm_url}/data/",
                    "auth": {"type": "bearer", "token": token},
                    "paginator": {"type": "json_link", "next_url_path": "['@odata.nextLink']"},
                },
                "resources": [
                    {
                        "name": "vendors",
                        "endpoint": {
                            "path": ENTITY.name,
                            "params": {"cross-company": "true"},
                            "data_selector": "value",
                        },
                    }
                ],
            }
        )
        pipeline = dlt.pipeline(
            pipeline_name=database.stem,
            destination=dlt.destinations.duckdb(str(database)),
            dataset_name="raw_scm",
            pipelines_dir=str(pipelines),
        )
        pipeline.run(source, loader_file_format="parquet")
        seconds = time.perf_counter() - started
    pipeline.drop()
    shutil.rmtree(pipelines, ignore_errors=True)
    return seconds, database, "raw_scm.vendors"
