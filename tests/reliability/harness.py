"""A test bed for whole runs under faults and crashes: one emulator, one warehouse, a saved
starting point both can go back to, and checksums of what a run leaves behind.

The starting point is a world after its first reconciliation plus a mutation (so the next run
has creates, updates and closes to push). :meth:`Bed.restore` puts the emulator's store and the
warehouse files back to it, so every fault or crash case starts from the same state as the
fault-free reference run, and "identical" is a comparison of checksums:

* the warehouse: every table of ``reports`` and ``marts`` (columns that hold times of the run,
  or intervals derived from them, left out), and the watermarks. Of the mismatch history, its
  open mismatches; the ids of all it ever saw are kept as a set, since a run that built on a
  half-done push (after a crash) truly saw, and then saw resolved, mismatches an uninterrupted
  run never meets: the reference's must all be there, more may be;
* the emulator: every SCM entity table (catalog fields; record ids and row versions are
  internal) and every CLM table (without its time stamps, which upserts set to "now").
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from connectors import catalog
from emulator.server import EmulatorInfo
from emulator.store import Store
from flows.settings import Settings, load_settings
from flows.steps.run import RunOptions, run_pipeline
from flows.steps.runner import PlainRunner
from flows.steps.summary import RunReport
from tests.reliability.crashkit import counting

FAST: dict[str, Any] = {
    "execution_queue_seconds": 0.0,
    "execution_fixed_seconds": 0.0,
    "execution_row_seconds": 0.0,
    "error_file_seconds": 0.0,
}
LEGAL_ENTITIES = ["usmf", "demf"]
WAREHOUSE_FILES = ("warehouse.duckdb", "analytics.duckdb")
# Columns holding the time of a run (or derived from it), and counts relative to the build
# before (``new_this_run``): not part of what a run decides from the data.
_TIME_TYPES = ("TIMESTAMP", "INTERVAL", "DATE")
_CLM_TIMES = ("created_at", "updated_at")
HISTORY = ("reports", "rpt_mismatch_history")
NATURAL_KEYS = {
    "CLMIntegrationContracts": ("LegalEntityId", "ExternalContractId"),
    "CLMIntegrationPurchaseAgreements": ("BuyingLegalEntityId", "ExternalContractId"),
    "CLMIntegrationPurchaseAgreementLines": (
        "PurchaseAgreementLegalEntityId", "ExternalContractLineId",
    ),
}  # fmt: skip


def bed_settings(info: EmulatorInfo, folder: Path, **scm: Any) -> Settings:
    """The emulator's settings, the warehouse in ``folder``, test-speed polling and deadlines."""
    base = load_settings(Path(info.state_dir) / "clmsync.toml")
    scm_options = {
        "package_poll_seconds": 0.02,
        "package_max_poll_seconds": 0.1,
        "retry_deadline_seconds": 60.0,
        "package_timeout_seconds": 3.0,
        **scm,
    }
    return base.model_copy(
        update={
            "scm": base.scm.model_copy(update=scm_options),
            "warehouse": base.warehouse.model_copy(
                update={
                    "path": folder / "warehouse.duckdb",
                    "analytics_path": folder / "analytics.duckdb",
                    "landing_dir": folder / "landing",
                }
            ),
            "sync": base.sync.model_copy(update={"legal_entities": LEGAL_ENTITIES}),
        }
    )


def run(settings: Settings, **options: Any) -> RunReport:
    """One reconcile run in this process, as ``clmsync run --yes`` does it (no Prefect)."""
    runner = PlainRunner(approved=True, retry_delays=(0.2,))
    return run_pipeline(settings, RunOptions(approved=True, **options), runner)


# --- the emulator's store ----------------------------------------------------------------------


def _tables(con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...]) -> list[tuple[str, str]]:
    listed = ", ".join(f"'{s}'" for s in schemas)
    return [
        (str(s), str(t))
        for s, t in con.execute(
            f"SELECT schema_name, table_name FROM duckdb_tables() WHERE schema_name IN ({listed}) "
            "ORDER BY ALL"
        ).fetchall()
    ]


def save_store(store: Store, prefix: str = "saved") -> None:
    """Copy every SCM, CLM and emulator table into ``<prefix>_<schema>`` of the same database."""
    with store.transaction() as con:
        for schema, table in _tables(con, ("scm", "clm", "emu")):
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {prefix}_{schema}")
            con.execute(
                f'CREATE OR REPLACE TABLE {prefix}_{schema}."{table}" AS '
                f'SELECT * FROM {schema}."{table}"'
            )


def changed_rows(store: Store, relation: str, limit: int = 5) -> dict[str, list[Any]]:
    """For a relation of :func:`emulator_sums` (``VendorsV2``, ``clm.contracts``): rows only it
    holds (``now``) and rows only the reference run left (``reference``), a few of each."""
    schema, table = relation.split(".", 1) if relation.startswith("clm.") else ("scm", relation)
    con = store.reader()
    cols = ", ".join(
        f'"{c}"'
        for (c,) in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? "
            "AND NOT starts_with(column_name, '_') ORDER BY column_index",
            [schema, table],
        ).fetchall()
        if c not in _CLM_TIMES
    )
    now = f'SELECT {cols} FROM {schema}."{table}"'
    then = f'SELECT {cols} FROM reference_{schema}."{table}"'
    return {
        "now": con.execute(f"{now} EXCEPT ALL {then} LIMIT {limit}").fetchall(),
        "reference": con.execute(f"{then} EXCEPT ALL {now} LIMIT {limit}").fetchall(),
    }


def restore_store(store: Store) -> None:
    """Put every table back as :func:`save_store` saved it (sequences go on, as after a reset)."""
    with store.transaction() as con:
        for schema, table in _tables(con, ("scm", "clm", "emu")):
            con.execute(f'DELETE FROM {schema}."{table}"')
            con.execute(f'INSERT INTO {schema}."{table}" SELECT * FROM saved_{schema}."{table}"')


def emulator_sums(store: Store) -> dict[str, str]:
    """A checksum of every SCM entity table and CLM table, as the systems' users see them."""
    con = store.reader()
    sums: dict[str, str] = {}
    for entity in catalog.ENTITIES:
        if entity.direction == "control":
            continue
        cols = ", ".join(f'"{f}"' for f in entity.field_names)
        sums[entity.name] = _sum(con, f'SELECT {cols} FROM scm."{entity.name}"')
    for _, table in _tables(con, ("clm",)):
        cols = [
            c
            for (c,) in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'clm' "
                "AND table_name = ? ORDER BY column_index",
                [table],
            ).fetchall()
            if c not in _CLM_TIMES
        ]
        sums[f"clm.{table}"] = _sum(con, f'SELECT {", ".join(cols)} FROM clm."{table}"')
    return sums


def natural_key_repeats(store: Store) -> dict[str, int]:
    """Per SCM document entity: natural keys held by more than one record (must be 0)."""
    con = store.reader()
    found = {}
    for name, keys in NATURAL_KEYS.items():
        cols = ", ".join(f'"{k}"' for k in keys)
        found[name] = int(
            con.execute(
                f'SELECT count(*) FROM (SELECT {cols} FROM scm."{name}" '
                f"WHERE \"{keys[1]}\" <> '' GROUP BY ALL HAVING count(*) > 1)"
            ).fetchall()[0][0]
        )
    return found


def _sum(con: duckdb.DuckDBPyConnection, select: str) -> str:
    rows = con.execute(f"SELECT count(*), coalesce(sum(hash(t)), 0) FROM ({select}) t").fetchall()
    return f"{rows[0][0]}/{rows[0][1]}"


# --- the warehouse -----------------------------------------------------------------------------


def warehouse_sums(path: Path) -> dict[str, Any]:
    """Checksums of ``reports`` and ``marts`` (run times and counts relative to the previous
    build left out) and the watermarks."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        sums: dict[str, Any] = {}
        for schema, table in _tables(con, ("reports", "marts")):
            cols = [
                f'"{c}"'
                for c, kind in con.execute(
                    "SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = ? "
                    "AND table_name = ? ORDER BY column_index",
                    [schema, table],
                ).fetchall()
                if (not str(kind).startswith(_TIME_TYPES) or not str(c).endswith(("_at", "_for")))
                and not str(c).endswith("_this_run")
            ]
            where = ""
            if (schema, table) == HISTORY:
                # Its open mismatches; which ones it ever saw is compared separately, as a set.
                where = " WHERE resolved_at IS NULL"
                sums["history_ids"] = frozenset(
                    r[0]
                    for r in con.execute(f"SELECT mismatch_id FROM {'.'.join(HISTORY)}").fetchall()
                )
            sums[f"{schema}.{table}"] = _sum(
                con, f"SELECT {', '.join(cols)} FROM {schema}.{table}{where}"
            )
        sums["watermarks"] = watermarks(con)
        return sums
    finally:
        con.close()


def watermarks(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str, str], tuple[Any, ...]]:
    """Where each source entity's next extract starts: (source, entity, legal entity) →
    (last execution, change version, cursor, rows in total)."""
    return {
        (str(r[0]), str(r[1]), str(r[2])): tuple(r[3:])
        for r in con.execute(
            "SELECT source, entity, legal_entity, last_execution_id, change_version, cursor, "
            "rows_total FROM ops.extract_state ORDER BY ALL"
        ).fetchall()
    }


@dataclass
class Bed:
    """One emulator and one warehouse folder, with a saved starting point."""

    info: EmulatorInfo
    folder: Path
    settings: Settings = field(init=False)
    saved: Path = field(init=False)
    reference: dict[str, Any] = field(default_factory=dict)
    settled: dict[str, Any] = field(default_factory=dict)
    models: int = 0  # models a complete build builds
    profile: Counter[str] = field(default_factory=Counter)  # hooked calls of the reference run
    start: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.settings = bed_settings(self.info, self.folder / "warehouse")
        self.saved = self.folder / "saved"

    @property
    def store(self) -> Store:
        assert self.info.state is not None
        return self.info.state.store

    @property
    def warehouse(self) -> Path:
        return Path(self.settings.warehouse.path)

    def prepare(self, *, fraction: float = 0.05, seed: int = 11) -> RunReport:
        """First run, a mutation, save the starting point, then the fault-free reference run
        from it (profiled: how often it calls each of :mod:`crashkit`'s hooks) and one more run
        after that (``settled``: what the next run shows once the
        reference's pushes are in SCM); returns the reference run's report."""
        first = run(self.settings)
        assert first.status == "succeeded", first.error
        self.info.admin("POST", "mutate", {"fraction": fraction, "seed": seed})
        save_store(self.store)
        shutil.rmtree(self.saved, ignore_errors=True)
        shutil.copytree(self.warehouse.parent, self.saved)
        self.start = self.sums()
        with counting() as calls:
            reference = run(self.settings)
        assert reference.status == "succeeded", reference.error
        self.profile = Counter(calls)
        self.reference = self.sums()
        save_store(self.store, "reference")
        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            self.models = int(
                con.execute(
                    "SELECT count(*) FROM ops.model_runs WHERE run_id = ? AND status = 'success'",
                    [reference.run_id],
                ).fetchall()[0][0]
            )
        finally:
            con.close()
        settle = run(self.settings)
        assert settle.status == "succeeded", settle.error
        self.settled = self.sums()
        return reference

    def restore(self) -> None:
        """Back to the saved starting point: store, executions, faults, warehouse files."""
        assert self.info.state is not None
        self.info.clear_faults()
        self.info.state.dmf.reset()
        restore_store(self.store)
        shutil.rmtree(self.warehouse.parent, ignore_errors=True)
        shutil.copytree(self.saved, self.warehouse.parent)

    def sums(self) -> dict[str, Any]:
        return {"warehouse": warehouse_sums(self.warehouse), "emulator": emulator_sums(self.store)}

    @contextmanager
    def fault(self, *specs: dict[str, Any]) -> Iterator[None]:
        for spec in specs:
            self.info.set_fault(**spec)
        try:
            yield
        finally:
            self.info.clear_faults()


def release_stuck_executions(info: EmulatorInfo) -> list[str]:
    """Let executions a fault held in ``Executing`` finish, as SCM's batch eventually does.

    The emulator's fault keeps them running forever; a real execution ends some time after the
    client's deadline. Returns the executions released.
    """
    assert info.state is not None
    dmf = info.state.dmf
    with dmf._lock:
        stuck = [e for e in dmf._executions.values() if e.forced == "Executing"]
    for execution in stuck:
        execution.forced = None
        dmf._pool.submit(dmf._run, execution)
    return [e.id for e in stuck]


UNCOMPARED = ("watermarks", "history_ids")


def differences(got: dict[str, Any], want: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The relations whose checksums differ (watermarks aside: execution ids are new per run;
    and the set of mismatches the history ever saw, which runs that saw a half-done push may
    add to: see :func:`warehouse_sums`)."""
    found = {}
    for side in ("warehouse", "emulator"):
        for name in sorted(set(got[side]) | set(want[side])):
            if name not in UNCOMPARED and got[side].get(name) != want[side].get(name):
                found[name] = (got[side].get(name), want[side].get(name))
    return found
