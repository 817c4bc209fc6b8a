"""``clmsync serve`` against a real Prefect server: the deployments, their limits, and a reload
started through the API with parameters, as the UI starts it."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import requests

from emulator.server import EmulatorInfo
from flows.tasks import WRITER_LIMIT
from tests.e2e.conftest import ROOT, child_env, wait_until

RELOAD = {
    # Vendors and what their model tests need; the other reference sets are left out.
    "entities": ["VendorsV2", "LegalEntities", "Currencies", "PaymentTerms", "UnitsOfMeasure"],
    "legal_entities": ["usmf"],
    "clm": False,
    "full": True,
    "push": False,
}


@pytest.fixture(scope="module")
def served(
    prefect_server: str, small_emulator: EmulatorInfo, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """``clmsync serve`` with the emulator's settings; yields the API URL once it is up."""
    home = tmp_path_factory.mktemp("serve-home")
    log = home / "serve.log"
    config = Path(small_emulator.state_dir) / "clmsync.toml"
    env = child_env(
        PREFECT_HOME=str(home),
        PREFECT_API_URL=prefect_server,
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
    )
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "flows.cli", "serve", "--config", str(config)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        names = ("reconcile", "reload", "bootstrap", "push")
        wait_until(
            lambda: all(
                requests.get(f"{prefect_server}/deployments/name/{n}/clmsync", timeout=5).ok
                for n in names
            ),
            90,
            "clmsync serve",
            log,
        )
        yield prefect_server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _get(api: str, path: str) -> Any:
    response = requests.get(f"{api}/{path}", timeout=10)
    response.raise_for_status()
    return response.json()


def _post(api: str, path: str, body: Any) -> Any:
    for _ in range(10):  # a busy SQLite-backed server may answer 503 for a moment
        response = requests.post(f"{api}/{path}", json=body, timeout=10)
        if response.status_code != 503:
            break
        time.sleep(1)
    assert response.status_code < 300, response.text
    return response.json()


def test_the_deployments_are_served_with_their_schedule_and_limits(served: str) -> None:
    reconcile = _get(served, "deployments/name/reconcile/clmsync")
    crons = [s["schedule"].get("cron") for s in reconcile["schedules"]]
    assert crons == ["0 */6 * * *"]  # sync.schedule_cron's default
    assert reconcile["global_concurrency_limit"]["limit"] == 1
    assert reconcile["concurrency_options"]["collision_strategy"] == "CANCEL_NEW"
    reload = _get(served, "deployments/name/reload/clmsync")
    assert reload["schedules"] == []
    assert reload["parameters"]["config"].endswith("clmsync.toml")
    # The form: entities offered as choices, with descriptions.
    form = reload["parameter_openapi_schema"]["definitions"]["ReloadParameters"]["properties"]
    assert "VendorsV2" in form["entities"]["items"]["enum"]
    assert form["push"]["description"]
    for name in ("bootstrap/clmsync", "push/clmsync"):
        assert _get(served, f"deployments/name/{name}")["schedules"] == []
    writer = _get(served, f"v2/concurrency_limits/{WRITER_LIMIT}")
    assert writer["limit"] == 1


def test_a_reload_started_through_the_api_runs_with_its_parameters(
    served: str, small_emulator: EmulatorInfo
) -> None:
    deployment = _get(served, "deployments/name/reload/clmsync")
    run = _post(served, f"deployments/{deployment['id']}/create_flow_run",
                {"parameters": {"options": RELOAD}})  # fmt: skip
    deadline = time.monotonic() + 240
    while True:
        state = _get(served, f"flow_runs/{run['id']}")["state"]
        if state["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
            break
        assert time.monotonic() < deadline, f"the reload is still {state['type']}"
        time.sleep(1)
    assert state["type"] == "COMPLETED", state["message"]
    flow_run = _get(served, f"flow_runs/{run['id']}")
    assert flow_run["parameters"]["options"] == RELOAD
    assert flow_run["parameters"]["config"] == deployment["parameters"]["config"]

    # What the run did follows the parameters: the chosen reference sets, usmf's package (which
    # carries every package entity), no CLM, no push.
    analytics = Path(small_emulator.state_dir) / "analytics.duckdb"
    con = duckdb.connect(str(analytics), read_only=True)
    try:
        landed = con.execute(
            "SELECT DISTINCT source, entity, legal_entity FROM ops.landed_files"
        ).fetchall()
        steps = {s for (s,) in con.execute("SELECT DISTINCT step FROM ops.runs").fetchall()}
    finally:
        con.close()
    assert {source for source, _, _ in landed} == {"scm"}
    assert {le for _, _, le in landed} <= {"usmf", ""}
    assert ("scm", "VendorsV2", "usmf") in landed
    assert ("scm", "LegalEntities", "") in landed
    names = {entity for _, entity, _ in landed}
    assert not names & {"Warehouses", "DeliveryTerms", "OperationalSitesV2"}
    assert "push" not in steps

    artifacts = _post(served, "artifacts/filter",
                      {"artifacts": {"flow_run_id": {"any_": [run["id"]]}}})  # fmt: skip
    keys = {a["key"] for a in artifacts}
    assert {"reload-summary", "reload-mismatches"} <= keys
