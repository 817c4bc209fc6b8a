"""The Prefect step runner on its own: a plan nobody approves in time, and secrets in log records
masked before they reach the API (the approved path, resumed through the API as the UI does, is
in test_reconcile)."""

from __future__ import annotations

import logging
from typing import Any

from prefect import flow, get_run_logger

from connectors.redact import register_secret
from flows.tasks import PrefectRunner, install_logging
from tests.e2e.conftest import flow_run_logs

SECRET = "Zq8~not-a-real-secret-but-registered"


@flow(name="approval-probe")
def waits_for_approval(timeout: int) -> dict[str, Any] | None:
    answer = PrefectRunner().approve("# Plan of run `r1`: 12,000 changes", timeout)
    return None if answer is None else answer.model_dump()


def test_nobody_answering_in_time_is_no_approval(prefect_harness: None) -> None:
    state = waits_for_approval(timeout=2, return_state=True)
    # The run left the Paused state and ended on its own terms.
    assert state.is_completed(), state.message
    assert state.result() is None


@flow(name="logging-probe")
def logs_secrets() -> None:
    install_logging()
    get_run_logger().info("client_secret=%s", SECRET)
    # clmsync's own loggers reach the flow run's log too, masked the same way.
    logging.getLogger("connectors.probe").warning("token Bearer eyJhbGciOi.eyJzdWIi.c2lnbmF0dXJl")
    logging.getLogger("loader.probe").info("with %s in the middle", SECRET)


def test_secrets_are_masked_in_the_logs_the_api_stores(prefect_harness: None) -> None:
    register_secret(SECRET)
    state = logs_secrets(return_state=True)
    assert state.is_completed(), state.message
    messages = flow_run_logs(state.state_details.flow_run_id, containing="in the middle")
    assert any("client_secret=***" in m for m in messages), messages
    assert any(m.startswith("token Bearer ***") for m in messages), messages
    assert any(m == "with *** in the middle" for m in messages), messages
    assert not any(SECRET in m or "eyJ" in m for m in messages)
