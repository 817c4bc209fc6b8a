"""The reliability suite's summary at the end of the session (see :mod:`tally`)."""

from __future__ import annotations

import pytest

from tests.reliability.tally import TALLY


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not TALLY.bad_inputs and not TALLY.faults and not TALLY.crashes:
        return
    terminalreporter.section("reliability")
    for line in TALLY.lines():
        terminalreporter.write_line(line)
