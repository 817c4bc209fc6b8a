"""Fixtures: one emulator per test module, filled with the tiny world, executions near zero."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from emulator.server import EmulatorInfo, running_emulator
from tests.integration.emulator.tiny_world import populate

FAST = {
    "execution_queue_seconds": 0.0,
    "execution_fixed_seconds": 0.0,
    "execution_row_seconds": 0.0,
    "error_file_seconds": 0.0,
}


class Scm:
    """A thin HTTP client for the emulated SCM: bearer token, CA, service root."""

    def __init__(self, info: EmulatorInfo, token: str | None = None) -> None:
        self.info = info
        self.root = f"{info.scm_url}/data"
        self.session = info.session()
        self.session.headers["Authorization"] = f"Bearer {token or info.token()}"

    def url(self, path: str) -> str:
        return path if path.startswith("https://") else f"{self.root}/{path}"

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.session.get(self.url(path), timeout=60, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> requests.Response:
        return self.session.post(self.url(path), json=body, timeout=60, **kw)

    def patch(self, path: str, body: Any, **kw: Any) -> requests.Response:
        return self.session.patch(self.url(path), json=body, timeout=60, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.session.delete(self.url(path), timeout=60, **kw)

    def action(self, name: str, body: dict[str, Any]) -> requests.Response:
        path = f"DataManagementDefinitionGroups/Microsoft.Dynamics.DataEntities.{name}"
        return self.post(path, body)

    def value(self, name: str, body: dict[str, Any]) -> Any:
        response = self.action(name, body)
        assert response.status_code == 200, response.text
        return response.json()["value"]


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorInfo]:
    with running_emulator(**FAST) as info:
        assert info.state is not None
        populate(info.state.store)
        yield info


@pytest.fixture(scope="module")
def scm(emu: EmulatorInfo) -> Scm:
    return Scm(emu)


@pytest.fixture(autouse=True)
def _no_faults_left(emu: EmulatorInfo) -> Iterator[None]:
    yield
    emu.clear_faults()
