"""What the extract integration tests share: settings pointed at the emulator, a warehouse of
their own, and comparisons of the warehouse with the emulator's store."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from connectors import catalog
from emulator.server import EmulatorInfo
from emulator.world.clm_json import row_json_sql
from flows.clients import Clients, build_clients
from flows.settings import Settings, load_settings
from flows.steps.extract import extract_all
from flows.steps.extract_types import ExtractReport
from warehouse import db, relations, state

FAST = {
    "execution_queue_seconds": 0.0,
    "execution_fixed_seconds": 0.0,
    "execution_row_seconds": 0.0,
    "error_file_seconds": 0.0,
}
BLANK_DAY = date(1900, 1, 1)


def settings_for(
    info: EmulatorInfo, folder: Path, clm: dict[str, Any] | None = None, **sync: Any
) -> Settings:
    """The emulator's settings with a warehouse in ``folder`` and test-speed polling; ``clm``
    and ``sync`` override those sections."""
    base = load_settings(Path(info.state_dir) / "clmsync.toml")
    return base.model_copy(
        update={
            "scm": base.scm.model_copy(
                update={
                    "package_poll_seconds": 0.02,
                    "package_max_poll_seconds": 0.1,
                    "retry_deadline_seconds": 20.0,
                    "package_timeout_seconds": 20.0,
                }
            ),
            "warehouse": base.warehouse.model_copy(
                update={"path": folder / "warehouse.duckdb", "landing_dir": folder / "landing"}
            ),
            "sync": base.sync.model_copy(update=sync),
            "clm": base.clm.model_copy(update=clm or {}),
        }
    )


@dataclass
class Harness:
    """One warehouse extracting from one emulator."""

    info: EmulatorInfo
    settings: Settings
    clients: Clients = field(init=False)
    con: duckdb.DuckDBPyConnection = field(init=False)

    def __post_init__(self) -> None:
        self.clients = build_clients(self.settings)
        self.con = db.connect(self.settings.warehouse.path)

    def extract(self, **options: Any) -> ExtractReport:
        return extract_all(
            self.settings, self.clients, self.con, run_id=state.new_run_id(), **options
        )

    def close(self) -> None:
        self.con.close()
        self.clients.close()

    @property
    def store(self) -> duckdb.DuckDBPyConnection:
        assert self.info.state is not None
        return self.info.state.store.reader()

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, params or []).fetchall()

    def scalar(self, sql: str, params: list[Any] | None = None) -> Any:
        return self.rows(sql, params)[0][0]


# --- comparing the warehouse with the emulator ------------------------------------------------


def _moment(text: str) -> datetime | None:
    """A package (en-US) or OData (ISO) date/time text as a naive UTC datetime."""
    for pattern in ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y"):
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            pass
    moment = datetime.fromisoformat(text)
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _norm(spec: catalog.Field, value: Any) -> Any:
    """One value, from either side, in a form both sides share (SCM's blanks as None)."""
    if spec.type in ("date", "datetime"):
        if value is None or value == "":
            return None
        moment = _moment(value) if isinstance(value, str) else value
        if isinstance(moment, datetime):
            day = moment.date() if spec.type == "date" else moment
        else:
            day = moment
        as_date = day.date() if isinstance(day, datetime) else day
        return None if as_date == BLANK_DAY else day
    if spec.type in ("int", "decimal"):
        return Decimal(str(value or 0)).normalize()
    return "" if value is None else str(value)


def scm_rows(
    h: Harness, entity: catalog.Entity
) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    """(warehouse rows, emulator rows) of ``entity``, normalised, in every legal entity."""
    cols = ", ".join(f'"{f}"' for f in entity.field_names)
    table = relations.scm(entity)
    held = h.rows(f"SELECT {cols} FROM {table.current}")
    truth = h.store.execute(f'SELECT {cols} FROM scm."{entity.name}"').fetchall()

    def norm(rows: list[tuple[Any, ...]]) -> set[tuple[Any, ...]]:
        return {tuple(_norm(f, v) for f, v in zip(entity.fields, r, strict=True)) for r in rows}

    return norm(held), norm(truth)


def clm_rows(
    h: Harness, obj: catalog.ClmObject
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(warehouse objects, emulator objects as its API renders them), ordered by id."""
    cols = ", ".join(f'"{f}"' for f in obj.field_names)
    held = []
    for row in h.rows(f'SELECT {cols} FROM current_clm."{obj.table}" ORDER BY id'):
        item: dict[str, Any] = {}
        for spec, value in zip(obj.fields, row, strict=True):
            if value is not None and spec.type == "object":
                value = json.loads(value)
            elif value is not None and spec.type == "int":
                value = int(value)
            item[spec.name] = value
        held.append(item)
    truth = [
        json.loads(r[0])
        for r in h.store.execute(
            f"SELECT {row_json_sql(obj)} FROM clm.{obj.table} ORDER BY id"
        ).fetchall()
    ]
    return held, truth


def assert_same_as_emulator(h: Harness) -> None:
    """Every current row of every entity equals the emulator's data, and nothing more."""
    for entity in catalog.synced_entities():
        held, truth = scm_rows(h, entity)
        assert held == truth, (
            f"{entity.name}: {len(held - truth)} rows only in the warehouse, "
            f"{len(truth - held)} only in SCM; e.g. {sorted(held ^ truth, key=str)[:2]}"
        )
    for obj in catalog.CLM_OBJECTS:
        held_objects, true_objects = clm_rows(h, obj)
        assert held_objects == true_objects, f"CLM {obj.collection} differs"


def checksums(h: Harness) -> dict[str, Any]:
    """A checksum of every data table and of the watermarks (not the run log, which records
    the failure, nor the pending marks, which record what SCM holds for us)."""
    sums: dict[str, Any] = {}
    for t in relations.all_source_tables():
        for rel in (t.raw, t.current):
            sums[rel] = h.scalar(
                f"SELECT count(*) || '/' || coalesce(sum(hash(r)), 0) FROM {rel} r"
            )
    for rel in ("ops.landed_files", "ops.quarantine", "ops.tombstones"):
        sums[rel] = h.scalar(f"SELECT count(*) || '/' || coalesce(sum(hash(r)), 0) FROM {rel} r")
    sums["ops.extract_state"] = h.rows(
        "SELECT source, entity, legal_entity, last_execution_id, change_version, cursor, "
        "rows_landed, rows_total FROM ops.extract_state ORDER BY ALL"
    )
    return sums
