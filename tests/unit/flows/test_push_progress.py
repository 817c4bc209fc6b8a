"""Push progress: the loader's reports become one bar per phase that ends at its total."""

from __future__ import annotations

from flows.steps.runner import PlainRunner
from flows.steps.stages import _PushProgress
from loader.model import PushProgress


class _Bar:
    def __init__(self) -> None:
        self.shown: list[tuple[int, int]] = []
        self.closed = False

    def update(self, done: int, total: int, description: str = "") -> None:
        self.shown.append((done, total))

    def close(self) -> None:
        self.closed = True


def test_each_phase_adds_up_its_groups_batches_and_run_wide_counts() -> None:
    bars: dict[str, _Bar] = {}

    def factory(name: str, total: int) -> _Bar:
        bars[name] = _Bar()
        return bars[name]

    progress = _PushProgress(PlainRunner(progress_factory=factory))
    # OData reports per entity and legal entity as it goes; a package once per finished batch;
    # the read-back across the whole run.
    progress(PushProgress("push", "CLMIntegrationContracts", "usmf", "odata", 10, 20, 10, 0))
    progress(PushProgress("push", "CLMIntegrationContracts", "usmf", "odata", 20, 20, 20, 0))
    progress(PushProgress("push", "CLMIntegrationPurchaseAgreementLines", "usmf", "package",
                          100, 100, 99, 1))  # fmt: skip
    progress(PushProgress("push", "CLMIntegrationPurchaseAgreementLines", "usmf", "package",
                          50, 50, 50, 0))  # fmt: skip
    progress(PushProgress("verify", "CLMIntegrationContracts", "usmf", "odata", 20, 169, 20, 0))
    progress(PushProgress("verify", "CLMIntegrationPurchaseAgreementLines", "usmf", "odata",
                          169, 169, 169, 0))  # fmt: skip
    assert bars["push"].shown[-1] == (170, 170)
    assert bars["verify"].shown[-1] == (169, 169)
    progress.complete()
    progress.close()
    assert all(bar.closed for bar in bars.values())
