"""What a run extracts, the key snapshot cadence, and what the report tells its caller."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from connectors import catalog
from connectors.errors import CompletenessError, ConfigError
from flows.settings import Settings
from flows.steps.extract import extract_complete, plan_extract
from flows.steps.extract_odata import snapshot_due
from flows.steps.extract_types import EntityResult, ExtractReport
from warehouse import db, state


def _settings(**sync: object) -> Settings:
    return Settings(
        scm={
            "environment_url": "https://scm.example.com",
            "tenant_id": "t",
            "client_id": "c",
            "client_secret": "s",
            "default_legal_entity": "usmf",
        },
        clm={"api_url": "https://clm.example.com/api/v1", "api_key": "k"},
        sync={"legal_entities": ["USMF", "demf"], **sync},
    )


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = db.connect(":memory:")
    yield connection
    connection.close()


def test_by_default_everything_in_scope_is_extracted() -> None:
    plan = plan_extract(_settings())
    assert plan.legal_entities == ("usmf", "demf")
    assert plan.package == catalog.package_entities()
    assert {e.name for e in plan.odata} == {e.name for e in catalog.odata_entities()}
    assert plan.clm == catalog.CLM_OBJECTS
    assert plan.full == frozenset()


def test_asking_for_one_package_entity_exports_its_whole_project() -> None:
    plan = plan_extract(_settings(), ["vendorsv2"], ["USMF"], full=True)
    assert plan.package == catalog.package_entities()  # SCM moves them all: all are landed
    assert (plan.odata, plan.clm, plan.legal_entities) == ((), (), ("usmf",))
    assert plan.full == {"VendorsV2"}


def test_clm_objects_by_either_name_and_full_only_among_the_selected() -> None:
    plan = plan_extract(
        _settings(), ["agreement-lines", "contract"], full=["contract", "Currencies"]
    )
    assert [o.name for o in plan.clm] == ["contract", "agreement_line"]
    assert plan.package == ()
    assert plan.full == {"contract"}


def test_names_outside_the_catalog_or_the_scope_are_refused() -> None:
    with pytest.raises(ConfigError, match="'Vendors' is neither"):
        plan_extract(_settings(), ["Vendors"])
    settings = _settings(entities=["VendorsV2", "Currencies"])
    with pytest.raises(ConfigError, match=r"ContactPersons.*not in sync\.entities"):
        plan_extract(settings, ["ContactPersons"])
    assert [e.name for e in plan_extract(settings).package] == ["VendorsV2"]


def _run(con: duckdb.DuckDBPyConnection, snapshot: bool) -> str:
    run_id = state.new_run_id()
    with state.step(con, run_id, "extract"):
        if snapshot:
            with state.step(con, run_id, "key_snapshot", entity="VendorsV2", legal_entity="usmf"):
                pass
    return run_id


def test_key_snapshots_follow_the_cadence_of_extract_runs(con: duckdb.DuckDBPyConnection) -> None:
    assert snapshot_due(con, "VendorsV2", "usmf", 3)  # never taken
    _run(con, snapshot=True)
    due = []
    for _ in range(4):
        run_id = state.new_run_id()
        with state.step(con, run_id, "extract"):
            due.append(snapshot_due(con, "VendorsV2", "usmf", 3))
    assert due == [False, False, True, True]
    assert snapshot_due(con, "VendorsV2", "demf", 3)  # per legal entity


def test_a_failed_entity_makes_the_run_incomplete(con: duckdb.DuckDBPyConnection) -> None:
    report = ExtractReport("r1")
    report.results.append(EntityResult("scm", "Currencies", None, "odata", "unchanged"))
    assert report.ok
    error = CompletenessError("VendorsV2", "usmf", 10, 9)
    report.results.append(EntityResult("scm", "VendorsV2", "usmf", "package").fail(error))
    assert not report.ok
    assert (
        report.rows()[1]["error"]
        == "CompletenessError: VendorsV2 (usmf): expected 10 rows, landed 9"
    )
    with pytest.raises(CompletenessError):
        report.raise_for_failures()
    ok_run = _run(con, snapshot=False)
    assert extract_complete(con, ok_run)
    assert not extract_complete(con, "never-ran")
    failed = state.new_run_id()
    with pytest.raises(CompletenessError), state.step(con, failed, "extract"):
        raise error
    assert not extract_complete(con, failed)
