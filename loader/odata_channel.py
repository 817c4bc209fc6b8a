"""The OData channel: plan rows as atomic ``$batch`` changesets.

Rows go in plan order, ``changeset_size`` to a changeset, ``changesets_per_request`` changesets
to one ``$batch`` request (one by default: at most one HTTP request per changeset of rows). A
changeset is all or nothing in SCM, so when one operation fails its business rules the others
come back "not applied" and go again in the next request without it: one bad record never holds
back the rest. A changeset that fails with one error not tied to an operation is split and its
rows sent one by one to find the culprit. Transient failures of a single operation are retried
up to ``max_attempts``; the HTTP retries (429, 503) are the connectors' policy.

Rows left ``sent`` by an interrupted push are resolved before anything is sent: a create is
looked up by its natural key (found: it succeeded; absent: it goes again), so nothing is ever
created twice; updates and deletes are simply sent again (a PATCH to the same values and a
DELETE of an absent line change nothing).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import duckdb

from connectors import catalog
from connectors.batch import NOT_APPLIED, OperationResult
from connectors.errors import ODataRequestError, ODataUnavailable, RetryDeadlineExceeded
from connectors.http import WRITE_EXCEPTION
from connectors.odata import ODataClient
from loader import bodies, ledger, readback
from loader.ledger import Outcome
from loader.model import PlanRow, ProgressCallback, PushProgress

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
MAX_LOST_REQUESTS = 3  # requests in a row whose answer was lost before the push gives up


@dataclass
class OdataOptions:
    changeset_size: int = 100
    changesets_per_request: int = 1
    max_attempts: int = MAX_ATTEMPTS


@dataclass
class _Group:
    entity: catalog.Entity
    legal_entity: str | None
    total: int
    succeeded: int = 0
    failed: int = 0
    requests: int = 0
    isolate: set[int] = field(default_factory=set)


def resolve_sent(
    con: duckdb.DuckDBPyConnection,
    odata: ODataClient,
    run_id: str,
    rows: Sequence[PlanRow],
    *,
    requeue: bool = True,
) -> list[PlanRow]:
    """Settle rows left ``sent``: creates found by natural key succeed; the rest go back to
    ``pending`` (or, with ``requeue`` False, fail as interrupted). Returns the rows to send."""
    if not rows:
        return []
    entity = catalog.entity(rows[0].entity)
    creates = [r for r in rows if r.operation == "POST"]
    found = readback.read(
        odata,
        entity,
        rows[0].legal_entity,
        entity.natural_key,
        [bodies.merged(r) for r in creates],
    )
    outcomes: list[Outcome] = []
    again: list[PlanRow] = []
    for row in rows:
        record = None
        if row.operation == "POST":
            record = found.get(readback.identity(entity, entity.natural_key, bodies.merged(row)))
        if record is not None:
            outcomes.append(
                Outcome(
                    row.seq,
                    "succeeded",
                    reason="found in SCM by its natural key after an interrupted push",
                    generated_keys=bodies.generated_keys(entity, record),
                )
            )
        elif requeue:
            outcomes.append(Outcome(row.seq, "pending"))
            again.append(row)
        else:
            outcomes.append(
                Outcome(
                    row.seq,
                    "failed",
                    reason="interrupted before SCM answered and not found in SCM: not applied "
                    "(a later plan sends it again if it is still needed)",
                )
            )
    ledger.record(con, run_id, outcomes)
    log.info(
        "%s (%s): %d interrupted rows settled, %d to send again",
        entity.name,
        rows[0].legal_entity,
        len(rows) - len(again),
        len(again),
    )
    return again


def push(
    con: duckdb.DuckDBPyConnection,
    odata: ODataClient,
    run_id: str,
    rows: Sequence[PlanRow],
    *,
    options: OdataOptions,
    progress: ProgressCallback | None = None,
) -> None:
    """Send one entity's rows of one legal entity; every row ends with an outcome."""
    if not rows:
        return
    entity = catalog.entity(rows[0].entity)
    group = _Group(entity, rows[0].legal_entity, len(rows))
    attempts: dict[int, int] = {}
    queue: deque[PlanRow] = deque(rows)
    lost = 0
    table = entity.table
    while queue:
        changesets = _take(queue, group, options)
        sent = [r for cs in changesets for r in cs]
        group.requests += 1
        batch_id = f"odata-{table}-{group.legal_entity or 'shared'}-{group.requests:05d}"
        ledger.mark_sent(con, run_id, [r.seq for r in sent], channel="odata", batch_id=batch_id)
        for row in sent:
            attempts[row.seq] = attempts.get(row.seq, 0) + 1
        try:
            results = odata.batch([[bodies.operation(entity, r) for r in cs] for cs in changesets])
        except (ODataUnavailable, RetryDeadlineExceeded) as exc:
            lost += 1
            log.warning("%s: $batch %s got no usable answer (%s)", entity.name, batch_id, exc)
            if lost >= MAX_LOST_REQUESTS:
                raise
            again = resolve_sent(con, odata, run_id, sent)
            queue.extendleft(reversed(again))
            continue
        except ODataRequestError as exc:
            # SCM refused the request as a whole (a 4xx on the $batch itself): nothing in it
            # was applied, and sending it again would be refused the same way.
            log.warning("%s: $batch %s refused: %s", entity.name, batch_id, exc)
            ledger.record(
                con, run_id,
                [Outcome(r.seq, "failed", reason=f"SCM refused the $batch (HTTP {exc.status})",
                         http_status=exc.status, scm_message=exc.server_message) for r in sent],
            )  # fmt: skip
            group.failed += len(sent)
            continue
        lost = 0
        outcomes, retry = _outcomes(entity, changesets, results, attempts, options, group)
        ledger.record(con, run_id, outcomes)
        for row in sorted(retry, key=lambda r: r.seq, reverse=True):
            queue.appendleft(row)
        if progress is not None:
            progress(
                PushProgress(
                    "push", entity.name, group.legal_entity, "odata",
                    group.succeeded + group.failed, group.total, group.succeeded, group.failed,
                )
            )  # fmt: skip
    log.info(
        "%s (%s): OData pushed %d rows in %d requests: %d succeeded, %d failed",
        entity.name, group.legal_entity, group.total, group.requests, group.succeeded,
        group.failed,
    )  # fmt: skip


def _take(queue: deque[PlanRow], group: _Group, options: OdataOptions) -> list[list[PlanRow]]:
    """The next request's changesets: rows under suspicion go alone in their changeset."""
    changesets: list[list[PlanRow]] = []
    current: list[PlanRow] = []
    while queue and len(changesets) < options.changesets_per_request:
        row = queue[0]
        if row.seq in group.isolate:
            if current:
                changesets.append(current)
                current = []
                continue
            changesets.append([queue.popleft()])
            continue
        current.append(queue.popleft())
        if len(current) >= options.changeset_size:
            changesets.append(current)
            current = []
    if current:
        changesets.append(current)
    return changesets


def _is_business(result: OperationResult) -> bool:
    """A failure SCM will repeat: a refusal (4xx) or a business rule (AxODataWriteException)."""
    if result.status in (429, 502, 503, 504):
        return False
    if result.status == 500:
        return WRITE_EXCEPTION in (result.error_type or "")
    return 400 <= result.status < 500


def _outcomes(
    entity: catalog.Entity,
    changesets: list[list[PlanRow]],
    results: list[OperationResult],
    attempts: dict[int, int],
    options: OdataOptions,
    group: _Group,
) -> tuple[list[Outcome], list[PlanRow]]:
    outcomes: list[Outcome] = []
    retry: list[PlanRow] = []
    position = 0
    for changeset in changesets:
        mine = results[position : position + len(changeset)]
        position += len(changeset)
        unattributed = len(changeset) > 1 and all(
            not r.ok
            and r.status != NOT_APPLIED
            and (r.status, r.error) == (mine[0].status, mine[0].error)
            for r in mine
        )
        for row, result in zip(changeset, mine, strict=True):
            if result.ok:
                keys = bodies.generated_keys(entity, result.body) if result.body else None
                outcomes.append(
                    Outcome(
                        row.seq,
                        "succeeded",
                        http_status=result.status,
                        generated_keys=keys if row.operation == "POST" else None,
                    )
                )
                group.succeeded += 1
            elif unattributed:
                group.isolate.add(row.seq)
                retry.append(row)
                outcomes.append(Outcome(row.seq, "pending"))
            elif result.status == NOT_APPLIED:
                retry.append(row)  # rolled back with its changeset: not this row's fault
                outcomes.append(Outcome(row.seq, "pending"))
            elif row.operation == "DELETE" and result.status == 404:
                outcomes.append(
                    Outcome(
                        row.seq,
                        "succeeded",
                        http_status=404,
                        reason="SCM has no such line (already deleted)",
                    )
                )
                group.succeeded += 1
            elif _is_business(result) or attempts.get(row.seq, 0) >= options.max_attempts:
                what = "refused" if _is_business(result) else f"failed {attempts[row.seq]} times"
                outcomes.append(
                    Outcome(
                        row.seq,
                        "failed",
                        reason=f"SCM {what} (HTTP {result.status})",
                        http_status=result.status,
                        scm_message=result.error,
                    )
                )
                group.failed += 1
            else:
                retry.append(row)
                outcomes.append(
                    Outcome(row.seq, "pending", http_status=result.status, scm_message=result.error)
                )
    return outcomes, retry  # fmt: skip
