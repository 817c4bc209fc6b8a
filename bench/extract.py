"""Extract speed: full vs incremental, and landing vs DuckDB's own ``read_csv``.

    python -m bench.extract [--size 100000] [--seed 0] [--fraction 0.01] [--world DIR]

1. Generates a world of ``--size`` vendors (or reuses ``--world``) and serves it with the
   emulator in a child process, so client and server do not share one interpreter; execution
   delays are set to zero, status polls start at 0.1 s.
2. A full extract of both systems into a fresh file warehouse (packages kept, no key snapshot).
3. ``POST /_emulator/mutate`` of ``--fraction``, then an incremental extract (no key snapshot),
   then a run without change but with the key snapshots of every package entity, to show what
   the delete check costs on its own.
4. The full extract's packages landed again through the same reader and landing code, the way
   the extract lands them: one package per thread on its own cursor, up to
   ``sync.extract_concurrency`` at once, one checkpoint at the end. Against DuckDB's
   ``read_csv`` (all VARCHAR, DuckDB's own threads) of the very same CSV files (unzipped
   beforehand, to DuckDB's advantage) into a fresh file database; ``--repeat`` times each,
   alternately, medians compared. The same packages landed on one thread, one file after the
   other, are timed too and shown for reference (that is what one large package costs).

Targets: the incremental extract costs at most 15 % of the full one; landing runs at no less than
0.7 × the rows per second of ``read_csv``. Prints the figures and exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import duckdb
import requests

from connectors.package import PackageReader, RowError
from flows.clients import build_clients
from flows.settings import Settings, load_settings
from flows.steps.extract import deferred_checkpoints, extract_all
from flows.steps.extract_types import ExtractReport, parallel_map
from warehouse import db, landing, state

INCREMENTAL_TARGET = 0.15
LANDING_TARGET = 0.7


@contextmanager
def emulator(world: Path, folder: Path) -> Iterator[dict[str, Any]]:
    """The emulator serving ``world`` in a child process; yields its ``emulator.json``."""
    command = [sys.executable, "-m", "emulator", "serve", "--state-dir", str(folder),
               "--world-dir", str(world), "--execution-seconds", "0"]  # fmt: skip
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        info = _wait_ready(folder, child)
        _admin(info, "config", {"execution_queue_seconds": 0, "execution_row_seconds": 0})
        yield info
    finally:
        child.terminate()
        child.wait(timeout=30)


def _wait_ready(folder: Path, child: subprocess.Popen[bytes]) -> dict[str, Any]:
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if child.poll() is not None:
            output = child.stderr.read().decode(errors="replace") if child.stderr else ""
            raise RuntimeError(f"the emulator stopped: {output}")
        path = folder / "emulator.json"
        if path.is_file():
            info: dict[str, Any] = json.loads(path.read_text())
            try:
                _admin(info, "config")
                return info
            except requests.RequestException:
                pass
        time.sleep(0.5)
    raise RuntimeError("the emulator did not start in 10 minutes")


def _admin(info: dict[str, Any], path: str, body: Any = None) -> Any:
    with requests.Session() as session:
        session.trust_env = False
        session.verify = info["ca_cert"]
        response = session.request(
            "POST" if body is not None else "GET",
            f"https://127.0.0.1:{info['port']}/_emulator/{path}",
            json=body,
            headers={"X-Emulator-Admin": info["admin_token"]},
            timeout=3600,
        )
    response.raise_for_status()
    return response.json()


def _settings(folder: Path, warehouse: Path) -> Settings:
    base = load_settings(folder / "clmsync.toml")
    return base.model_copy(
        update={
            "scm": base.scm.model_copy(
                update={"package_poll_seconds": 0.1, "package_max_poll_seconds": 1.0}
            ),
            "warehouse": base.warehouse.model_copy(
                update={
                    "path": warehouse / "warehouse.duckdb",
                    "landing_dir": warehouse / "landing",
                }
            ),
        }
    )


def _extract(settings: Settings, con: duckdb.DuckDBPyConnection, **kw: Any) -> ExtractReport:
    with build_clients(settings) as clients:
        report = extract_all(settings, clients, con, run_id=state.new_run_id(), **kw)
    if not report.ok:
        raise RuntimeError(f"extract failed: {[r.error for r in report.failures]}")
    return report


def _line(name: str, report: ExtractReport) -> str:
    return (
        f"{name:<28} {report.seconds:8.2f} s   extracted {report.total('extracted'):>9,}   "
        f"landed {report.total('landed'):>9,}"
    )


def _fresh(path: Path) -> Path:
    for old in path.parent.glob(path.name + "*"):
        old.unlink()
    return path


def _land_package(con: duckdb.DuckDBPyConnection, package: Path) -> int:
    """Land every entity file of ``package`` on a cursor of its own; the rows in."""
    rows = 0
    with closing(con.cursor()) as cur, PackageReader(package) as reader:
        for item in reader.entities():
            assert item.entity is not None
            errors: list[RowError] = []
            done = landing.land_scm(
                cur, item.entity, reader.open_csv(item.label, on_error=errors.append),
                run_id="bench", execution_id=package.stem, source_file=item.file,
                legal_entity=package.stem, bad_rows=errors,
            )  # fmt: skip
            rows += done.rows_in
    return rows


def _land_again(packages: list[Path], target: Path, workers: int) -> tuple[int, float]:
    """Land every entity file of ``packages`` as the extract does: one package per thread, up
    to ``workers`` at once, one checkpoint at the end (included); (rows, seconds)."""
    with closing(db.connect(_fresh(target))) as con:
        started = time.perf_counter()
        with deferred_checkpoints(con):
            rows = sum(parallel_map(partial(_land_package, con), packages, workers))
        return rows, time.perf_counter() - started


def _unzip(packages: list[Path], folder: Path) -> list[Path]:
    """The CSV files of ``packages``, written out as they are (UTF-16)."""
    files: list[Path] = []
    for n, package in enumerate(packages):
        with zipfile.ZipFile(package) as archive:
            for name in archive.namelist():
                if name.lower().endswith(".csv"):
                    out = folder / f"{n}-{name.replace(' ', '_')}"
                    out.write_bytes(archive.read(name))
                    files.append(out)
    return files


def _read_csv(files: list[Path], target: Path) -> tuple[int, float]:
    """DuckDB reading the same CSV files into tables of a fresh file database (its checkpoint
    at the end included); (rows, seconds)."""
    rows = 0
    with closing(duckdb.connect(str(_fresh(target)))) as con:
        started = time.perf_counter()
        for n, path in enumerate(files):
            con.execute(
                f"CREATE TABLE t{n} AS SELECT * FROM read_csv(?, encoding = 'utf-16', "
                "header = true, all_varchar = true)",
                [str(path)],
            )
            rows += int(con.execute(f"SELECT count(*) FROM t{n}").fetchall()[0][0])
        con.execute("CHECKPOINT")
        return rows, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fraction", type=float, default=0.01)
    parser.add_argument("--world", type=Path, help="a world generated before (else: generated)")
    parser.add_argument("--repeat", type=int, default=3, help="landing comparisons (median)")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="clmsync-bench-extract-"))
    try:
        world = args.world
        if world is None:
            from emulator.world import generate

            world = scratch / "world"
            started = time.perf_counter()
            generate(args.size, args.seed, world)
            print(
                f"world of {args.size:,} vendors generated in {time.perf_counter() - started:.1f} s"
            )
        with emulator(world, scratch / "emulator") as info:
            print(f"emulator ready on port {info['port']}")
            settings = _settings(scratch / "emulator", scratch / "warehouse")
            with closing(db.connect(settings.warehouse.path)) as con:
                full = _extract(settings, con, key_snapshot=False, keep_packages=True)
                # Out of the landing folder: the next export of a project clears its folder.
                (scratch / "kept").mkdir()
                packages = [Path(shutil.move(p, scratch / "kept")) for p in full.packages]
                _admin(info, "mutate", {"fraction": args.fraction, "seed": args.seed + 1})
                incremental = _extract(settings, con, key_snapshot=False)
                snapshots = _extract(settings, con, key_snapshot=True)
        in_extract = [r for r in full.results if r.via == "package"]
        extract_rate = sum(r.extracted for r in in_extract) / sum(r.seconds for r in in_extract)
        files = _unzip(packages, scratch)
        workers = settings.sync.extract_concurrency
        ours, alone, theirs = [], [], []
        for _ in range(args.repeat):  # alternately: the machine's load drifts
            ours.append(_land_again(packages, scratch / "again.duckdb", workers))
            alone.append(_land_again(packages, scratch / "alone.duckdb", 1))
            theirs.append(_read_csv(files, scratch / "read_csv.duckdb"))
        ours_rows, ours_s = ours[0][0], statistics.median(s for _, s in ours)
        alone_s = statistics.median(s for _, s in alone)
        theirs_rows, theirs_s = theirs[0][0], statistics.median(s for _, s in theirs)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    share = incremental.seconds / full.seconds
    ratio = (ours_rows / ours_s) / (theirs_rows / theirs_s)
    print(_line("full extract", full))
    print(_line(f"incremental after {args.fraction:.0%}", incremental))
    print(_line("no change + key snapshots", snapshots))
    print(f"incremental / full: {share:.1%} (target <= {INCREMENTAL_TARGET:.0%})")
    print(f"landing inside the full extract (per thread): {extract_rate:,.0f} rows/s")
    for name, rows, seconds in (
        (f"landing again, {workers} packages at once (median)", ours_rows, ours_s),
        ("landing again, one file after the other (median)", ours_rows, alone_s),
        ("DuckDB read_csv, one file after the other (median)", theirs_rows, theirs_s),
    ):
        print(f"{name}: {rows:,} rows in {seconds:.2f} s = {rows / seconds:,.0f} rows/s")
    print(f"landing / read_csv: {ratio:.2f}x (target >= {LANDING_TARGET}x)")
    print(f"for reference, one file after the other / read_csv: {theirs_s / alone_s:.2f}x")
    if share > INCREMENTAL_TARGET or ratio < LANDING_TARGET:
        sys.exit(1)


if __name__ == "__main__":
    main()
