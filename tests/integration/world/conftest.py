"""An emulator serving a generated world over real HTTPS, and a small CLM API client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from emulator.server import EmulatorInfo, running_emulator

SIZE = 600


class Clm:
    """Calls the emulator's CLM API with its API key and CA."""

    def __init__(self, info: EmulatorInfo, key: str | None = None) -> None:
        self.info = info
        self.session = info.session()
        self.session.headers["X-Api-Key"] = info.clm_api_key if key is None else key

    def get(self, collection: str, **params: Any) -> requests.Response:
        return self.session.get(f"{self.info.clm_url}/{collection}", params=params, timeout=60)

    def upsert(self, items: list[Any]) -> requests.Response:
        url = f"{self.info.clm_url}/counterparties/bulk-upsert"
        return self.session.post(url, json={"items": items}, timeout=60)

    def pages(self, collection: str, limit: int = 100, **params: Any) -> Iterator[list[Any]]:
        cursor = None
        while True:
            extra = {"cursor": cursor} if cursor else {}
            response = self.get(collection, limit=limit, **params, **extra)
            assert response.status_code == 200, response.text
            body = response.json()
            yield body["data"]
            cursor = body["next_cursor"]
            if cursor is None:
                return

    def all(self, collection: str, limit: int = 100, **params: Any) -> list[Any]:
        return [o for page in self.pages(collection, limit, **params) for o in page]


def store_rows(info: EmulatorInfo, sql: str, params: list[Any] | None = None) -> list[Any]:
    assert info.state is not None
    return info.state.store.reader().execute(sql, params or []).fetchall()


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorInfo]:
    state_dir: Path = tmp_path_factory.mktemp("emulator")
    with running_emulator(state_dir, size=SIZE, seed=2) as info:
        yield info


@pytest.fixture
def clm(emu: EmulatorInfo) -> Clm:
    emu.clear_faults()
    return Clm(emu)
