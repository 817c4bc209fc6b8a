"""End-to-end fixtures: emulators with generated worlds, settings with the warehouse in a temp
folder, a Prefect server in a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from emulator.server import EmulatorInfo, running_emulator
from flows.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]

# Executions finish at once: the tests are about the flows, not the emulator's timing.
FAST: dict[str, Any] = {
    "execution_queue_seconds": 0.0,
    "execution_fixed_seconds": 0.02,
    "execution_row_seconds": 0.0,
    "error_file_seconds": 0.0,
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def emulator_settings(info: EmulatorInfo, folder: Path) -> Settings:
    """The emulator's settings with the warehouse files in ``folder``."""
    settings = load_settings(Path(info.state_dir) / "clmsync.toml")
    warehouse = settings.warehouse.model_copy(
        update={
            "path": folder / "warehouse.duckdb",
            "analytics_path": folder / "analytics.duckdb",
            "landing_dir": folder / "landing",
        }
    )
    return settings.model_copy(update={"warehouse": warehouse})


@pytest.fixture(scope="module")
def small_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorInfo]:
    """A 200-vendor world (the emulator's own settings file points into its state dir)."""
    with running_emulator(tmp_path_factory.mktemp("emu"), size=200, seed=3, **FAST) as info:
        yield info


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLMSYNC", "PREFECT_API"))}
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """Prefect's test harness (a temporary server), started once per session: ~9 s."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``prefect server start`` on a free port with its own PREFECT_HOME; yields the API URL."""
    home = tmp_path_factory.mktemp("prefect-home")
    port = free_port()
    log = home / "server.log"
    env = child_env(
        PREFECT_HOME=str(home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
        PREFECT_SERVER_UI_ENABLED="false",
    )
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
             "--port", str(port), "--no-ui", "--no-scheduler", "--no-late-runs"],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}/api"
    try:
        wait_until(lambda: requests.get(f"{url}/health", timeout=2).ok, 120, "prefect server", log)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def flow_run_logs(flow_run_id: Any, *, containing: str = "", timeout: float = 30) -> list[str]:
    """The messages the API stores for a flow run; logs are shipped in batches, so wait until
    one ``containing`` the given text has arrived."""
    from prefect import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.logging.handlers import APILogHandler

    APILogHandler().flush()
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            logs = client.read_logs(
                log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id]))
            )
            messages = [log.message for log in logs]
            if any(containing in m for m in messages) or time.monotonic() > deadline:
                return messages
            time.sleep(0.5)


def wait_until(check: Any, timeout: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (requests.RequestException, OSError):
            pass
        time.sleep(0.5)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise AssertionError(f"{what} not ready after {timeout:.0f} s\n{tail}")
