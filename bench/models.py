"""Benchmark of the SQL models on a large world, and the world landing it (and tests) use.

    python -m bench.models                      # 1,000,000 vendors, seed 7
    python -m bench.models --size 100000 --keep ./bench-models
    python -m bench.models --keep ./bench-models --reuse   # time the builds again, no landing

Steps: generate the world (``emulator.world.generate``), load it into an emulator store, land
every SCM entity and CLM collection straight into ``raw_*``/``current_*`` through the warehouse
landing API (rendered as text the way packages, OData and the CLM API deliver it: en-US dates
for package entities, ISO dates for OData ones), then time

* the full build of every model (cold, then the same again warm);
* the floor: one hand-written SQL diff of the same two sides (``FLOOR_SQL``), the least any
  reconciliation has to do: join each CLM collection to its SCM table on the natural key and
  compare the compared fields as typed values;
* writing the model tables again, no computing (``run_write_floor``): the rows every model table
  holds after the build, written from in-memory copies as the runner writes them: the part of
  the full build any build that keeps these tables pays;
* a 1% mutation (``emulator.world.mutate``) landed as an incremental extract would land it (the
  changed rows only, plus a key snapshot of vendors for the deletes), then the rebuild.

With ``--keep``, the landed warehouse (``landed.duckdb``) and the landed warehouse after the
mutation (``mutated.duckdb``, no model built) stay in the folder; ``--reuse`` starts from copies of
them, so iterations time the builds only. The mutation is then applied by replacing the
``current_*`` tables (all the models read besides seeds) with the mutated ones.

Targets: full build under 60 s, at most 3x the floor; rebuild at most 50% of the full build.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa

from connectors import catalog
from emulator import sql as emu_sql
from emulator.store import Store
from emulator.world import generate, mutation
from warehouse import current, db, landing, relations, runner, state, tombstones
from warehouse.runner import DEFAULT_MODELS_DIR, DEFAULT_SEEDS_DIR

BATCH_ROWS = 200_000


def scm_text_select(entity: catalog.Entity, table: str, where: str = "true") -> str:
    """SELECT an SCM store table's rows as the text extraction lands: package entities with
    en-US dates and plain decimals, OData entities with ISO dates and JSON numbers."""
    cols = []
    for field in entity.fields:
        if entity.extract == "package":
            expr = emu_sql.csv_expr(field)
        else:
            expr = f"CAST({emu_sql.json_expr(field)} AS VARCHAR)"
        cols.append(f"{expr} AS {emu_sql.ident(field.name)}")
    order = ", ".join(emu_sql.ident(k) for k in entity.keys)
    return (
        f"SELECT {', '.join(cols)}, row_number() OVER (ORDER BY {order}) AS _row_number "
        f"FROM {table} WHERE {where}"
    )


def clm_text_select(obj: catalog.ClmObject, table: str, where: str = "true") -> str:
    """SELECT a CLM store table's rows as the CLM API's JSON delivers them, as text."""
    cols = []
    for field in obj.fields:
        name = emu_sql.ident(field.name)
        if field.type == "datetime":
            expr = f"strftime({name}, '%Y-%m-%dT%H:%M:%SZ')"
        elif field.type == "object":
            expr = f"CAST(to_json({name}) AS VARCHAR)"
        else:
            expr = f"CAST({name} AS VARCHAR)"
        cols.append(f"{expr} AS {name}")
    return (
        f"SELECT {', '.join(cols)}, row_number() OVER (ORDER BY id) AS _row_number "
        f"FROM {table} WHERE {where}"
    )


def _batches(store: duckdb.DuckDBPyConnection, select: str) -> pa.RecordBatchReader:
    return store.sql(select).to_arrow_reader(BATCH_ROWS)


def land_store(
    con: duckdb.DuckDBPyConnection,
    store: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    scm_where: str = "true",
    clm_where: str = "true",
) -> dict[str, int]:
    """Land the emulator store's SCM tables (schema ``scm``) and CLM tables (schema ``clm``)
    into the warehouse and refresh ``current_*``; rows landed per relation."""
    landed: dict[str, int] = {}
    for entity in catalog.synced_entities():
        table = f"scm.{emu_sql.ident(entity.name)}"
        result = landing.land_scm(
            con,
            entity,
            _batches(store, scm_text_select(entity, table, scm_where)),
            run_id=run_id,
            execution_id=f"{run_id}-{entity.name}",
            source_file=f"{entity.label}.csv",
            legal_entity=None,
        )
        landed[entity.name] = result.landed
    for obj in catalog.CLM_OBJECTS:
        result = landing.land_clm(
            con,
            obj,
            _batches(store, clm_text_select(obj, f"clm.{obj.table}", clm_where)),
            run_id=run_id,
            cursor=f"{run_id}-{obj.name}",
            source_file=f"{obj.collection}.jsonl",
        )
        landed[obj.name] = result.landed
    current.refresh_all(con, run_id=run_id)
    return landed


def snapshot_vendor_keys(
    con: duckdb.DuckDBPyConnection, store: duckdb.DuckDBPyConnection, *, run_id: str
) -> None:
    """A full key snapshot of vendors per legal entity: deleted vendors become tombstones."""
    table = 'scm."VendorsV2"'
    les = [r[0] for r in store.execute(f'SELECT DISTINCT "dataAreaId" FROM {table}').fetchall()]
    for le in les:
        keys = store.sql(
            f'SELECT "dataAreaId", "VendorAccountNumber" FROM {table} WHERE "dataAreaId" = ?',
            params=[le],
        ).to_arrow_table()
        tombstones.apply_key_snapshot(
            con, relations.scm("VendorsV2"), keys, run_id=run_id, legal_entity=le
        )


def _date(col: str) -> str:
    """An SCM date text (package en-US or OData ISO) as a DATE, the blank date as NULL."""
    return (
        f"nullif(CAST(coalesce(try_strptime({col}, '%m/%d/%Y %I:%M:%S %p'), "
        f"try_cast(left({col}, 10) AS DATE)) AS DATE), DATE '1900-01-01')"
    )


def _text(col: str) -> str:
    """Text as a diff compares it: NFC, trimmed, lower case."""
    return f"lower(trim(nfc_normalize({col})))"


# The floor: one hand-written diff of the same two sides. Each CLM collection is mapped to its
# SCM table's legal entity and joined on the natural key; dates, prices, statuses and the
# vendor master data are compared as typed, normalised values. No fuzzy matching, no blocking
# rules, no reports, history or deltas: the least work any reconciliation of these tables does.
FLOOR_SQL = f"""
WITH bu AS (SELECT lower(clm_business_unit) AS code, legal_entity AS le
            FROM seeds.clm_business_units),
cst AS (SELECT lower(clm_status) AS code, scm_status FROM seeds.clm_contract_statuses),
ast AS (SELECT lower(clm_status) AS code, scm_status FROM seeds.clm_agreement_statuses),
cty AS (SELECT lower(clm_country) AS code, scm_country FROM seeds.clm_countries),
cur AS (SELECT lower(clm_currency) AS code, scm_currency FROM seeds.clm_currencies),
pt AS (SELECT lower(clm_payment_terms) AS code, scm_payment_terms FROM seeds.clm_payment_terms),
k AS (
  SELECT c.id, bu.le, try_cast(left(c.effective_date, 10) AS DATE) AS eff,
    try_cast(left(c.expiration_date, 10) AS DATE) AS exp, cst.scm_status AS status
  FROM current_clm.contracts c LEFT JOIN bu ON bu.code = lower(trim(c.business_unit))
  LEFT JOIN cst ON cst.code = lower(trim(c.status))),
sk AS (
  SELECT "LegalEntityId" AS le, "ContractId" AS id, "ExternalContractId" AS ext,
    "ContractStatus" AS status, {_date('"EffectiveDate"')} AS eff,
    {_date('"ExpirationDate"')} AS exp
  FROM current_scm.contracts),
a AS (
  SELECT a.id, a.contract_id, k.le, try_cast(left(a.effective_date, 10) AS DATE) AS eff,
    try_cast(left(a.expiration_date, 10) AS DATE) AS exp, ast.scm_status AS status
  FROM current_clm.agreements a JOIN k ON k.id = a.contract_id
  LEFT JOIN ast ON ast.code = lower(trim(a.status))),
sa AS (
  SELECT "BuyingLegalEntityId" AS le, "PurchaseAgreementId" AS id, "ExternalContractId" AS ext,
    "AgreementStatus" AS status, {_date('"DefaultEffectiveDate"')} AS eff,
    {_date('"DefaultExpirationDate"')} AS exp
  FROM current_scm.purchase_agreements),
l AS (
  SELECT l.id, a.le, l.status, try_cast(l.unit_price AS DECIMAL(32, 6)) AS price,
    try_cast(left(l.effective_date, 10) AS DATE) AS eff,
    try_cast(left(l.expiration_date, 10) AS DATE) AS exp
  FROM current_clm.agreement_lines l JOIN a ON a.id = l.agreement_id),
sl AS (
  SELECT "PurchaseAgreementLegalEntityId" AS le,
    "PurchaseAgreementId" || '|' || "LineNumber" AS id, "ExternalContractLineId" AS ext,
    try_cast("Price" AS DECIMAL(32, 6)) AS price, {_date('"EffectiveDate"')} AS eff,
    {_date('"ExpirationDate"')} AS exp
  FROM current_scm.purchase_agreement_lines),
cp AS (
  SELECT c.id, bu.le, lower(trim(c.vendor_account)) AS acct, {_text("c.name")} AS name,
    {_text("json_extract_string(c.address, '$.street')")} AS street,
    {_text("json_extract_string(c.address, '$.city')")} AS city,
    {_text("json_extract_string(c.address, '$.zip')")} AS zip,
    cty.scm_country AS country, cur.scm_currency AS currency, pt.scm_payment_terms AS pt
  FROM current_clm.counterparties c LEFT JOIN bu ON bu.code = lower(trim(c.business_unit))
  LEFT JOIN cty ON cty.code = lower(trim(c.country))
  LEFT JOIN cur ON cur.code = lower(trim(c.currency))
  LEFT JOIN pt ON pt.code = lower(trim(c.payment_terms))
  WHERE c.vendor_account IS NOT NULL),
v AS (
  SELECT "dataAreaId" AS le, lower("VendorAccountNumber") AS acct,
    {_text('"VendorOrganizationName"')} AS name, {_text('"AddressStreet"')} AS street,
    {_text('"AddressCity"')} AS city, {_text('"AddressZipCode"')} AS zip,
    "AddressCountryRegionId" AS country, "CurrencyCode" AS currency,
    "DefaultPaymentTermsName" AS pt
  FROM current_scm.vendors)
SELECT 'contract' AS what, coalesce(k.id, sk.ext) AS id
FROM k FULL JOIN sk ON sk.le = k.le AND sk.ext = k.id
WHERE k.id IS NULL OR sk.id IS NULL OR k.eff IS DISTINCT FROM sk.eff
   OR k.exp IS DISTINCT FROM sk.exp OR k.status IS DISTINCT FROM sk.status
UNION ALL
SELECT 'agreement', coalesce(a.id, sa.ext)
FROM a FULL JOIN sa ON sa.le = a.le AND sa.ext = a.contract_id
WHERE a.id IS NULL OR sa.id IS NULL OR a.eff IS DISTINCT FROM sa.eff
   OR a.exp IS DISTINCT FROM sa.exp OR a.status IS DISTINCT FROM sa.status
UNION ALL
SELECT 'line', coalesce(l.id, sl.id)
FROM l FULL JOIN sl ON sl.le = l.le AND sl.ext = l.id
WHERE l.id IS NULL OR sl.id IS NULL OR l.status = 'removed' OR l.price IS DISTINCT FROM sl.price
   OR l.eff IS DISTINCT FROM sl.eff OR l.exp IS DISTINCT FROM sl.exp
UNION ALL
SELECT 'counterparty', coalesce(cp.id, v.acct)
FROM cp JOIN v ON v.le = cp.le AND v.acct = cp.acct
WHERE cp.name IS DISTINCT FROM v.name OR cp.street IS DISTINCT FROM v.street
   OR cp.city IS DISTINCT FROM v.city OR cp.zip IS DISTINCT FROM v.zip
   OR cp.country IS DISTINCT FROM v.country OR cp.currency IS DISTINCT FROM v.currency
   OR cp.pt IS DISTINCT FROM v.pt
"""


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run_floor(con: duckdb.DuckDBPyConnection) -> float:
    """Seconds to materialise the floor diff (as a model's table would be)."""
    return _timed(lambda: con.execute(f"CREATE OR REPLACE TEMP TABLE floor_diff AS {FLOOR_SQL}"))


def model_tables(project: runner.Project) -> list[str]:
    """The relations a build writes as tables (every model but the views)."""
    return [db.qualified(m.layer, m.name) for m in project.models if m.materialized != "view"]


def run_write_floor(con: duckdb.DuckDBPyConnection, project: runner.Project) -> float:
    """Seconds to write again the rows every model table holds, one table per transaction as
    the runner commits them, under the runner's storage settings, from in-memory copies: what
    any build that keeps these tables pays before it computes anything. Run after a build."""
    tables = model_tables(project)
    copies = [f"_clmsync_bench_write_{index}" for index in range(len(tables))]
    scratch = "_clmsync_bench_write"
    try:
        for table, copy in zip(tables, copies, strict=True):
            con.execute(f"CREATE OR REPLACE TEMP TABLE {copy} AS FROM {table}")
        con.execute(f"DROP SCHEMA IF EXISTS {scratch} CASCADE")
        con.execute(f"CREATE SCHEMA {scratch}")
        with runner.model_storage(con):
            started = time.perf_counter()
            for copy in copies:
                with db.transaction(con):
                    con.execute(f"CREATE TABLE {scratch}.{copy} AS FROM temp.main.{copy}")
            seconds = time.perf_counter() - started
    finally:
        con.execute(f"DROP SCHEMA IF EXISTS {scratch} CASCADE")
        for copy in copies:
            con.execute(f"DROP TABLE IF EXISTS temp.main.{copy}")
    return seconds


def build_all(con: duckdb.DuckDBPyConnection, *, full_refresh: bool = False) -> tuple[float, float]:
    """Build every model: (wall seconds, CPU seconds of this process, DuckDB's threads too)."""
    project = runner.load_project(DEFAULT_MODELS_DIR, DEFAULT_SEEDS_DIR)
    results: list[runner.ModelResult] = []

    def go() -> None:
        results.extend(runner.build(con, project, full_refresh=full_refresh))

    cpu = time.process_time()
    seconds = _timed(go)
    cpu = time.process_time() - cpu
    slowest = sorted(results, key=lambda r: r.seconds, reverse=True)[:6]
    print("    slowest: " + ", ".join(f"{r.model} {r.seconds:.1f}s" for r in slowest))
    return seconds, cpu


def _max(store: duckdb.DuckDBPyConnection, sql: str) -> object:
    return store.execute(sql).fetchall()[0][0]


def land_mutation(
    con: duckdb.DuckDBPyConnection, store: Store, fraction: float, seed: int, folder: Path
) -> Path:
    """Mutate the store and land what an incremental extract would: changed rows, deletes."""
    reader = store.reader()
    version = _max(reader, 'SELECT max(_version) FROM scm."VendorsV2"')
    versions = {
        e.name: _max(reader, f'SELECT coalesce(max(_version), 0) FROM scm."{e.name}"')
        for e in catalog.synced_entities()
    }
    updated = {
        o.table: _max(reader, f"SELECT max(updated_at) FROM clm.{o.table}")
        for o in catalog.CLM_OBJECTS
    }
    truth = mutation.mutate(store, fraction, seed, out=folder / "ground_truth_mutated.json")
    reader = store.reader()
    run_id = state.new_run_id()
    landed: dict[str, int] = {}
    for entity in catalog.synced_entities():
        where = f"_version > {versions[entity.name]}"
        select = scm_text_select(entity, f'scm."{entity.name}"', where)
        landed[entity.name] = landing.land_scm(
            con, entity, _batches(reader, select), run_id=run_id,
            execution_id=f"{run_id}-{entity.name}", source_file=f"{entity.label}.csv",
            legal_entity=None,
        ).landed  # fmt: skip
    for obj in catalog.CLM_OBJECTS:
        where = f"updated_at > TIMESTAMP '{updated[obj.table]}'"
        select = clm_text_select(obj, f"clm.{obj.table}", where)
        landed[obj.name] = landing.land_clm(
            con, obj, _batches(reader, select), run_id=run_id, cursor=f"{run_id}-{obj.name}",
            source_file=f"{obj.collection}.jsonl",
        ).landed  # fmt: skip
    current.refresh_all(con, run_id=run_id)
    snapshot_vendor_keys(con, reader, run_id=run_id)
    print(f"    landed after the mutation (vendors up to version {version}): {landed}")
    return truth


def _copy_db(con: duckdb.DuckDBPyConnection, path: Path, to: Path) -> None:
    """Copy the warehouse file (checkpointed: the copy holds everything committed)."""
    con.execute("CHECKPOINT")
    shutil.copyfile(path, to)


def land_kept(args: argparse.Namespace, folder: Path, world: Path) -> None:
    """Land the world into ``landed.duckdb``, then a copy of it plus the mutation's landing
    into ``mutated.duckdb`` (landing never reads models, so no build is needed between)."""
    store = Store()
    print(f"load the emulator store: {_timed(lambda: store.load_world(world)):.1f}s")
    landed, mutated = folder / "landed.duckdb", folder / "mutated.duckdb"
    for path in (landed, mutated):
        path.unlink(missing_ok=True)
    con = db.connect(landed)
    con.execute("SET enable_progress_bar = false")
    seconds = _timed(lambda: land_store(con, store.reader(), run_id=state.new_run_id()))
    print(f"land every table into raw_*/current_*: {seconds:.1f}s")
    _copy_db(con, landed, mutated)
    con.close()
    con = db.connect(mutated)
    con.execute("SET enable_progress_bar = false")
    land_mutation(con, store, args.fraction, args.seed + 1, folder)
    con.execute("CHECKPOINT")
    con.close()


def apply_mutated(con: duckdb.DuckDBPyConnection, mutated: Path) -> None:
    """Make the ``current_*`` tables those of the mutated warehouse."""
    con.execute(f"ATTACH '{mutated}' AS mutated (READ_ONLY)")
    rows = con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'mutated' "
        "AND schema_name IN ('current_scm', 'current_clm')"
    ).fetchall()
    for schema, table in rows:
        name = f'{schema}."{table}"'
        con.execute(f"DELETE FROM {name}")
        con.execute(f"INSERT INTO {name} SELECT * FROM mutated.{name}")
    con.execute("DETACH mutated")
    con.execute("CHECKPOINT")


def _accuracy(con: duckdb.DuckDBPyConnection, truth: Path, label: str) -> None:
    from tests.integration.models import groundtruth

    groundtruth.load_truth(con, truth)
    score = groundtruth.score(con, label)
    print(score.table())
    print(f"    deltas: {len(score.delta_missing)} missing, {len(score.delta_extra)} extra")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--fraction", type=float, default=0.01)
    parser.add_argument("--world", type=Path, help="a world generated before (reused)")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    parser.add_argument("--accuracy", action="store_true", help="score against the truth")
    parser.add_argument(
        "--reuse", action="store_true", help="start from the folder's landed warehouses"
    )
    args = parser.parse_args(argv)
    if args.reuse and not (args.keep and (args.keep / "mutated.duckdb").is_file()):
        parser.error("--reuse needs --keep naming a folder a --keep run landed into")
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-models-"))
    folder.mkdir(parents=True, exist_ok=True)
    world = args.world or folder / "world"
    if not args.reuse:
        if not (world / "ground_truth.json").is_file():
            seconds = _timed(lambda: generate(args.size, args.seed, world))
            print(f"generate {args.size:,} vendors: {seconds:.1f}s")
        land_kept(args, folder, world)
    path = folder / "warehouse.duckdb"
    path.unlink(missing_ok=True)
    shutil.copyfile(folder / "landed.duckdb", path)
    con = db.connect(path)
    con.execute("SET enable_progress_bar = false")

    full, full_cpu = build_all(con)
    print(f"full build, every model: {full:.1f}s ({full_cpu:.1f}s CPU)")
    floors = [run_floor(con) for _ in range(3)]
    floor = statistics.median(floors)
    print(
        f"floor, one hand-written diff: {floor:.1f}s (runs {', '.join(f'{f:.1f}' for f in floors)})"
    )
    project = runner.load_project(DEFAULT_MODELS_DIR, DEFAULT_SEEDS_DIR)
    write = statistics.median(run_write_floor(con, project) for _ in range(3))
    print(f"writing the model tables again (no computing): {write:.1f}s, {write / floor:.2f}x")
    if args.accuracy:
        _accuracy(con, world / "ground_truth.json", f"{args.size:,} vendors")
    apply_mutated(con, folder / "mutated.duckdb")
    rebuild, rebuild_cpu = build_all(con)
    print(f"rebuild after a {args.fraction:.0%} mutation: {rebuild:.1f}s ({rebuild_cpu:.1f}s CPU)")
    if args.accuracy:
        _accuracy(
            con, folder / "ground_truth_mutated.json", f"{args.size:,} vendors after the mutation"
        )
    print(
        f"\nfull build {full:.1f}s (target < 60 s) = {full / floor:.2f}x the floor {floor:.1f}s "
        f"(target <= 3x); rebuild {rebuild:.1f}s = {rebuild / full:.0%} of the full build "
        f"(target <= 50%); CPU: rebuild {rebuild_cpu:.1f}s = {rebuild_cpu / full_cpu:.0%} of "
        f"the full build {full_cpu:.1f}s"
    )
    con.close()


if __name__ == "__main__":
    main()
