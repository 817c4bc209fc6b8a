"""A large plan waits for approval in the UI: the flow run pauses with a form, and resuming it
with an answer (as the UI's Resume button does) hands that answer to the run."""

from __future__ import annotations

import threading
import time
from typing import Any

from prefect import flow, get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName

from flows.tasks import PrefectRunner


@flow(name="approval-probe")
def waits_for_approval(timeout: int) -> dict[str, Any] | None:
    answer = PrefectRunner().approve("# Plan of run `r1`: 12,000 changes", timeout)
    return None if answer is None else answer.model_dump()


def test_the_answer_given_in_the_ui_reaches_the_run(prefect_harness: None) -> None:
    outcome: dict[str, Any] = {}
    name = f"approval-{time.monotonic_ns()}"

    def run() -> None:
        state = waits_for_approval.with_options(flow_run_name=name)(timeout=120, return_state=True)
        outcome["state"] = state

    thread = threading.Thread(target=run)
    thread.start()
    with get_client(sync_client=True) as client:
        deadline = time.monotonic() + 60
        while True:
            runs = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[name]))
            )
            if runs and runs[0].state is not None and runs[0].state.is_paused():
                break
            assert time.monotonic() < deadline, "the run never paused for approval"
            time.sleep(0.5)
        paused = runs[0]
        # What the UI does: resume with the form's values.
        client.resume_flow_run(
            paused.id,
            run_input={"approve": True, "entities": ["VendorsV2"], "comment": "checked"},
        )
        thread.join(60)
        artifacts = client.read_artifacts()
    state = outcome["state"]
    assert state.is_completed(), state.message
    assert state.result() == {"approve": True, "entities": ["VendorsV2"], "comment": "checked"}
    assert any(a.key == "plan-approval" and a.flow_run_id == paused.id for a in artifacts)


def test_nobody_answering_in_time_is_no_approval(prefect_harness: None) -> None:
    state = waits_for_approval(timeout=2, return_state=True)
    assert state.is_completed(), state.message
    assert state.result() is None
