"""The clients built from an emulator's settings file reach SCM and the CLM over HTTPS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.server import EmulatorInfo, running_emulator
from flows.clients import build_clients
from flows.settings import load_settings


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorInfo]:
    with running_emulator(tmp_path_factory.mktemp("emu"), size=200, seed=1) as info:
        yield info


def test_clients_from_the_emulators_settings(emulator: EmulatorInfo) -> None:
    settings = load_settings(Path(emulator.state_dir) / "clmsync.toml")
    with build_clients(settings) as clients:
        assert clients.odata.count("Currencies") > 0
        pages = list(clients.odata.pages("LegalEntities", select=["LegalEntityId"]))
        assert {row["LegalEntityId"] for page in pages for row in page} >= {"usmf", "demf"}
        assert clients.clm is not None
        first = next(iter(clients.clm.pages("counterparties", limit=5)))
        assert len(first.items) == 5
