"""The benchmark scenarios, one module each, run by ``python -m bench SCENARIO``.

A scenario module has ``SUMMARY`` (one line) and ``run(options) -> harness.Result``. It builds
its own world or data in ``options.workdir``, runs clmsync and its baselines in turn in this
process and returns figures, ratios and targets; ``python -m bench`` prints them and appends the
row to ``bench/RESULTS.md``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

# name → module, in the order ``python -m bench`` runs them.
SCENARIOS: dict[str, str] = {
    "landing": "bench.scenarios.landing",
    "odata": "bench.scenarios.odata",
    "models": "bench.scenarios.models",
    "incremental": "bench.scenarios.incremental",
    "push": "bench.scenarios.push",
    "e2e": "bench.scenarios.e2e",
}


@dataclass(frozen=True)
class Options:
    """``size``/``rounds`` None: the scenario's defaults (the sizes the targets are stated for)."""

    workdir: Path
    size: int | None = None
    rounds: int | None = None


def load(name: str) -> ModuleType:
    try:
        return importlib.import_module(SCENARIOS[name])
    except KeyError:
        known = ", ".join(SCENARIOS)
        raise SystemExit(f"unknown scenario {name!r}; known: {known}") from None
