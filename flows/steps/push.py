"""The push step of a run: plan → guard → route → push → verify → CLM feed.

Plain functions over a warehouse connection, the connectors (``flows.clients.build_clients``)
and the settings; no Prefect. A flow calls :func:`plan` (and shows the summary, and may wait for
approval when :func:`needs_approval`), then :func:`push` with the entities that were approved and
a progress callback. Each part is recorded as a step of the run in ``ops.runs``.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from flows.clients import Clients
from flows.settings import Settings
from loader import clm_feed, guard, runner, verify
from loader.model import PlanSummary, ProgressCallback, PushResult, Route, VerifyResult
from loader.plan import make_plan, summarize
from loader.runner import PushOptions
from warehouse import state

log = logging.getLogger(__name__)


@dataclass
class PushSummary:
    """Everything one push did, for the run's record, the CLI and a Prefect artifact."""

    run_id: str
    plan: PlanSummary
    guardrails: list[guard.Check] = field(default_factory=list)
    push: PushResult | None = None
    verify: VerifyResult | None = None
    clm_verify: VerifyResult | None = None

    @property
    def applied_as_intended(self) -> float:
        """Verified rows over the rows that could be read back (SCM and CLM together)."""
        parts = [v for v in (self.verify, self.clm_verify) if v is not None]
        readable = sum(v.checked - v.unverifiable for v in parts)
        verified = sum(v.verified for v in parts)
        return 1.0 if readable == 0 else verified / readable

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "plan": self.plan.as_dict(),
            "guardrails": [c.as_dict() for c in self.guardrails],
            "push": self.push.as_dict() if self.push else None,
            "verify": self.verify.as_dict() if self.verify else None,
            "clm_verify": self.clm_verify.as_dict() if self.clm_verify else None,
            "applied_as_intended": round(self.applied_as_intended, 6),
        }


def clm_channel(settings: Settings) -> str:
    """Where master data goes: the CLM's API, or a folder for a CLM that takes files."""
    return "clm_api" if settings.clm.api_url else "clm_export"


def feed_folder(settings: Settings) -> Path:
    """Where the master-data feed is written for a file-based CLM."""
    return Path(settings.warehouse.landing_dir) / "clm-feed"


def options(settings: Settings) -> PushOptions:
    return PushOptions(
        changeset_size=settings.sync.changeset_size,
        project_prefix=settings.scm.data_project_prefix,
        package_timeout=settings.scm.package_timeout_seconds,
        workdir=Path(settings.warehouse.landing_dir) / "push",
    )


def plan(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    run_id: str,
    *,
    route: Route = "auto",
    replace: bool = False,
) -> PlanSummary:
    """Plan the run's push from ``deltas.*`` (kept as it is when the run already has one)."""
    with state.step(con, run_id, "plan") as step:
        summary = make_plan(
            con,
            run_id,
            threshold=settings.sync.odata_row_threshold,
            route=route,
            clm_channel=clm_channel(settings),
            replace=replace,
        )
        step.rows = summary.rows
        step.detail = {"decisions": [d.as_dict() for d in summary.decisions]}
    return summary


def needs_approval(summary: PlanSummary, settings: Settings) -> bool:
    """Whether the plan is large enough to wait for someone's approval."""
    return summary.rows > settings.sync.approval_threshold


def push(
    con: duckdb.DuckDBPyConnection,
    clients: Clients,
    settings: Settings,
    run_id: str,
    *,
    entities: Sequence[str] | None = None,
    overrides: Collection[str] = (),
    progress: ProgressCallback | None = None,
    verify_after: bool = True,
    feed: bool = True,
) -> PushSummary:
    """Push the run's plan (planning it first if needed): guardrails, SCM, read-back, CLM feed.

    ``entities`` limits the push to those entities (SCM set names, or ``counterparty`` for the
    CLM feed); the others are skipped with that reason. ``overrides`` names guardrails to pass
    over deliberately. Raises :class:`connectors.errors.GuardrailError` when a rule stops it.
    """
    summary = PushSummary(run_id=run_id, plan=plan(con, settings, run_id))
    with state.step(con, run_id, "guardrails") as step:
        summary.guardrails = guard.check(
            con, run_id, share=settings.sync.guardrail_share, overrides=overrides
        )
        step.detail = {"checks": [c.as_dict() for c in summary.guardrails]}
    with state.step(con, run_id, "push") as step:
        summary.push = runner.push(
            con,
            clients.odata,
            clients.packages,
            run_id,
            options=options(settings),
            entities=entities,
            progress=progress,
        )
        step.rows = summary.push.succeeded
        step.detail = summary.push.as_dict()
    if verify_after:
        with state.step(con, run_id, "verify") as step:
            summary.verify = verify.verify(con, clients.odata, run_id, progress=progress)
            step.rows = summary.verify.verified
            step.detail = {"rate": summary.verify.rate, "drift": len(summary.verify.drift)}
    if feed and (entities is None or "counterparty" in entities):
        with state.step(con, run_id, "clm_feed") as step:
            step.rows = clm_feed.push_feed(
                con, run_id, clm=clients.clm, feed_folder=feed_folder(settings), progress=progress
            )
            if verify_after:
                summary.clm_verify = clm_feed.verify_feed(con, clients.clm, run_id)
        summary.push = runner.result(
            con, run_id, recovered=summary.push.recovered, seconds=summary.push.seconds
        )
    summary.plan = summarize(con, run_id)
    log.info("push of run %s: %s", run_id, summary.push.counts if summary.push else {})
    return summary
