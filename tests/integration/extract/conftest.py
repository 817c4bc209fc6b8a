"""Fixtures: one generated world (size 1,000) per session, one emulator per test module, one
warehouse per harness."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from emulator.server import EmulatorInfo, running_emulator
from emulator.world import generate
from tests.integration.extract.harness import FAST, Harness, settings_for

WORLD_SIZE = 1000


@pytest.fixture(scope="session")
def world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("world") / "world"
    generate(WORLD_SIZE, 0, folder)
    return folder


@pytest.fixture(scope="module")
def emu(world_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorInfo]:
    with running_emulator(tmp_path_factory.mktemp("emulator"), world_dir=world_dir, **FAST) as info:
        yield info


@pytest.fixture(scope="module")
def make_harness(
    emu: EmulatorInfo, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., Harness]]:
    """Build harnesses (each its own warehouse) on the module's emulator; closed at the end."""
    made: list[Harness] = []

    def make(clm: dict[str, Any] | None = None, **sync: Any) -> Harness:
        folder = tmp_path_factory.mktemp("warehouse")
        harness = Harness(emu, settings_for(emu, folder, clm, **sync))
        made.append(harness)
        return harness

    yield make
    for harness in made:
        harness.close()


@pytest.fixture(autouse=True)
def _no_faults_left(emu: EmulatorInfo) -> Iterator[None]:
    yield
    emu.clear_faults()
