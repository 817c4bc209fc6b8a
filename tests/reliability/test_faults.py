"""The fault matrix: every fault the emulator can inject, against a whole ``reconcile`` run.

Each case starts from the bed's saved point (see :mod:`harness`) and ends one of two ways:

* the run succeeds, and the warehouse's reports and marts and the emulator's SCM and CLM data
  are identical (by checksum) to the fault-free reference run's;
* the run fails with one clear message naming the step and the cause, leaves ``marts`` and
  ``reports`` as a complete build left them (never half of one), moves no watermark without
  landing its rows, and the next run succeeds identically.

Faults that retries absorb are grouped (scoped to different endpoints, so each fires where it
is meant to) and every rule is checked to have fired. Faults that fail a run are chained: each
failing run starts where the previous one stopped, and one recovery run after the chain must
reach the reference. No record may exist twice in SCM at any point.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import duckdb
import pytest

from connectors.dmf import PackageApi
from flows.settings import Settings
from flows.steps.summary import RunReport
from tests.reliability.harness import (
    Bed,
    differences,
    emulator_sums,
    natural_key_repeats,
    release_stuck_executions,
    run,
    warehouse_sums,
    watermarks,
)
from tests.reliability.tally import TALLY

EXPORTS = "/scm/data/DataManagementDefinitionGroups/export"
IMPORTS = "/scm/data/DataManagementDefinitionGroups/import"
ACTIONS = "/scm/data/DataManagementDefinitionGroups/Microsoft.Dynamics.DataEntities."

ABSORBED: dict[str, list[dict[str, Any]]] = {
    "odata": [
        {"kind": "throttle", "path": "/scm/data", "every_nth": 3, "count": 6, "retry_after": 1},
        {"kind": "throttle", "path": "/scm/data", "every_nth": 4, "count": 2, "retry_after": 1,
         "message": "empty"},
        {"kind": "status", "status": 500, "path": "/scm/data", "method": "GET", "count": 3},
        {"kind": "status", "status": 503, "path": "/scm/data", "method": "POST", "count": 3},
        {"kind": "drop", "path": "/scm/data", "method": "GET", "count": 2, "fraction": 0.3},
        {"kind": "drop", "path": "/scm/data/$batch", "count": 1, "fraction": 0.5},
        {"kind": "status", "status": 500, "path": "/scm/data/$batch", "count": 1},
    ],
    "packages_and_tokens": [
        {"kind": "truncate", "count": 2, "fraction": 0.5},
        {"kind": "blob_expired", "count": 1},
        {"kind": "token_expiry", "expires_in": 3},
        {"kind": "status", "status": 503, "path": "/{tenant}/oauth2", "count": 2},
        {"kind": "latency", "path": "/scm", "latency_ms": 5},
    ],
    "clm": [
        {"kind": "throttle", "path": "/clm", "count": 3, "retry_after": 1},
        {"kind": "status", "status": 500, "path": "/clm", "count": 3},
        {"kind": "clm_page_twice", "path": "/clm", "count": 2},
    ],
    "imports": [
        {"kind": "execution", "outcome": "PartiallySucceeded", "path": IMPORTS, "count": 1},
        {"kind": "drop", "path": ACTIONS + "ImportFromPackage", "count": 1, "fraction": 0.2},
        {"kind": "drop", "path": ACTIONS + "ExportToPackage", "count": 1, "fraction": 0.2},
    ],
}  # fmt: skip


def _settings(bed: Bed, **sections: dict[str, Any]) -> Settings:
    """The bed's settings with some values of some sections changed."""
    base = bed.settings
    return base.model_copy(
        update={
            name: getattr(base, name).model_copy(update=values) for name, values in sections.items()
        }
    )


# Settings some groups need: small CLM pages (a page can only be served twice when there is a
# next one), pushes through package imports.
GROUP_SETTINGS: dict[str, dict[str, dict[str, Any]]] = {
    "clm": {"clm": {"page_size": 5}},
    "imports": {"sync": {"odata_row_threshold": 0}},
}


def _spec(bed: Bed, spec: dict[str, Any]) -> dict[str, Any]:
    return (
        {**spec, "path": spec["path"].format(tenant=bed.info.tenant_id)} if "path" in spec else spec
    )


def _name(spec: dict[str, Any]) -> str:
    detail = spec.get("status") or spec.get("outcome") or spec.get("message") or ""
    return f"{spec['kind']} {detail} {spec.get('path', '')}".replace("  ", " ").strip()


def assert_same_as_reference(bed: Bed, want: dict[str, Any] | None = None) -> None:
    got, want = bed.sums(), want or bed.reference
    found = differences(got, want)
    assert not found, f"differs from the fault-free run: {found}"
    # No fault leaves SCM half-pushed in between, so the history saw exactly the same mismatches.
    assert got["warehouse"]["history_ids"] == want["warehouse"]["history_ids"]
    assert not any(natural_key_repeats(bed.store).values()), natural_key_repeats(bed.store)


@pytest.mark.parametrize("group", list(ABSORBED))
def test_faults_retries_absorb_leave_the_run_identical(bed: Bed, group: str) -> None:
    bed.restore()
    specs = [_spec(bed, s) for s in ABSORBED[group]]
    with bed.fault(*specs):
        report = run(_settings(bed, **GROUP_SETTINGS.get(group, {})))
        left = bed.info.admin("GET", "faults")["faults"]
    assert report.status == "succeeded", report.error
    unfired = [r for r in left if r["count"] is not None or not r["fired"]]
    assert not unfired, f"faults that never fired: {unfired}"
    assert_same_as_reference(bed)
    TALLY.faults.update(_name(s) for s in ABSORBED[group])


def assert_clean_failure(
    bed: Bed, report: RunReport, step: str, causes: list[str], *, reports: dict[str, Any]
) -> None:
    """One message naming the step and the cause; marts and reports as ``reports`` holds them
    (the last complete build); no watermark moved without its rows landing in this run."""
    assert report.status == "failed"
    assert report.failed_step == step, report.error
    message = str(report.error)
    assert f"failed at step '{step}'" in message, message
    for cause in causes:
        assert cause in message, message
    assert len(message.splitlines()) == 1, message
    now = warehouse_sums(bed.warehouse)
    for name, value in reports.items():
        if name != "watermarks":
            assert now[name] == value, f"{name} changed by a failed run"
    con = duckdb.connect(str(bed.warehouse), read_only=True)
    try:
        landed = {
            (str(s), str(e), str(le))
            for s, e, le in con.execute(
                "SELECT source, entity, legal_entity FROM ops.landed_files WHERE run_id = ?",
                [report.run_id],
            ).fetchall()
        }
        failed = {
            (str(step), str(e or ""), str(le or ""))
            for step, e, le in con.execute(
                "SELECT step, entity, legal_entity FROM ops.runs WHERE run_id = ? "
                "AND status = 'failed' AND step <> 'extract'",
                [report.run_id],
            ).fetchall()
        }
        now_marks = watermarks(con)
    finally:
        con.close()
    before = reports["watermarks"]
    moved = {k for k, v in now_marks.items() if before.get(k) != v}
    # A watermark that moved with more rows counted landed those rows in this run...
    grown = {k for k in moved if before.get(k, (0,))[-1] != now_marks[k][-1]}
    assert grown <= landed, f"watermarks moved without their rows: {sorted(grown - landed)}"
    # ...and none moved for what failed: an SCM project (legal entity) or a CLM object.
    failed_les = {le for step, _, le in failed if step.startswith("scm_")}
    failed_clm = {e for step, e, _ in failed if step.startswith("clm_")}
    stuck = [k for k in moved if (k[0] == "scm" and k[2] in failed_les) or k[1] in failed_clm]
    assert not stuck, f"watermarks moved for what failed: {stuck}"


Case = tuple[str, list[dict[str, Any]], str, list[str]]

EXTRACT_FAILURES: list[Case] = [
    ("export Failed", [{"kind": "execution", "outcome": "Failed", "path": EXPORTS, "count": 1}],
     "extract", ["ended Failed"]),
    ("export PartiallySucceeded",
     [{"kind": "execution", "outcome": "PartiallySucceeded", "path": EXPORTS, "count": 1}],
     "extract", ["ended PartiallySucceeded", "refused by sync.partially_succeeded"]),
    ("export Executing past the deadline",
     [{"kind": "execution", "outcome": "Executing", "path": EXPORTS, "count": 1}],
     "extract", ["still Executing after"]),
    ("CLM unavailable past the deadline", [{"kind": "status", "status": 503, "path": "/clm"}],
     "extract", ["CLM API HTTP 503", "unavailable"]),
]  # fmt: skip
PUSH_FAILURES: list[Case] = [
    ("import Failed", [{"kind": "execution", "outcome": "Failed", "path": IMPORTS, "count": 1}],
     "push", ["ended Failed", "not applied"]),
    ("import Executing past the deadline",
     [{"kind": "execution", "outcome": "Executing", "path": IMPORTS, "count": 1}],
     "push", ["still Executing after"]),
]  # fmt: skip


def _fail_in_chain(bed: Bed, cases: list[Case], settings: Settings) -> None:
    """Run each case after the previous one. A push fails after a complete build: from the
    starting SCM data that build is the reference's; once a
    failed push has applied part of its plan, SCM differs and only completeness is checked."""
    for name, specs, step, causes in cases:
        before = warehouse_sums(bed.warehouse)
        scm_as_at_start = emulator_sums(bed.store) == bed.start["emulator"]
        with bed.fault(*[_spec(bed, s) for s in specs]):
            report = run(settings)
        expected = before
        if step == "push":
            assert _models_built(bed, report.run_id) == bed.models
            expected = {"watermarks": before["watermarks"]}
            if scm_as_at_start:
                expected.update(bed.reference["warehouse"])
                expected["watermarks"] = before["watermarks"]
        assert_clean_failure(bed, report, step, causes, reports=expected)
        assert not any(natural_key_repeats(bed.store).values())
        release_stuck_executions(bed.info)  # SCM's batch finishes them after the deadline
        TALLY.faults.add(name)


def _models_built(bed: Bed, run_id: str) -> int:
    """Models the run built successfully (a push fails after the whole build, never within)."""
    con = duckdb.connect(str(bed.warehouse), read_only=True)
    try:
        return int(
            con.execute(
                "SELECT count(*) FROM ops.model_runs WHERE run_id = ? AND status = 'success'",
                [run_id],
            ).fetchall()[0][0]
        )
    finally:
        con.close()


def test_faults_that_fail_extract_leave_nothing_half_done_and_the_next_run_recovers(
    bed: Bed,
) -> None:
    bed.restore()
    fast_fail = _settings(bed, scm={"retry_deadline_seconds": 2.0})
    _fail_in_chain(bed, EXTRACT_FAILURES, fast_fail)
    recovery = run(bed.settings)
    assert recovery.status == "succeeded", recovery.error
    assert_same_as_reference(bed)


def test_imports_that_fail_stop_the_push_and_the_next_runs_reach_the_reference(
    bed: Bed,
) -> None:
    """A failed push comes after a complete build: the reports are the reference's. Once the
    next run has pushed what was left, SCM matches the reference, and the run after it shows
    the reports the reference's next run shows."""
    bed.restore()
    settings = _settings(bed, **GROUP_SETTINGS["imports"])
    _fail_in_chain(bed, PUSH_FAILURES, settings)
    recovery = run(settings)
    assert recovery.status == "succeeded", recovery.error
    assert not differences(bed.sums(), bed.reference).keys() - _report_names(bed)
    settle = run(settings)
    assert settle.status == "succeeded", settle.error
    assert_same_as_reference(bed, bed.settled)


def _report_names(bed: Bed) -> set[str]:
    return {k for k in bed.reference["warehouse"] if k.startswith(("reports.", "marts."))}


def test_tokens_invalidated_mid_run_end_identical_or_in_one_clear_failure(
    bed: Bed, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every token issued so far is revoked right after the first package download. The
    emulator revokes by whole seconds, so a token refreshed within the same second is refused
    too: the run either recovers with a fresh token or fails naming the refused token."""
    bed.restore()
    download: Callable[..., Any] = PackageApi.download
    fired = threading.Event()

    def revoking_download(self: PackageApi, *args: Any, **kwargs: Any) -> Any:
        result = download(self, *args, **kwargs)
        if not fired.is_set():
            fired.set()
            bed.info.admin("POST", "faults", {"kind": "token_invalidate"})
        return result

    monkeypatch.setattr(PackageApi, "download", revoking_download)
    before = warehouse_sums(bed.warehouse)
    report = run(bed.settings)
    monkeypatch.undo()
    assert fired.is_set()
    if report.status != "succeeded":
        assert_clean_failure(bed, report, "extract", ["refused the token"], reports=before)
        # The next run comes later than the second whose tokens were revoked (a run started
        # within it would get a revoked token too: that is the fault, not a second one).
        assert bed.info.state is not None
        time.sleep(max(0.0, bed.info.state.tokens_invalid_before - time.time()) + 0.1)
        report = run(bed.settings)
        assert report.status == "succeeded", report.error
    assert_same_as_reference(bed)
    TALLY.faults.add("token_invalidate mid-run")
