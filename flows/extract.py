"""The ``extract`` Prefect flow: SCM and the CLM into the warehouse.

A thin wrapper over :func:`flows.steps.extract.extract_all`: each unit of the run (one SCM export
project, one reference set in one legal entity, one CLM object) is a task; only network
failures that may pass (:func:`connectors.errors.is_transient`) are retried, and a unit that is
retried resumes where it stopped (a pending execution is landed, not exported again). The flow
fails when any entity failed, so nothing downstream runs on a partial extract; the per-entity
table is published as an artifact.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture
from pydantic import BaseModel, Field

from flows.bootstrap import retry_if_transient
from flows.clients import build_clients
from flows.settings import load_settings
from flows.steps.extract import extract_all, summary
from flows.steps.extract_types import EntityResult, Unit, first_transient
from warehouse import db, state


class ExtractParameters(BaseModel):
    """What to extract (the form the Prefect UI shows)."""

    config: Path | None = Field(None, description="Settings file (default: ./clmsync.toml)")
    entities: list[str] | None = Field(None, description="SCM entity sets / CLM objects")
    legal_entities: list[str] | None = Field(None, description="Legal entities (default: all)")
    full: bool = Field(False, description="Extract the selected entities in full")
    key_snapshot: bool | None = Field(
        None, description="Force key snapshots on (every key read) or off"
    )
    run_id: str | None = Field(None, description="The run this extract belongs to")


@task(
    name="extract-unit",
    task_run_name="extract {unit.name}",
    retries=2,
    retry_delay_seconds=30,
    retry_condition_fn=retry_if_transient,
    cache_policy=NO_CACHE,
)
def extract_unit(unit: Unit) -> list[EntityResult]:
    """One unit; raises its first transient failure so that Prefect retries it."""
    results = unit()
    transient = first_transient(results)
    if transient is not None:
        raise transient
    return results


def _submit(units: Sequence[Unit], workers: int) -> list[EntityResult]:
    """Each unit as a task, at most ``workers`` (``sync.extract_concurrency``) at a time."""
    futures: list[tuple[Unit, PrefectFuture[list[EntityResult]]]] = []
    for unit in units:
        running = [f for _, f in futures if not f.state.is_final()]
        if len(running) >= workers:
            running[0].wait()
        futures.append((unit, extract_unit.submit(unit)))
    results: list[EntityResult] = []
    for unit, future in futures:
        outcome = future.result(raise_on_failure=False)
        if isinstance(outcome, BaseException):  # retries exhausted on a transient failure
            results += [
                EntityResult(s.source, s.entity, s.legal_entity, s.via).fail(outcome)
                for s in unit.scope
            ]
        else:
            results += outcome
    return results


@flow(name="extract")
def extract_flow(parameters: ExtractParameters | None = None) -> dict[str, object]:
    """Extract; returns the run's counts. Fails when any entity failed."""
    p = parameters or ExtractParameters()
    settings = load_settings(p.config)
    run_id = p.run_id or state.new_run_id()
    wh = settings.warehouse
    with (
        build_clients(settings) as clients,
        contextlib.closing(
            db.connect(wh.path, memory_limit=wh.memory_limit, threads=wh.threads)
        ) as con,
    ):
        report = extract_all(
            settings, clients, con, run_id=run_id, entities=p.entities,
            legal_entities=p.legal_entities, full=p.full, key_snapshot=p.key_snapshot,
            runner=_submit,
        )  # fmt: skip
    logger = get_run_logger()
    counts = summary(report)
    logger.info("extract %s: %s", run_id, counts)
    create_table_artifact(report.rows(), key="extract", description=f"Extract of run {run_id}")
    report.raise_for_failures()
    return {"run_id": run_id, **counts}
