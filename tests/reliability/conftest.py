"""The reliability suite's shared test bed (one prepared world for the whole session) and its
summary at the end of the session (see :mod:`tally`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from emulator.server import running_emulator
from tests.reliability.harness import FAST, Bed
from tests.reliability.tally import TALLY

WORLD_SIZE = 200
WORLD_SEED = 7


@pytest.fixture(scope="session")
def bed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bed]:
    """A 200-vendor world after its first reconciliation and a mutation, saved, with the
    fault-free reference run from there (see :class:`Bed`). Tests restore it before use."""
    folder = tmp_path_factory.mktemp("bed")
    with running_emulator(folder / "emulator", size=WORLD_SIZE, seed=WORLD_SEED, **FAST) as info:
        prepared = Bed(info, folder)
        prepared.prepare()
        yield prepared


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not TALLY.bad_inputs and not TALLY.faults and not TALLY.crashes:
        return
    terminalreporter.section("reliability")
    for line in TALLY.lines():
        terminalreporter.write_line(line)
