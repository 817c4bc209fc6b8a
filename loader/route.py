"""Routing: which channel carries each entity's changes in each legal entity.

At or under the row threshold an (entity, legal entity) goes through OData ``$batch`` (low
volume, an answer per record at once); above it through a data package (one import for many
rows). Line closes are deletes, which an import cannot do, so they always go through OData. The
CLM feed goes to the CLM's API, or to a folder when the CLM takes files. Every decision is logged
with its numbers and kept on the plan rows.

Package rows are cut into batches that each become one import: one per kind of change (creates,
and updates that set the same fields), because a package column sets its field on every row of
the file, so a row must never carry a column it does not change. Two changes of one record never
share a batch.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from connectors import catalog
from loader.model import Route, RouteDecision

log = logging.getLogger(__name__)


@dataclass
class Routable:
    """What routing needs of a plan row (and what it sets on it)."""

    seq: int
    target: str
    entity: str
    legal_entity: str | None
    action: str
    operation: str
    key: str  # the record's identity within its entity and legal entity
    fields: tuple[str, ...]  # the payload's fields, sorted
    valid: bool
    channel: str = "none"
    batch_id: str | None = None
    reason: str | None = None


def decide(
    rows: Sequence[Routable],
    *,
    threshold: int,
    route: Route = "auto",
    clm_channel: str = "clm_api",
) -> list[RouteDecision]:
    """Set ``channel``, ``batch_id`` and ``reason`` on every valid row; return the decisions."""
    groups: dict[tuple[str, str, str | None], list[Routable]] = defaultdict(list)
    for row in rows:
        if row.valid:
            groups[(row.target, row.entity, row.legal_entity)].append(row)
        else:
            row.channel, row.reason = "none", "not sent: the delta is invalid"
    decisions: list[RouteDecision] = []
    for (target, entity, legal_entity), members in groups.items():
        if target == "clm":
            reason = (
                "master data goes to the CLM's bulk upsert API"
                if clm_channel == "clm_api"
                else "the CLM takes files: master data goes to an export folder"
            )
            for row in members:
                row.channel, row.reason = clm_channel, reason
            decisions.append(
                RouteDecision(entity, legal_entity, len(members), 0, 0, clm_channel, reason)
            )
            _log(decisions[-1])
            continue
        deletes = [r for r in members if r.operation == "DELETE"]
        others = [r for r in members if r.operation != "DELETE"]
        for row in deletes:
            row.channel = "odata"
            row.reason = "a delete cannot be imported: line closes always go through OData"
        channel, reason = _choose(len(others), threshold, route)
        for row in others:
            row.channel, row.reason = channel, reason
        if channel == "package":
            _batches(others, entity, legal_entity)
        decision = RouteDecision(
            entity, legal_entity, len(others), len(deletes), threshold, channel, reason
        )
        decisions.append(decision)
        _log(decision)
    return decisions


def _choose(rows: int, threshold: int, route: Route) -> tuple[str, str]:
    if route == "odata":
        return "odata", f"{rows} rows; OData forced (threshold {threshold} not applied)"
    if route == "package":
        return "package", f"{rows} rows; package forced (threshold {threshold} not applied)"
    if rows <= threshold:
        return "odata", f"{rows} rows <= threshold {threshold}: OData $batch"
    return "package", f"{rows} rows > threshold {threshold}: package import"


def _batches(rows: Sequence[Routable], entity: str, legal_entity: str | None) -> None:
    """Number the package batches of one group: by change kind and field set, then so that no
    batch holds one record twice. Deterministic: rows arrive in plan order."""
    table = catalog.entity(entity).table
    signatures: dict[tuple[str, tuple[str, ...]], int] = {}
    repeats: dict[tuple[int, str], int] = defaultdict(int)
    numbers: dict[tuple[int, int], int] = {}
    for row in rows:
        kind = "create" if row.operation == "POST" else "update"
        signature = signatures.setdefault((kind, row.fields), len(signatures))
        occurrence = repeats[(signature, row.key)]
        repeats[(signature, row.key)] += 1
        number = numbers.setdefault((signature, occurrence), len(numbers) + 1)
        row.batch_id = f"{table}-{legal_entity or 'shared'}-{number:03d}"


def _log(decision: RouteDecision) -> None:
    log.info(
        "route %s (%s): %d rows, %d deletes -> %s (%s)",
        decision.entity,
        decision.legal_entity or "-",
        decision.rows,
        decision.closes,
        decision.channel,
        decision.reason,
    )
