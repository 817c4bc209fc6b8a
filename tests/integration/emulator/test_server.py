"""The state directory: emulator.json, a clmsync.toml that clmsync loads, serving from the CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from emulator.server import running_emulator
from flows.settings import load_settings

KEYS = {
    "scm_url",
    "authority",
    "tenant_id",
    "ca_cert",
    "client_id",
    "client_secret",
    "clm_url",
    "clm_api_key",
    "admin_token",
    "port",
    "pid",
    "world",
}


def test_state_dir_files_point_clmsync_at_the_emulator(tmp_path: Path) -> None:
    with running_emulator(state_dir=tmp_path) as info:
        data = json.loads((tmp_path / "emulator.json").read_text())
        assert set(data) >= KEYS
        assert data["scm_url"] == f"https://127.0.0.1:{info.port}/scm"
        assert data["authority"] == f"https://127.0.0.1:{info.port}/{data['tenant_id']}"
        assert data["clm_url"] == f"https://127.0.0.1:{info.port}/clm/api/v1"
        assert Path(data["ca_cert"]).is_file()
        settings = load_settings(tmp_path / "clmsync.toml")
        assert settings.scm.environment_url == info.scm_url
        assert settings.scm.authority == info.authority
        assert settings.scm.scope == f"{info.scm_url}/.default"
        assert settings.scm.client_secret is not None
        assert settings.scm.client_secret.get_secret_value() == info.client_secret
        assert settings.scm.ca_bundle == Path(info.ca_cert).resolve()
        assert settings.warehouse.path == tmp_path.resolve() / "warehouse.duckdb"
        assert settings.warehouse.landing_dir == tmp_path.resolve() / "landing"
        assert settings.sync.legal_entities == ["usmf", "demf", "gbsi", "jpmf", "cnmf"]
        assert settings.clm.api_url == info.clm_url
        # the CA in the settings is what the server's certificate chains to
        session = requests.Session()
        session.trust_env = False
        session.verify = str(settings.scm.ca_bundle)
        assert session.get(f"{info.authority}/v2.0/.well-known/openid-configuration", timeout=30).ok
        first = (info.tenant_id, info.client_id, info.client_secret)
    with running_emulator(state_dir=tmp_path) as again:
        assert (again.tenant_id, again.client_id, again.client_secret) == first


def test_python_m_emulator_serve(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[3]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "emulator",
            "serve",
            "--state-dir",
            str(tmp_path),
            "--page-size",
            "7",
        ],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        info_file = tmp_path / "emulator.json"
        while not info_file.is_file():
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline
            time.sleep(0.1)
        info = json.loads(info_file.read_text())
        session = requests.Session()
        session.trust_env = False
        session.verify = info["ca_cert"]
        while True:
            try:
                response = session.get(
                    f"{info['scm_url'].rsplit('/', 1)[0]}/_emulator/config",
                    headers={"X-Emulator-Admin": info["admin_token"]},
                    timeout=5,
                )
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert response.json()["page_size"] == 7
        session.close()
    finally:
        process.send_signal(signal.SIGINT)  # Ctrl+C
        process.wait(timeout=30)
    assert process.returncode in (0, 130)  # uvicorn re-raises SIGINT once it has stopped
