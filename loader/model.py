"""The loader's typed values: plan rows, routing decisions, progress and results.

Everything a caller (a flow step, the CLI, a Prefect flow) gets back from the loader is one of
these plain dataclasses, so it can be printed, turned into an artifact or compared in a test
without touching the warehouse again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Action = Literal["create", "update", "close"]
Channel = Literal["odata", "package", "clm_api", "clm_export", "none"]
Route = Literal["auto", "odata", "package"]
Status = Literal["pending", "sent", "succeeded", "failed", "skipped"]

# Dependency levels of the CLM feed (after every SCM entity: it carries SCM's values).
CLM_LEVEL = 100


@dataclass(frozen=True)
class PlanRow:
    """One planned change, as ``ops.push_plan`` holds it (JSON columns parsed)."""

    run_id: str
    seq: int
    target: str
    entity: str
    legal_entity: str | None
    action: str
    kind: str | None
    record_key: str
    clm_id: str | None
    keys: dict[str, Any]
    payload: dict[str, Any]
    before: dict[str, Any] | None
    idempotency_key: str
    level: int
    operation: str
    channel: str
    batch_id: str | None
    problem: str | None = None


@dataclass(frozen=True)
class RouteDecision:
    """How one (entity, legal entity) is sent, and the numbers behind it."""

    entity: str
    legal_entity: str | None
    rows: int  # rows routed by volume (creates and updates)
    closes: int  # line deletes: always OData
    threshold: int
    channel: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "legal_entity": self.legal_entity,
            "rows": self.rows,
            "closes": self.closes,
            "threshold": self.threshold,
            "channel": self.channel,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class PlanGroup:
    """The plan of one entity in one legal entity: counts per action and where it goes."""

    target: str
    entity: str
    legal_entity: str | None
    level: int
    creates: int
    updates: int
    closes: int
    invalid: int
    channels: tuple[str, ...]
    batches: int

    @property
    def rows(self) -> int:
        return self.creates + self.updates + self.closes

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "entity": self.entity,
            "legal_entity": self.legal_entity,
            "level": self.level,
            "creates": self.creates,
            "updates": self.updates,
            "closes": self.closes,
            "invalid": self.invalid,
            "rows": self.rows,
            "channels": list(self.channels),
            "package_batches": self.batches,
        }


@dataclass(frozen=True)
class PlanSummary:
    """What a plan will do, per entity and legal entity (what an approver looks at)."""

    run_id: str
    rows: int
    groups: tuple[PlanGroup, ...]
    decisions: tuple[RouteDecision, ...]
    problems: tuple[tuple[int, str, str], ...]  # (seq, record_key, problem), first ones

    @property
    def entities(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(g.entity for g in self.groups))

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "rows": self.rows,
            "groups": [g.as_dict() for g in self.groups],
            "decisions": [d.as_dict() for d in self.decisions],
            "problems": [{"seq": s, "record_key": k, "problem": p} for s, k, p in self.problems],
        }


@dataclass(frozen=True)
class PushProgress:
    """One step forward of a push, for a progress bar or a Prefect artifact."""

    phase: str  # recover | push | verify | clm_feed
    entity: str
    legal_entity: str | None
    channel: str
    done: int
    total: int
    succeeded: int
    failed: int


ProgressCallback = Callable[[PushProgress], None]


@dataclass(frozen=True)
class Failure:
    """A plan row that did not go through, with SCM's (or the loader's) reason."""

    seq: int
    entity: str
    legal_entity: str | None
    record_key: str
    action: str
    status: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "entity": self.entity,
            "legal_entity": self.legal_entity,
            "record_key": self.record_key,
            "action": self.action,
            "status": self.status,
            "reason": self.reason,
        }


@dataclass
class PushResult:
    """The outcome of pushing one plan (or the part of it a caller allowed)."""

    run_id: str
    counts: dict[str, int] = field(default_factory=dict)  # status -> rows
    by_channel: dict[str, int] = field(default_factory=dict)  # channel -> rows sent
    failures: list[Failure] = field(default_factory=list)  # failed rows (first 200)
    recovered: int = 0  # rows resolved from an interrupted push
    seconds: float = 0.0

    @property
    def succeeded(self) -> int:
        return self.counts.get("succeeded", 0)

    @property
    def failed(self) -> int:
        return self.counts.get("failed", 0)

    @property
    def skipped(self) -> int:
        return self.counts.get("skipped", 0)

    @property
    def unfinished(self) -> int:
        return self.counts.get("pending", 0) + self.counts.get("sent", 0)

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "counts": dict(self.counts),
            "by_channel": dict(self.by_channel),
            "failures": [f.as_dict() for f in self.failures],
            "recovered": self.recovered,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class Drift:
    """A row SCM does not hold as intended after the push."""

    seq: int
    entity: str
    legal_entity: str | None
    record_key: str
    status: str  # drift | missing
    fields: dict[str, dict[str, Any]]  # field -> {"intended": ..., "actual": ...}

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "entity": self.entity,
            "legal_entity": self.legal_entity,
            "record_key": self.record_key,
            "status": self.status,
            "fields": self.fields,
        }


@dataclass
class VerifyResult:
    """The read-back of every row that succeeded: applied as intended, or drift."""

    run_id: str
    checked: int = 0
    verified: int = 0
    unverifiable: int = 0
    drift: list[Drift] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        """Applied-as-intended rate over the rows that could be read back (1.0 when none)."""
        readable = self.checked - self.unverifiable
        return 1.0 if readable <= 0 else self.verified / readable

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "checked": self.checked,
            "verified": self.verified,
            "unverifiable": self.unverifiable,
            "rate": round(self.rate, 6),
            "drift": [d.as_dict() for d in self.drift],
            "seconds": round(self.seconds, 3),
        }
