"""The Prefect layer retries a unit only for failures that may pass."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from connectors.errors import CompletenessError, DownloadError
from flows.bootstrap import retry_if_transient
from flows.extract import extract_unit
from flows.steps.extract_types import EntityResult, Scope, Unit


def _unit(error: Exception | None) -> Unit:
    def run() -> list[EntityResult]:
        result = EntityResult("scm", "VendorsV2", "usmf", "package")
        return [result.fail(error) if error else result]

    return Unit("scm:usmf", (Scope("scm", "VendorsV2", "usmf", "package"),), run)


def test_a_transient_failure_is_raised_for_prefect_to_retry() -> None:
    with pytest.raises(DownloadError):
        extract_unit.fn(_unit(DownloadError("p.zip", "cut short")))


def test_a_terminal_failure_is_reported_not_retried() -> None:
    (result,) = extract_unit.fn(_unit(CompletenessError("VendorsV2", "usmf", 2, 1)))
    assert result.status == "failed"
    (ok,) = extract_unit.fn(_unit(None))
    assert ok.status == "succeeded"


def test_a_unit_that_breaks_fails_its_whole_scope() -> None:
    def broken() -> list[EntityResult]:
        raise RuntimeError("boom")

    unit = Unit("x", (Scope("clm", "contract", None, "clm_api"),), broken)
    (result,) = unit()
    assert (result.entity, result.status, result.error) == (
        "contract",
        "failed",
        "RuntimeError: boom",
    )


@pytest.mark.parametrize(
    ("error", "retry"),
    [(DownloadError("p.zip", "cut"), True), (CompletenessError("V", None, 1, 0), False)],
)
def test_retry_condition_follows_the_error_tree(error: Exception, retry: bool) -> None:
    state = SimpleNamespace(result=lambda raise_on_failure: error)
    assert retry_if_transient(None, None, state) is retry
