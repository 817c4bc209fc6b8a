"""Pushing a plan to SCM: level by level, each (entity, legal entity) through its channel.

Order is the plan's dependency order (contracts, then agreements, then lines): a level starts
when the one before has finished, whatever channel each used. A create whose parent create in
the same plan failed is skipped with the reason instead of being sent to fail. Rows another run
already applied (same idempotency key) are skipped; rows an interrupted push left ``sent`` are
settled first, in this run and in older ones, so a crash anywhere is recovered by pushing again.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from connectors import catalog
from connectors.dmf import PackageApi
from connectors.errors import PlanError
from connectors.odata import ODataClient
from loader import bodies, ledger, odata_channel, package_channel
from loader.ledger import Outcome
from loader.model import PlanRow, ProgressCallback, PushResult
from loader.odata_channel import OdataOptions
from loader.package_channel import PackageOptions
from loader.plan import has_plan, load_rows
from loader.schema import LEDGER, PLAN, ensure_tables

log = logging.getLogger(__name__)

# A create that needs its parent created first: child entity -> (parent entity, the child's
# fields naming the parent, the parent's natural key fields).
PARENTS: dict[str, tuple[str, tuple[str, str], tuple[str, str]]] = {
    "CLMIntegrationPurchaseAgreements": (
        "CLMIntegrationContracts",
        ("ContractLegalEntity", "ExternalContractId"),
        ("LegalEntityId", "ExternalContractId"),
    ),
    "CLMIntegrationPurchaseAgreementLines": (
        "CLMIntegrationPurchaseAgreements",
        ("PurchaseAgreementLegalEntityId", "ExternalContractId"),
        ("BuyingLegalEntityId", "ExternalContractId"),
    ),
}


@dataclass
class PushOptions:
    """How a plan is sent (from the settings, see ``flows.steps.push``)."""

    changeset_size: int = 100
    changesets_per_request: int = 1
    project_prefix: str = "CLMSYNC"
    package_timeout: float = 3600.0
    workdir: Path = field(default_factory=lambda: Path("push"))

    def odata(self) -> OdataOptions:
        return OdataOptions(self.changeset_size, self.changesets_per_request)

    def packages(self) -> PackageOptions:
        return PackageOptions(self.project_prefix, self.package_timeout, self.workdir)


def _active(con: duckdb.DuckDBPyConnection, run_id: str, where: str) -> list[tuple[PlanRow, str]]:
    status = dict(
        con.execute(
            f"SELECT seq, status FROM {LEDGER} WHERE run_id = ? AND status IN ('pending', 'sent')",
            [run_id],
        ).fetchall()
    )
    if not status:
        return []
    rows = load_rows(
        con,
        run_id,
        f"p.seq IN (SELECT seq FROM {LEDGER} l WHERE l.run_id = p.run_id "
        f"AND l.status IN ('pending', 'sent')) AND {where}",
    )
    return [(r, str(status[r.seq])) for r in rows]


def _skip_orphans(con: duckdb.DuckDBPyConnection, run_id: str, level: int) -> None:
    """Skip creates of this level whose parent create in this plan did not happen."""
    children = [r for r, _ in _active(con, run_id, f"p.level = {int(level)}")]
    children = [r for r in children if r.action == "create" and r.entity in PARENTS]
    if not children:
        return
    parent_entity = PARENTS[children[0].entity][0]
    parents = load_rows(con, run_id, "p.entity = ? AND p.action = 'create'", [parent_entity])
    if not parents:
        return
    outcome = dict(
        con.execute(
            f"SELECT seq, status || ':' || coalesce(reason, '') FROM {LEDGER} WHERE run_id = ?",
            [run_id],
        ).fetchall()
    )
    _, child_fields, parent_fields = PARENTS[children[0].entity]
    blocked: dict[tuple[str, str], int] = {}
    for parent in parents:
        state = str(outcome.get(parent.seq, ""))
        if state.startswith("failed") or (
            state.startswith("skipped") and ":already applied" not in state
        ):
            merged = bodies.merged(parent)
            key = tuple(str(merged.get(f, "")).lower() for f in parent_fields)
            blocked[(key[0], key[1])] = parent.seq
    skips: list[Outcome] = []
    for child in children:
        merged = bodies.merged(child)
        le = str(merged.get(child_fields[0]) or child.legal_entity or "").lower()
        parent_seq = blocked.get((le, str(merged.get(child_fields[1], "")).lower()))
        if parent_seq is not None:
            skips.append(
                Outcome(
                    child.seq,
                    "skipped",
                    reason=f"not sent: its {catalog.entity(parent_entity).label} create "
                    f"(plan row {parent_seq}) did not succeed",
                )
            )
    ledger.record(con, run_id, skips)


def settle_other_runs(
    con: duckdb.DuckDBPyConnection,
    odata: ODataClient,
    packages: PackageApi,
    run_id: str,
    options: PushOptions,
) -> int:
    """Resolve rows older runs left ``sent`` (asking SCM, never sending anything new)."""
    runs = [
        str(r[0])
        for r in con.execute(
            f"SELECT DISTINCT run_id FROM {LEDGER} WHERE status = 'sent' AND run_id <> ?",
            [run_id],
        ).fetchall()
    ]
    settled = 0
    for other in runs:
        for (channel, _entity, _le, _batch), rows in _groups(_active(con, other, "TRUE")).items():
            sent = [r for r, status in rows if status == "sent"]
            if not sent:
                continue
            settled += len(sent)
            if channel == "package":
                package_channel.push_batch(
                    con, packages, other, sent, sent_before=True,
                    options=options.packages(), may_import=False,
                )  # fmt: skip
            elif channel == "odata":
                odata_channel.resolve_sent(con, odata, other, sent, requeue=False)
        log.info("settled the interrupted rows of run %s", other)
    return settled


def _groups(
    rows: Sequence[tuple[PlanRow, str]],
) -> dict[tuple[str, str, str | None, str | None], list[tuple[PlanRow, str]]]:
    groups: dict[tuple[str, str, str | None, str | None], list[tuple[PlanRow, str]]] = defaultdict(
        list
    )
    for row, status in rows:
        batch = row.batch_id if row.channel == "package" else None
        groups[(row.channel, row.entity, row.legal_entity, batch)].append((row, status))
    return groups


def push(
    con: duckdb.DuckDBPyConnection,
    odata: ODataClient,
    packages: PackageApi,
    run_id: str,
    *,
    options: PushOptions | None = None,
    entities: Sequence[str] | None = None,
    progress: ProgressCallback | None = None,
) -> PushResult:
    """Push the SCM part of the plan of ``run_id`` (only ``entities`` when given); every row ends
    ``succeeded``, ``failed`` or ``skipped`` unless a transient failure stops the push (then the
    error is raised and pushing again resumes)."""
    options = options or PushOptions()
    started = time.perf_counter()
    ensure_tables(con)
    if not has_plan(con, run_id):
        raise PlanError(f"run {run_id} has no push plan", hint="Plan it first (clmsync plan).")
    allowed = None if entities is None else [_entity_name(e) for e in entities]
    ledger.open_rows(con, run_id)
    ledger.finish_invalid_and_unwanted(con, run_id, allowed)
    recovered = settle_other_runs(con, odata, packages, run_id, options)
    recovered += len(ledger.seqs_with(con, run_id, "sent"))
    levels = [
        int(r[0])
        for r in con.execute(
            f"SELECT DISTINCT level FROM {PLAN} WHERE run_id = ? AND target = 'scm' ORDER BY 1",
            [run_id],
        ).fetchall()
    ]
    for level in levels:
        _skip_orphans(con, run_id, level)
        active = _active(con, run_id, f"p.target = 'scm' AND p.level = {level}")
        for (channel, _entity, _le, _batch), rows in _groups(active).items():
            plan_rows = [r for r, _ in rows]
            if channel == "odata":
                sent = [r for r, status in rows if status == "sent"]
                again = odata_channel.resolve_sent(con, odata, run_id, sent) if sent else []
                waiting = {r.seq for r in again} | {r.seq for r, s in rows if s == "pending"}
                odata_channel.push(
                    con, odata, run_id, [r for r in plan_rows if r.seq in waiting],
                    options=options.odata(), progress=progress,
                )  # fmt: skip
            elif channel == "package":
                package_channel.push_batch(
                    con, packages, run_id, plan_rows,
                    sent_before=any(s == "sent" for _, s in rows),
                    options=options.packages(), progress=progress,
                )  # fmt: skip
    return result(con, run_id, recovered=recovered, seconds=time.perf_counter() - started)


def _entity_name(name: str) -> str:
    if name == "counterparty":
        return name
    try:
        return catalog.entity(name).name
    except KeyError:
        raise ValueError(
            f"cannot push {name!r}: name SCM entity sets or 'counterparty' (the CLM feed)"
        ) from None


def result(
    con: duckdb.DuckDBPyConnection, run_id: str, *, recovered: int = 0, seconds: float = 0.0
) -> PushResult:
    """The ledger's account of a run."""
    return PushResult(
        run_id=run_id,
        counts=ledger.counts(con, run_id),
        by_channel=ledger.by_channel(con, run_id),
        failures=ledger.failures(con, run_id),
        recovered=recovered,
        seconds=seconds,
    )
