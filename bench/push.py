"""Push speed per channel, the crossover between them, and the threshold it recommends.

``python -m bench.push [--sizes 10,100,1000,10000,100000] [--update-sizes 10,100,1000]``

For each size, a fresh emulator world (1,000 vendors) gets a delta of that many rows, pushed
once through forced OData and once through a forced package, over real HTTPS with these
emulator latencies (stated in the output):

* OData: ``LATENCY_MS`` added to every HTTP request, plus the emulator's own work per operation
  (measured here: a create is written set-based inside a changeset, an update one by one);
* package: ``QUEUE_S`` before an execution starts, then ``FIXED_S`` plus ``ROW_S`` per row;
  status polls every ``POLL_S`` growing by half to ``MAX_POLL_S``.

Two series: creates of agreement lines (one legal entity, one entity: the worst case for the
package side, whose fixed cost is paid once) and price updates of existing lines (a 1,000-vendor
world holds about 1,700 lines, so that series stops at 1,000 rows). Round trips are counted with
``EmulatorInfo.stats()``. The crossover is where a straight line fitted to each channel's times
meet; the recommended threshold is the crossover of the update series (a steady run is mostly
amendments) rounded down to two significant digits, never above the creates' crossover.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emulator.server import EmulatorInfo, running_emulator
from emulator.world import generate
from flows.clients import build_clients
from flows.settings import Settings, load_settings
from loader.plan import make_plan
from loader.runner import PushOptions, push
from loader.verify import verify
from warehouse import db

LATENCY_MS = 30
QUEUE_S = 2.0
FIXED_S = 5.0
ROW_S = 0.001
POLL_S = 1.0
MAX_POLL_S = 10.0
CHANGESET = 100
L = "CLMIntegrationPurchaseAgreementLines"
_COLUMNS = ("delta_id", "action", "entity", "legal_entity", "record_key", "clm_id", "kind")


@dataclass
class Measure:
    series: str
    rows: int
    channel: str
    seconds: float
    verify_seconds: float
    requests: int  # HTTP requests that carry the push (no status polls)
    polls: int
    succeeded: int


def _creates(info: EmulatorInfo, n: int) -> list[dict[str, Any]]:
    """``n`` new lines spread over usmf's agreements, copied from one valid usmf line."""
    assert info.state is not None
    con = info.state.store.reader()
    agreements = [r[0] for r in con.execute(
        'SELECT "ExternalContractId" FROM scm."CLMIntegrationPurchaseAgreements" '
        "WHERE \"BuyingLegalEntityId\" = 'usmf' ORDER BY 1").fetchall()]  # fmt: skip
    item, unit, price = con.execute(
        f'SELECT "ItemNumber", "UnitSymbol", "Price" FROM scm."{L}" '
        "WHERE \"PurchaseAgreementLegalEntityId\" = 'usmf' ORDER BY 1, 2 LIMIT 1"
    ).fetchall()[0]
    rows = []
    for i in range(n):
        line = f"BENCH-{i:08d}"
        keys = {"PurchaseAgreementLegalEntityId": "usmf", "ExternalContractLineId": line}
        payload = {"ExternalContractId": agreements[i % len(agreements)], "ItemNumber": item,
                   "UnitSymbol": unit, "Price": str(price), "CommittedQuantity": "10",
                   "EffectiveDate": "2026-02-01"}  # fmt: skip
        rows.append(_delta("create", "usmf", line, keys, payload, None))
    return rows


def _updates(info: EmulatorInfo, n: int) -> list[dict[str, Any]]:
    """Price changes of ``n`` existing lines (all legal entities)."""
    assert info.state is not None
    found = (
        info.state.store.reader()
        .execute(
            'SELECT "PurchaseAgreementLegalEntityId", "PurchaseAgreementId", "LineNumber", '
            f'"Price" FROM scm."{L}" ORDER BY 1, 2, 3 LIMIT ?',
            [n],
        )
        .fetchall()
    )
    if len(found) < n:
        raise SystemExit(f"the world has {len(found)} lines; cannot update {n}")
    rows = []
    for le, pa, number, price in found:
        keys = {"PurchaseAgreementLegalEntityId": le, "PurchaseAgreementId": pa,
                "LineNumber": str(int(number))}  # fmt: skip
        after = {"Price": str(round(float(price) + 1.25, 2))}
        rows.append(_delta("update", le, f"{pa}|{int(number)}", keys, after, {"Price": str(price)}))
    return rows


def _delta(action: str, le: str, key: str, keys: dict[str, Any], payload: dict[str, Any],
           before: dict[str, Any] | None) -> dict[str, Any]:  # fmt: skip
    return {"delta_id": f"{action}-{key}", "action": action, "entity": L, "legal_entity": le,
            "record_key": key, "clm_id": None, "kind": "bench", "keys": json.dumps(keys),
            "payload": json.dumps(payload),
            "before": None if before is None else json.dumps(before)}  # fmt: skip


def _warehouse(path: Path, rows: list[dict[str, Any]]) -> None:
    import pyarrow as pa

    con = db.connect(path)
    try:
        scm = ", ".join([f"{c} VARCHAR" for c in _COLUMNS] + ["keys JSON", "payload JSON",
                                                                "before JSON"])  # fmt: skip
        for relation in ("contracts", "purchase_agreements", "purchase_agreement_lines"):
            con.execute(f"CREATE OR REPLACE TABLE deltas.dlt_scm__{relation} ({scm})")
        con.execute(
            "CREATE OR REPLACE TABLE deltas.dlt_clm__master_data (delta_id VARCHAR, action "
            "VARCHAR, object VARCHAR, clm_id VARCHAR, legal_entity VARCHAR, vendor_account "
            "VARCHAR, kind VARCHAR, payload JSON, before JSON)"
        )
        con.register("_rows", pa.Table.from_pylist(rows))
        con.execute("INSERT INTO deltas.dlt_scm__purchase_agreement_lines SELECT * FROM _rows")
        con.unregister("_rows")
    finally:
        con.close()


def _settings(info: EmulatorInfo, folder: Path) -> Settings:
    base = load_settings(Path(info.state_dir) / "clmsync.toml")
    return base.model_copy(update={
        "scm": base.scm.model_copy(update={"package_poll_seconds": POLL_S,
                                           "package_max_poll_seconds": MAX_POLL_S}),
        "warehouse": base.warehouse.model_copy(update={"path": folder / "wh.duckdb",
                                                       "landing_dir": folder / "landing"}),
    })  # fmt: skip


def measure(info: EmulatorInfo, series: str, rows: int, channel: str) -> Measure:
    info.admin("POST", "reset")
    folder = Path(tempfile.mkdtemp(prefix="bench-push-"))
    try:
        settings = _settings(info, folder)
        deltas = _creates(info, rows) if series == "creates" else _updates(info, rows)
        _warehouse(settings.warehouse.path, deltas)
        con = db.connect(settings.warehouse.path)
        with build_clients(settings) as clients:
            make_plan(con, "bench", threshold=0, route=channel)  # type: ignore[arg-type]
            clients.tokens.token()  # the token is not the channel's cost
            info.reset_stats()
            started = time.perf_counter()
            result = push(con, clients.odata, clients.packages, "bench", options=PushOptions(
                changeset_size=CHANGESET, workdir=folder / "push"))  # fmt: skip
            seconds = time.perf_counter() - started
            stats = info.stats()["requests"]
            started = time.perf_counter()
            verify(con, clients.odata, "bench")
            verify_seconds = time.perf_counter() - started
        con.close()
        polls = sum(v for k, v in stats.items() if k.endswith("GetExecutionSummaryStatus"))
        total = sum(stats.values())
        return Measure(series, rows, channel, seconds, verify_seconds, total - polls, polls,
                       result.succeeded)  # fmt: skip
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def crossover(points: Sequence[Measure]) -> float | None:
    """Rows at which straight lines fitted to each channel's times meet (None: they do not)."""
    lines = {}
    for channel in ("odata", "package"):
        xs = [p.rows for p in points if p.channel == channel]
        ys = [p.seconds for p in points if p.channel == channel]
        if len(xs) < 2:
            return None
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
            (x - mx) ** 2 for x in xs
        )
        lines[channel] = (my - slope * mx, slope)
    (a1, b1), (a2, b2) = lines["odata"], lines["package"]
    if b1 <= b2:
        return None
    return max(0.0, (a2 - a1) / (b1 - b2))


def round_down(value: float) -> int:
    if value < 10:
        return int(value)
    digits = 10 ** (int(math.log10(value)) - 1)
    return int(value // digits * digits)


def _table(points: Sequence[Measure]) -> str:
    lines = [
        "| series | rows | OData s | OData requests | package s | package requests (+ polls) "
        "| faster |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    by = {(p.series, p.rows, p.channel): p for p in points}
    for series, rows in dict.fromkeys((p.series, p.rows) for p in points):
        o, k = by[(series, rows, "odata")], by[(series, rows, "package")]
        lines.append(
            f"| {series} | {rows:,} | {o.seconds:.1f} | {o.requests:,} | {k.seconds:.1f} | "
            f"{k.requests} (+{k.polls}) | {'OData' if o.seconds <= k.seconds else 'package'} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000,10000,100000")
    parser.add_argument("--update-sizes", default="10,100,1000")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    update_sizes = [int(s) for s in args.update_sizes.split(",") if s]
    world = Path(tempfile.mkdtemp(prefix="bench-push-world-"))
    generate(1000, 1, world)
    options: dict[str, Any] = {"latency_ms": LATENCY_MS, "execution_queue_seconds": QUEUE_S,
               "execution_fixed_seconds": FIXED_S, "execution_row_seconds": ROW_S,
               "error_file_seconds": 1.0}  # fmt: skip
    print(f"emulator: {LATENCY_MS} ms per HTTP request; executions {QUEUE_S} s queued, then "
          f"{FIXED_S} s + {ROW_S * 1000:g} ms per row; polls {POLL_S} s growing to "
          f"{MAX_POLL_S} s; changesets of {CHANGESET}; OData per-operation cost = the "
          "emulator's own work")  # fmt: skip
    points: list[Measure] = []
    with running_emulator(world_dir=world, **options) as info:
        for series, chosen in (("creates", sizes), ("updates", update_sizes)):
            for rows in chosen:
                for channel in ("odata", "package"):
                    point = measure(info, series, rows, channel)
                    points.append(point)
                    print(f"{series:8} {rows:>7,} {channel:8} {point.seconds:8.1f} s  "
                          f"{point.requests:>6} requests  {point.polls:>3} polls  "
                          f"verify {point.verify_seconds:.1f} s  ok {point.succeeded:,}",
                          flush=True)  # fmt: skip
    shutil.rmtree(world, ignore_errors=True)
    print()
    print(_table(points))
    found = {s: crossover([p for p in points if p.series == s]) for s in ("creates", "updates")}
    for series, value in found.items():
        shown = "none (one channel is faster at every size)" if value is None else f"{value:,.0f}"
        print(f"crossover ({series}): {shown} rows")
    candidates = [v for v in (found["updates"], found["creates"]) if v is not None]
    if candidates:
        print(f"recommended odata_row_threshold: {round_down(min(candidates)):,}")


if __name__ == "__main__":
    main()
