"""A plan waiting for approval that nobody answers: the run gets no approval and goes on (the
approved path, resumed through the API as the UI does, is in test_reconcile)."""

from __future__ import annotations

from typing import Any

from prefect import flow

from flows.tasks import PrefectRunner


@flow(name="approval-probe")
def waits_for_approval(timeout: int) -> dict[str, Any] | None:
    answer = PrefectRunner().approve("# Plan of run `r1`: 12,000 changes", timeout)
    return None if answer is None else answer.model_dump()


def test_nobody_answering_in_time_is_no_approval(prefect_harness: None) -> None:
    state = waits_for_approval(timeout=2, return_state=True)
    # The run left the Paused state and ended on its own terms.
    assert state.is_completed(), state.message
    assert state.result() is None
