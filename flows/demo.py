"""``clmsync demo``: the whole product on one machine, against the local emulator.

1. Start the emulator (a separate process, HTTPS on a free loopback port) with a generated world
   whose discrepancies are planted on purpose and listed in a ground truth.
2. Reconcile in full, exactly as against a real tenant (msal token, package exports, OData, the
   CLM API, pushes through OData ``$batch`` or package imports): only the settings differ.
3. Check what the run found against the ground truth, and that SCM and the CLM now hold every
   change the run pushed (the emulator recomputes its ground truth from its own data).
4. Mutate the world (both sides), reconcile again (incremental), check again.
5. Stop the emulator and run three example queries against the analytics snapshot.

The emulator is driven through its command line and admin HTTP endpoints only, so nothing here
imports it (production code never does).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import requests
from rich.console import Console
from rich.table import Table

from connectors.errors import ClmSyncError
from flows.commands.progress import ConsoleRunner, summary_table
from flows.settings import Settings, load_settings
from flows.steps.run import RunOptions, report_or_raise, run_pipeline
from flows.steps.summary import RunReport
from flows.truth import TruthCheck, check_reports, unresolved_actions

MARKER = "emulator/.clmsync-demo"  # under data/emulator/, which git ignores
START_TIMEOUT = 300.0

QUERIES: tuple[tuple[str, str], ...] = (
    (
        "What is open, per kind: for clmsync to push, for a person to review",
        "select kind, sum(open_mismatches) as open, sum(to_push) as to_push,\n"
        "       sum(to_review) as to_review, sum(resolved_this_run) as resolved_this_run\n"
        "from reports.rpt_summary\n"
        "group by kind\n"
        "having sum(open_mismatches) + sum(resolved_this_run) > 0\n"
        "order by open desc, kind",
    ),
    (
        "Counterparties linked by name or tax id only: check the link, then fix the CLM",
        "select counterparty_id, kind, counterparty_name, vendor_account, vendor_name,\n"
        "       round(confidence, 2) as confidence\n"
        "from reports.rpt_unlinked_counterparties\n"
        "where kind in ('counterparty_linked_by_name', 'counterparty_linked_by_tax_id')\n"
        "order by kind, counterparty_id\n"
        "limit 5",
    ),
    (
        "What each run did (from the run log)",
        "select run_id, step, status, rows, round(epoch(ended_at - started_at), 1) as seconds\n"
        "from ops.runs\n"
        "where step in ('extract', 'push', 'verify', 'clm_feed')\n"
        "order by step_id",
    ),
)


@dataclass
class Emulator:
    """A running emulator process and what the demo needs of it."""

    process: subprocess.Popen[bytes]
    state_dir: Path
    base_url: str
    admin_token: str
    ca_cert: str

    def admin(self, method: str, path: str, body: Any = None, timeout: float = 600) -> Any:
        with requests.Session() as session:
            session.trust_env = False
            session.verify = self.ca_cert
            response = session.request(
                method,
                f"{self.base_url}/_emulator/{path}",
                json=body,
                headers={"X-Emulator-Admin": self.admin_token},
                timeout=timeout,
            )
        if response.status_code >= 400:
            raise ClmSyncError(f"the emulator refused {method} {path}: {response.text[:300]}")
        return response.json()


@contextmanager
def emulator_process(
    state_dir: Path, *, size: int, seed: int, log: Path, execution_seconds: float = 0.5
) -> Iterator[Emulator]:
    """Start ``python -m emulator serve`` with a generated world; stop it on exit."""
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / "emulator.json").unlink(missing_ok=True)
    command = [
        sys.executable, "-m", "emulator", "serve", "--state-dir", str(state_dir),
        "--size", str(size), "--seed", str(seed), "--execution-seconds", str(execution_seconds),
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        yield _wait_ready(process, state_dir, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def _wait_ready(process: subprocess.Popen[bytes], state_dir: Path, log: Path) -> Emulator:
    deadline = time.monotonic() + START_TIMEOUT
    info_path = state_dir / "emulator.json"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise ClmSyncError(f"the emulator stopped at start (exit {process.returncode}): {tail}")
        if info_path.is_file():
            try:
                info = json.loads(info_path.read_text())
            except ValueError:
                info = {}
            if info.get("pid") == process.pid:
                emulator = Emulator(
                    process, state_dir, info["scm_url"].rsplit("/scm", 1)[0],
                    info["admin_token"], info["ca_cert"],
                )  # fmt: skip
                try:
                    emulator.admin("GET", "stats", timeout=5)
                    return emulator
                except (requests.RequestException, ClmSyncError):
                    pass
        time.sleep(0.25)
    raise ClmSyncError(f"the emulator did not start within {START_TIMEOUT:.0f} s (see {log})")


def demo_settings(state_dir: Path, data_dir: Path) -> Settings:
    """The emulator's settings file, with the warehouse files under ``data_dir``."""
    settings = load_settings(state_dir / "clmsync.toml")
    warehouse = settings.warehouse.model_copy(
        update={
            "path": (data_dir / "warehouse.duckdb").resolve(),
            "analytics_path": (data_dir / "analytics.duckdb").resolve(),
            "landing_dir": (data_dir / "landing").resolve(),
        }
    )
    return settings.model_copy(update={"warehouse": warehouse})


def reset_data(data_dir: Path) -> None:
    """Remove the previous demo's warehouse; refuse to touch one the demo did not make."""
    data_dir.mkdir(parents=True, exist_ok=True)
    warehouse = data_dir / "warehouse.duckdb"
    if warehouse.exists() and not (data_dir / MARKER).exists():
        raise ClmSyncError(
            f"{warehouse} exists and was not made by the demo; the demo will not replace it",
            hint="Give the demo another folder with --data-dir, or move that warehouse away.",
        )
    for name in ("warehouse.duckdb", "warehouse.duckdb.wal", "analytics.duckdb"):
        path = data_dir / name
        if path.exists():
            path.chmod(0o600)
            path.unlink()
    shutil.rmtree(data_dir / "landing", ignore_errors=True)
    (data_dir / MARKER).parent.mkdir(parents=True, exist_ok=True)
    (data_dir / MARKER).write_text("made by clmsync demo; it may replace the files here\n")


def _reconcile(settings: Settings, console: Console, *, full: bool, quiet: bool) -> RunReport:
    runner = ConsoleRunner(console, approved=True, quiet=quiet)
    options = RunOptions(flow="reconcile", full=full, approved=True)
    with runner.live():
        report = run_pipeline(settings, options, runner)
    return report_or_raise(report)


def _truth_table(check: TruthCheck) -> Table:
    table = Table(
        "kind", "in the ground truth", "found", "matched", title="against the ground truth"
    )
    for kind, (expected, found, matched) in sorted(check.by_kind.items()):
        ok = "[green]✓[/green]" if expected == found == matched else "[red]✗[/red]"
        table.add_row(kind, f"{expected:,}", f"{found:,}", f"{matched:,} {ok}")
    table.add_row(
        "total", f"{check.expected:,}", f"{check.found:,}", f"{check.matched:,}", style="bold"
    )
    return table


def _what_it_did(report: RunReport, check: TruthCheck, left: int) -> str:
    t = report.totals()
    channels = ", ".join(f"{n:,} by {c}" for c, n in sorted(t.pushed.items()))
    verdict = "all of them match" if check.exact else f"{check.matched:,} of them match"
    return (
        f"extracted {t.extracted:,} rows ({t.landed:,} landed, {t.quarantined:,} quarantined); "
        f"found {check.found:,} mismatches, the ground truth lists {check.expected:,}: {verdict}; "
        f"planned {t.planned:,} changes, pushed {sum(t.pushed.values()):,} ({channels or 'none'}), "
        f"{t.failed:,} failed, {t.verified:,} read back as intended; actions the emulator's "
        f"ground truth still expects now: {left:,}"
    )


def _query(analytics: Path) -> list[dict[str, Any]]:
    out = []
    con = duckdb.connect(str(analytics), read_only=True)
    try:
        for title, sql in QUERIES:
            cur = con.execute(sql)
            columns = [d[0] for d in cur.description or ()]
            out.append({"title": title, "sql": sql, "columns": columns, "rows": cur.fetchall()})
    finally:
        con.close()
    return out


def _one_run(
    label: str, emulator: Emulator, settings: Settings, console: Console, *, full: bool, quiet: bool
) -> dict[str, Any]:
    truth = emulator.admin("GET", "ground_truth")
    if not quiet:
        console.rule(label)
    report = _reconcile(settings, console, full=full, quiet=quiet)
    check = check_reports(settings.warehouse.analytics_path, truth)
    after = emulator.admin("GET", "ground_truth?refresh=true")
    left = unresolved_actions(after)
    if not quiet:
        title = f"{label}: run {report.run_id}, {report.seconds:.1f} s"
        console.print(summary_table(report, title=title))
        console.print(_truth_table(check))
        console.print(_what_it_did(report, check, left), highlight=False)
    return {"report": report.as_dict(), "truth": check.as_dict(), "unresolved_actions": left}


def run_demo(
    data_dir: Path,
    *,
    size: int = 10_000,
    seed: int = 0,
    fraction: float = 0.01,
    console: Console | None = None,
    quiet: bool = False,
    execution_seconds: float = 0.5,
) -> dict[str, Any]:
    """Run the demo; return its figures (what ``clmsync demo --json`` prints)."""
    console = console or Console()
    started = time.perf_counter()
    reset_data(data_dir)
    state_dir = data_dir / "emulator"
    result: dict[str, Any] = {"size": size, "seed": seed, "runs": []}
    log = state_dir / "emulator.log"
    with emulator_process(
        state_dir, size=size, seed=seed, log=log, execution_seconds=execution_seconds
    ) as emu:
        settings = demo_settings(state_dir, data_dir)
        if not quiet:
            console.print(f"emulator with a {size:,}-vendor world (seed {seed}) at {emu.base_url}")
        result["runs"].append(
            _one_run("run 1: full reconciliation", emu, settings, console, full=True, quiet=quiet)
        )
        mutation = emu.admin("POST", "mutate", {"fraction": fraction, "seed": seed + 1})
        result["mutation"] = mutation
        if not quiet:
            counts = ", ".join(f"{k} {v}" for k, v in mutation["counts"].items())
            console.rule(f"mutation {mutation['mutation']} of {fraction:.0%} of the world")
            console.print(counts, highlight=False)
        result["runs"].append(
            _one_run(
                "run 2: incremental reconciliation", emu, settings, console, full=False, quiet=quiet
            )
        )
    result["queries"] = _query(settings.warehouse.analytics_path)
    result["seconds"] = round(time.perf_counter() - started, 1)
    if not quiet:
        console.rule(f"three queries against {settings.warehouse.analytics_path}")
        for q in result["queries"]:
            table = Table(*q["columns"], title=q["title"])
            for row in q["rows"]:
                table.add_row(*("" if v is None else str(v) for v in row))
            console.print(f"[dim]{q['sql']}[/dim]")
            console.print(table)
        console.print(f"demo finished in {result['seconds']:.0f} s")
    return result
