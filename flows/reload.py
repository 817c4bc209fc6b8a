"""The ``reload`` flow: an ad hoc reload of chosen entities and legal entities.

Started from the Prefect UI with a form (which entities, which legal entities, full or
incremental, whether to push, dry run) or from ``clmsync reload``. The same steps as
``reconcile`` (:mod:`flows.steps.run`); the data projects are checked first, as there.
"""

from __future__ import annotations

from typing import Any

from prefect import flow

from flows.params import ReloadParameters
from flows.steps.run import RunOptions
from flows.tasks import run_flow

DEFAULTS = ReloadParameters()


@flow(name="reload", validate_parameters=True)
def reload(config: str | None = None, options: ReloadParameters = DEFAULTS) -> dict[str, Any]:
    """Extract chosen entities again, rebuild the reports and, if asked, push the result.

    Args:
        config: Path of the settings file (clmsync.toml) on the machine that runs the flow;
            empty: $CLMSYNC_CONFIG, else ./clmsync.toml.
        options: What to reload, and whether to push.
    """
    return run_flow(config, RunOptions.reload(options))
