"""``reconcile`` under Prefect, twice against the emulator (a 1,000-vendor world, mutated between
the runs): the summary artifact's figures against the ground truth, the push against the
emulator's data, an analyst reading the snapshot while the second run writes, and no secret in
any log or artifact."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from prefect import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    FlowRunFilter,
    FlowRunFilterName,
)
from prefect.client.schemas.objects import State

from connectors.redact import registered_secrets
from emulator.server import running_emulator
from flows import artifacts
from flows.params import ReconcileParameters
from flows.reconcile import reconcile
from flows.truth import unresolved_actions
from tests.e2e.conftest import FAST, ROOT, flow_run_logs

THRESHOLD = "CLMSYNC__SYNC__APPROVAL_THRESHOLD"


@dataclass
class Run:
    state: State[Any]
    truth_before: dict[str, Any]  # what the run must find
    truth_after: dict[str, Any]  # the emulator's ground truth recomputed after the run
    summary: list[dict[str, Any]]
    markdown: str
    logs: list[str]
    artifact_keys: set[str]


@dataclass
class TwoRuns:
    first: Run
    second: Run
    reads: list[dict[str, Any]]
    secrets: frozenset[str]


def _artifacts_and_logs(
    flow_run_id: UUID,
) -> tuple[list[dict[str, Any]], str, list[str], set[str]]:
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    found.sort(key=lambda a: a.created or 0)
    tables = [a for a in found if a.key == "reconcile-summary"]
    texts = [a for a in found if a.key == "reconcile-mismatches"]
    assert tables, [a.key for a in found]
    assert texts, [a.key for a in found]
    rows = json.loads(str(tables[-1].data))
    everything = [str(a.data) + str(a.description) for a in found]
    keys = {str(a.key) for a in found}
    logs = flow_run_logs(flow_run_id, containing="Finished in state")
    return rows, str(texts[-1].data), logs + everything, keys


def _approve_when_paused(name: str, answer: dict[str, Any]) -> None:
    """What a person does in the UI: wait for the run to pause, then resume it with a form."""
    with get_client(sync_client=True) as client:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            runs = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[name]))
            )
            if runs and runs[0].state is not None and runs[0].state.is_paused():
                client.resume_flow_run(runs[0].id, run_input=answer)
                return
            if runs and runs[0].state is not None and runs[0].state.is_final():
                return
            time.sleep(0.5)


@pytest.fixture(scope="module")
def two_runs(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwoRuns]:
    state_dir = tmp_path_factory.mktemp("reconcile")
    with running_emulator(state_dir, size=1000, seed=11, **FAST) as info:
        config = str(Path(info.state_dir) / "clmsync.toml")
        runs: list[Run] = []
        reader: subprocess.Popen[str] | None = None
        stop = state_dir / "stop-reading"
        for number in (1, 2):
            approver: threading.Thread | None = None
            name = f"reconcile-{number}-{time.monotonic_ns()}"
            if number == 2:
                mutation = info.admin("POST", "mutate", {"fraction": 0.02, "seed": 5})
                assert mutation["discrepancies"] > 0
                reader = subprocess.Popen(
                    [sys.executable, str(ROOT / "tests" / "e2e" / "reader.py"),
                     str(state_dir / "analytics.duckdb"), str(stop)],
                    stdout=subprocess.PIPE, text=True,
                )  # fmt: skip
                # The second plan is above the approval threshold: it waits for someone.
                os.environ[THRESHOLD] = "5"
                approver = threading.Thread(
                    target=_approve_when_paused, args=(name, {"approve": True, "comment": "ok"})
                )
                approver.start()
            before = info.admin("GET", "ground_truth")
            try:
                state = reconcile.with_options(flow_run_name=name)(
                    config=config, options=ReconcileParameters(full=number == 1), return_state=True
                )
            finally:
                os.environ.pop(THRESHOLD, None)
                if approver is not None:
                    approver.join(60)
            after = info.admin("GET", "ground_truth?refresh=true")
            assert state.state_details.flow_run_id is not None
            found = _artifacts_and_logs(state.state_details.flow_run_id)
            runs.append(Run(state, before, after, *found))
        assert reader is not None
        stop.touch()
        out, _ = reader.communicate(timeout=30)
        reads = [json.loads(line) for line in out.splitlines() if line.strip()]
        yield TwoRuns(runs[0], runs[1], reads, registered_secrets())


def _truth_by_entity(truth: dict[str, Any]) -> dict[str, Counter[str]]:
    found: dict[str, Counter[str]] = {}
    for d in truth["discrepancies"]:
        if d["expected"]["report"]:
            found.setdefault(d["entity"], Counter())[d["expected"]["report"]] += 1
    return found


def _summary_by_entity(rows: list[dict[str, Any]]) -> dict[str, Counter[str]]:
    return {
        r["entity"]: Counter(artifacts.parse_counts(r["by_kind"]))
        for r in rows
        if r["entity"] != "total" and r["by_kind"]
    }


@pytest.mark.parametrize("which", ["first", "second"])
def test_the_summary_artifact_matches_the_ground_truth(two_runs: TwoRuns, which: str) -> None:
    run: Run = getattr(two_runs, which)
    assert run.state.is_completed(), run.state.message
    assert _summary_by_entity(run.summary) == _truth_by_entity(run.truth_before)
    total = next(r for r in run.summary if r["entity"] == "total")
    assert total["failed"] == 0
    assert total["pushed"] == total["verified"] > 0
    # Every action the ground truth asked for is now in SCM and the CLM.
    assert unresolved_actions(run.truth_before) > 0
    assert unresolved_actions(run.truth_after) == 0


def test_the_second_run_extracts_only_what_changed(two_runs: TwoRuns) -> None:
    first = next(r for r in two_runs.first.summary if r["entity"] == "total")
    second = next(r for r in two_runs.second.summary if r["entity"] == "total")
    assert 0 < second["extracted"] < first["extracted"] / 4
    for row in two_runs.second.summary:
        assert row["landed"] + row["quarantined"] <= row["extracted"]


def test_a_plan_above_the_threshold_waited_for_approval(two_runs: TwoRuns) -> None:
    assert "plan-approval" not in two_runs.first.artifact_keys
    assert "plan-approval" in two_runs.second.artifact_keys
    assert any("waits for approval" in line for line in two_runs.second.logs)


def test_the_markdown_shows_the_top_mismatches_and_how_to_query_them(two_runs: TwoRuns) -> None:
    text = two_runs.second.markdown
    assert "most recently seen" in text
    assert "select * from reports.rpt_mismatches" in text
    assert "analytics.duckdb" in text


def test_an_analyst_reads_the_snapshot_while_the_run_writes(two_runs: TwoRuns) -> None:
    reads = two_runs.reads
    assert len(reads) > 20
    assert [r for r in reads if not r["ok"]] == []
    # It read the first run's snapshot, then (once published) the second's.
    assert {r["runs"] for r in reads} >= {1, 2}


def test_no_secret_in_any_log_or_artifact(two_runs: TwoRuns) -> None:
    secrets = two_runs.secrets
    assert secrets  # the client secret and the CLM API key were registered
    for run in (two_runs.first, two_runs.second):
        assert run.logs
        for text in run.logs:
            assert not any(secret in text for secret in secrets)
            assert "eyJ" not in text
