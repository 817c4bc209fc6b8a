"""The ``push`` flow: push a plan an earlier run made and did not push.

A plan waits when it was a dry run, when nobody approved it in time, or when it was planned with
``clmsync plan``. This flow takes it from the guard on: guard → approve if needed → push →
verify → publish the analytics snapshot.
"""

from __future__ import annotations

from typing import Any

from prefect import flow

from flows.params import PushParameters
from flows.steps.run import RunOptions
from flows.tasks import run_flow

DEFAULTS = PushParameters()


@flow(name="push", validate_parameters=True)
def push(config: str | None = None, options: PushParameters = DEFAULTS) -> dict[str, Any]:
    """Push an existing plan to SCM and the CLM, after approval when it is large.

    Args:
        config: Path of the settings file (clmsync.toml) on the machine that runs the flow;
            empty: $CLMSYNC_CONFIG, else ./clmsync.toml.
        options: Which plan, and which of its entities.
    """
    return run_flow(config, RunOptions.push_plan(options))
