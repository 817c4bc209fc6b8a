"""The ``bootstrap`` Prefect flow: create or repair the export data projects in SCM.

A thin wrapper over :func:`flows.steps.bootstrap.bootstrap_projects`; the network task retries
only what :func:`connectors.errors.is_transient` says may pass (throttling, outages).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from connectors.errors import is_transient
from connectors.odata import ODataClient
from flows.clients import build_clients
from flows.settings import Settings, load_settings
from flows.steps.bootstrap import ProjectReport, bootstrap_projects


def retry_if_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect retry condition: retry a failed task only when its error is transient."""
    try:
        error = state.result(raise_on_failure=False)
    except Exception:  # no result to look at: the failure is not one of ours
        return False
    return isinstance(error, BaseException) and is_transient(error)


@task(
    name="bootstrap-projects",
    retries=2,
    retry_delay_seconds=30,
    retry_condition_fn=retry_if_transient,
    cache_policy=NO_CACHE,
)
def bootstrap_projects_task(
    settings: Settings, odata: ODataClient, legal_entities: list[str] | None
) -> ProjectReport:
    report = bootstrap_projects(settings, odata, legal_entities=legal_entities)
    logger = get_run_logger()
    for line in report.lines():
        logger.info("%s", line)
    return report


@flow(name="bootstrap")
def bootstrap_flow(
    config: Path | None = None, legal_entities: list[str] | None = None
) -> list[str]:
    """Create or repair the export data project of each legal entity; returns the changes."""
    settings = load_settings(config)
    with build_clients(settings) as clients:
        report = bootstrap_projects_task(settings, clients.odata, legal_entities)
    return [str(c) for c in report.changes]
