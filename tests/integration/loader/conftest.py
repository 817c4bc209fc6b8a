"""The loader against the emulator: a generated world, real HTTPS, a warehouse file per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulator.server import EmulatorInfo, running_emulator
from emulator.world import generate
from flows.settings import Settings, load_settings
from tests.integration.loader import world_deltas
from warehouse import db

FAST: dict[str, Any] = {
    "execution_queue_seconds": 0.0,
    "execution_fixed_seconds": 0.02,
    "execution_row_seconds": 0.0,
    "error_file_seconds": 0.0,
}
HIDDEN = ("_recid", "_version", "_key", "_nkey")
SCM_TABLES = (
    "CLMIntegrationContracts",
    "CLMIntegrationPurchaseAgreements",
    "CLMIntegrationPurchaseAgreementLines",
    "VendorsV2",
    "ContactPersons",
    "CLMIntegrationReleasedProducts",
)


@pytest.fixture(scope="session")
def world_1k(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world-1k")
    generate(1000, 7, out)
    return out


@pytest.fixture(scope="module")
def emu(world_1k: Path) -> Iterator[EmulatorInfo]:
    with running_emulator(world_dir=world_1k, **FAST) as info:
        yield info


def reset(info: EmulatorInfo) -> None:
    """The world as generated, no faults, no executions, fresh counters."""
    info.clear_faults()
    info.admin("POST", "reset")
    info.reset_stats()


def settings_for(info: EmulatorInfo, folder: Path, **sync: Any) -> Settings:
    """The emulator's settings with the warehouse in ``folder`` and quick package polls."""
    return settings_from(Path(info.state_dir), folder, **sync)


def settings_from(state_dir: Path, folder: Path, **sync: Any) -> Settings:
    """:func:`settings_for` from the emulator's state directory (for child processes)."""
    base = load_settings(state_dir / "clmsync.toml")
    return base.model_copy(
        update={
            "scm": base.scm.model_copy(
                update={"package_poll_seconds": 0.02, "package_max_poll_seconds": 0.1}
            ),
            "warehouse": base.warehouse.model_copy(
                update={
                    "path": folder / "warehouse.duckdb",
                    "analytics_path": folder / "analytics.duckdb",
                    "landing_dir": folder / "landing",
                }
            ),
            "sync": base.sync.model_copy(update=sync),
        }
    )


def prepare_warehouse(info: EmulatorInfo, settings: Settings) -> dict[str, list[dict[str, Any]]]:
    """Write the world's deltas into a fresh warehouse; returns them."""
    deltas = world_deltas.compute(info)
    con = db.connect(settings.warehouse.path)
    try:
        world_deltas.write(con, deltas)
    finally:
        con.close()
    return deltas


def snapshot(info: EmulatorInfo) -> dict[str, set[tuple[Any, ...]]]:
    """The emulator's documents, vendors and counterparties as sets of rows (hidden columns and
    the CLM's change stamps left out)."""
    assert info.state is not None
    con = info.state.store.reader()
    out: dict[str, set[tuple[Any, ...]]] = {}
    for name in SCM_TABLES:
        columns = [
            r[0] for r in con.execute(f'DESCRIBE scm."{name}"').fetchall() if r[0] not in HIDDEN
        ]
        select = ", ".join(f'"{c}"' for c in columns)
        out[name] = set(con.execute(f'SELECT {select} FROM scm."{name}"').fetchall())
    out["clm.counterparties"] = set(
        con.execute(
            "SELECT id, name, vendor_account, country, currency, payment_terms, "
            "address.street, address.city, address.zip FROM clm.counterparties"
        ).fetchall()
    )
    return out


def column_names(info: EmulatorInfo, entity: str) -> list[str]:
    assert info.state is not None
    con = info.state.store.reader()
    return [r[0] for r in con.execute(f'DESCRIBE scm."{entity}"').fetchall() if r[0] not in HIDDEN]


def write_requests(info: EmulatorInfo) -> dict[str, int]:
    """Requests that can change SCM or the CLM, by endpoint."""
    requests = info.stats()["requests"]
    writes = ("$batch", "ImportFromPackage", "bulk-upsert", "PUT /blob")
    return {k: v for k, v in requests.items() if any(w in k for w in writes)}
