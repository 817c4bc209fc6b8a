"""The ``reconcile`` flow: the scheduled run, everything in scope.

bootstrap → extract SCM and CLM → build models → test → plan → guard → approve if needed → push →
verify → publish the analytics snapshot. The steps are :mod:`flows.steps.run`'s; this module only
makes them a Prefect flow (typed parameters for the UI's form, tasks, artifacts, approval).
"""

from __future__ import annotations

from typing import Any

from prefect import flow

from flows.params import ReconcileParameters
from flows.steps.run import RunOptions
from flows.tasks import run_flow

DEFAULTS = ReconcileParameters()


@flow(name="reconcile", validate_parameters=True)
def reconcile(config: str | None = None, options: ReconcileParameters = DEFAULTS) -> dict[str, Any]:
    """Reconcile SCM and the CLM: extract what changed, rebuild the reports, push the deltas.

    Args:
        config: Path of the settings file (clmsync.toml) on the machine that runs the flow;
            empty: $CLMSYNC_CONFIG, else ./clmsync.toml. Secrets stay in that file or in the
            environment, never in parameters.
        options: What this reconciliation does.
    """
    return run_flow(config, RunOptions.reconcile(options))
