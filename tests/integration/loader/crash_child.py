"""A push that kills itself (SIGKILL) at a chosen point: the crash-safety tests run it.

``python -m tests.integration.loader.crash_child STATE_DIR FOLDER RUN_ID ROUTE POINT``
plans and pushes the warehouse in FOLDER against the emulator of STATE_DIR, and dies:
``after_plan`` once the plan is written, ``mid_odata`` right after the answer to the third
``$batch`` arrived (before it is recorded), ``after_import`` right after the first
``ImportFromPackage`` was accepted, ``during_verify`` at the first read-back.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

from connectors.dmf import PackageApi
from connectors.odata import ODataClient
from flows.clients import build_clients
from flows.steps import push as step
from loader import guard, readback
from tests.integration.loader.conftest import settings_from
from warehouse import db


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _arm(point: str) -> None:
    if point == "after_plan":
        guard.check = lambda *a, **k: _die()  # type: ignore[assignment]
    elif point == "mid_odata":
        original = ODataClient.batch
        calls = {"n": 0}

        def batch(self: ODataClient, changesets: Any) -> Any:
            result = original(self, changesets)
            calls["n"] += 1
            if calls["n"] == 3:
                _die()
            return result

        ODataClient.batch = batch  # type: ignore[method-assign]
    elif point == "after_import":
        imported = PackageApi.import_from_package

        def import_then_die(self: PackageApi, *args: Any, **kwargs: Any) -> str:
            imported(self, *args, **kwargs)
            _die()
            return ""

        PackageApi.import_from_package = import_then_die  # type: ignore[method-assign]
    elif point == "during_verify":
        from loader import verify

        def read(*args: Any, **kwargs: Any) -> Any:
            _die()

        verify.readback.read = read
        readback.read = read
    else:
        raise SystemExit(f"unknown crash point {point}")


def main(state_dir: str, folder: str, run_id: str, route: str, point: str) -> None:
    settings = settings_from(Path(state_dir), Path(folder), changeset_size=10)
    _arm(point)
    con = db.connect(settings.warehouse.path)
    with build_clients(settings) as clients:
        step.plan(con, settings, run_id, route=route)  # type: ignore[arg-type]
        step.push(con, clients, settings, run_id)
    raise SystemExit("the push finished without reaching its crash point")


if __name__ == "__main__":
    main(*sys.argv[1:6])
