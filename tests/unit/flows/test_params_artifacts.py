"""Flow parameters, run summaries and artifacts: what the UI form and the run summary show."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from connectors import catalog
from connectors.errors import ModelTestFailed, RunFailed, WarehouseBusy
from connectors.redact import register_secret
from flows import artifacts
from flows.params import CLM_OBJECT_NAMES, ENTITY_NAMES, ReloadParameters
from flows.steps.summary import EntityFigures, RunReport


def test_the_form_offers_exactly_the_catalogs_entities() -> None:
    assert set(ENTITY_NAMES) == {e.name for e in catalog.synced_entities()}
    assert set(CLM_OBJECT_NAMES) == {o.name for o in catalog.CLM_OBJECTS}


def test_reload_parameters_check_what_the_ui_sends() -> None:
    params = ReloadParameters.model_validate(
        {"entities": ["VendorsV2"], "legal_entities": [" USMF "], "full": False}
    )
    assert params.legal_entities == ["usmf"]
    with pytest.raises(ValidationError, match="Vendors"):
        ReloadParameters.model_validate({"entities": ["Vendors"]})
    with pytest.raises(ValidationError):
        ReloadParameters.model_validate({"client_secret": "x"})


def _report() -> RunReport:
    report = RunReport(run_id="r1", flow="reconcile", status="succeeded")
    report.entities["VendorsV2"] = EntityFigures(
        "VendorsV2", 10, 9, 1, {"vendor_blocked": 2, "vendor_stale_in_clm": 3}
    )
    report.entities["CLMIntegrationContracts"] = EntityFigures(
        "CLMIntegrationContracts", planned=4, pushed={"odata": 3}, failed=1, verified=3
    )
    return report


def test_summary_rows_give_every_figure_per_entity_and_a_total() -> None:
    rows = {r["entity"]: r for r in artifacts.summary_rows(_report())}
    assert rows["VendorsV2"]["quarantined"] == 1
    assert artifacts.parse_counts(rows["VendorsV2"]["by_kind"]) == {
        "vendor_blocked": 2,
        "vendor_stale_in_clm": 3,
    }
    assert rows["CLMIntegrationContracts"]["by_channel"] == "odata=3"
    assert rows["total"]["mismatches"] == 5
    assert rows["total"]["pushed"] == 3
    assert rows["total"]["failed"] == 1


def test_the_json_report_has_every_figure() -> None:
    data = _report().as_dict()
    assert data["entities"]["CLMIntegrationContracts"] == {
        "extracted": 0,
        "landed": 0,
        "quarantined": 0,
        "mismatches": {},
        "planned": 4,
        "pushed": {"odata": 3},
        "failed": 1,
        "verified": 3,
    }
    assert data["status"] == "succeeded"
    assert data["run_id"] == "r1"


def test_artifact_keys_are_what_prefect_accepts() -> None:
    assert artifacts.artifact_key("Reconcile", "summary") == "reconcile-summary"
    assert artifacts.artifact_key("push progress", "x_y") == "push-progress-x-y"


def test_markdown_never_carries_a_secret() -> None:
    register_secret("s3cr3t-value-123")
    text = artifacts.mismatches_markdown(
        [("amended_price", 1)],
        [{"kind": "amended_price", "record_key": "s3cr3t-value-123", "field": "Price"}],
        Path("data/analytics.duckdb"),
    )
    assert "s3cr3t-value-123" not in text
    assert "reports.rpt_mismatches" in text


def test_a_failed_run_names_the_step_and_the_cause_in_one_line() -> None:
    exc = RunFailed("r1", "build", ModelTestFailed(["unique_key (stg_x): 2 failing row(s)"]))
    assert str(exc) == (
        "run r1 failed at step 'build': 1 error-level model test(s) failed: "
        "unique_key (stg_x): 2 failing row(s)"
    )
    assert "\n" not in str(exc)
    busy = RunFailed("r2", "open warehouse", WarehouseBusy("warehouse w is in use", hint="wait"))
    assert busy.hint == "wait"
    assert busy.transient  # another run holds it: trying later may work
    bug = RunFailed("r3", "extract", ValueError("x\nmore"))
    assert str(bug) == "run r3 failed at step 'extract': ValueError: x"
    assert bug.hint is not None
    assert "--debug" in bug.hint
