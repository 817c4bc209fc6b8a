"""clmsync's deployments, served from one process (``clmsync serve``).

- ``reconcile/clmsync`` runs on ``sync.schedule_cron``. Its deployment concurrency limit is one
  run, and a run scheduled (or started) while one is going is cancelled instead of queued: the
  next run is incremental and picks up whatever the cancelled one would have done.
- ``reload/clmsync``, ``bootstrap/clmsync`` and ``push/clmsync`` have no schedule; they are
  started from the UI with a form, or through the API.
- Every flow takes the warehouse writer slot (the global concurrency limit
  ``clmsync-warehouse-writer``, one slot, created here) before it writes: a reload started during
  a reconciliation waits for it instead of failing on the warehouse lock.

Each served run is a subprocess of this one, with its environment (secrets included) and the
settings file given as the ``config`` parameter's default.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from connectors.errors import ClmSyncError, ConfigError
from flows.settings import CONFIG_ENV, Settings, config_path, load_settings

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

DEPLOYMENT = "clmsync"
TAGS = ["clmsync"]


def api_url() -> str | None:
    """The Prefect API this process talks to (``PREFECT_API_URL``), or None."""
    from prefect.settings import PREFECT_API_URL

    value = PREFECT_API_URL.value()
    return str(value) if value else None


def settings_file(config: Path | None) -> Path:
    """The settings file to serve with, as an absolute path (served runs may run elsewhere)."""
    path = config_path(config)
    if path is None:
        raise ConfigError(
            "config", "no settings file: give --config, set $CLMSYNC_CONFIG or create clmsync.toml"
        )
    return path.resolve()


def deployments(path: Path, settings: Settings) -> list[RunnerDeployment]:
    """The four deployments, each with the settings file as its ``config`` default."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
    from prefect.deployments.runner import EntrypointType

    from flows.bootstrap import bootstrap_flow as bootstrap
    from flows.push import push
    from flows.reconcile import reconcile
    from flows.reload import reload

    def one_at_a_time(strategy: ConcurrencyLimitStrategy) -> ConcurrencyLimitConfig:
        return ConcurrencyLimitConfig(limit=1, collision_strategy=strategy)

    specs: list[tuple[Any, str | None, ConcurrencyLimitConfig | None]] = [
        (
            reconcile,
            settings.sync.schedule_cron,
            one_at_a_time(ConcurrencyLimitStrategy.CANCEL_NEW),
        ),
        (reload, None, None),
        (bootstrap, None, one_at_a_time(ConcurrencyLimitStrategy.ENQUEUE)),
        (push, None, one_at_a_time(ConcurrencyLimitStrategy.ENQUEUE)),
    ]
    return [
        cast(
            "RunnerDeployment",
            flow.to_deployment(
                DEPLOYMENT,
                cron=cron,
                parameters={"config": str(path)},
                concurrency_limit=limit,
                entrypoint_type=EntrypointType.MODULE_PATH,
                tags=TAGS,
            ),
        )
        for flow, cron, limit in specs
    ]


def serve(config: Path | None = None, *, limit: int | None = None) -> None:
    """Register the deployments with the Prefect server and run their flow runs until stopped."""
    from prefect import serve as prefect_serve

    from flows.tasks import ensure_writer_limit

    if api_url() is None:
        raise ClmSyncError(
            "no Prefect server: PREFECT_API_URL is not set",
            hint="Start one with `prefect server start`, then `prefect config set "
            "PREFECT_API_URL=http://127.0.0.1:4200/api` (or export it) and serve again.",
        )
    path = settings_file(config)
    settings = load_settings(path)
    # Runs whose config parameter is emptied in the UI still find the settings.
    os.environ[CONFIG_ENV] = str(path)
    ensure_writer_limit()
    prefect_serve(*deployments(path, settings), limit=limit)
