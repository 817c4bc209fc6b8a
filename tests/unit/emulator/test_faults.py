"""Fault rules: which requests they hit, how often, for how long."""

from __future__ import annotations

import pytest

from emulator.faults import Faults, Stats


def _hits(faults: Faults, path: str, n: int, method: str = "GET") -> list[bool]:
    return [faults.take(("status", "throttle"), method, path) is not None for _ in range(n)]


def test_count_every_nth_and_scope() -> None:
    faults = Faults()
    faults.add({"kind": "status", "path": "/scm/", "count": 2})
    assert _hits(faults, "/clm/api", 3) == [False] * 3
    assert _hits(faults, "/scm/data/X", 3) == [True, True, False]
    faults.add({"kind": "throttle", "every_nth": 3, "method": "post"})
    assert _hits(faults, "/scm/data/X", 6, "POST") == [False, False, True, False, False, True]
    assert _hits(faults, "/scm/data/X", 3, "GET") == [False] * 3


def test_rate_limit_and_clearing() -> None:
    faults = Faults()
    rule = faults.add({"kind": "throttle", "per_second": 2})
    assert _hits(faults, "/", 4) == [False, False, True, True]
    assert faults.clear(rule.id) == 1
    assert _hits(faults, "/", 2) == [False, False]


def test_latency_rules_add_up() -> None:
    faults = Faults()
    faults.add({"kind": "latency", "latency_ms": 100, "count": 1})
    faults.add({"kind": "latency", "latency_ms": 50})
    assert faults.latency_ms("GET", "/x") == 150
    assert faults.latency_ms("GET", "/x") == 50


@pytest.mark.parametrize(
    "spec",
    [{"kind": "meteor"}, {"kind": "throttle", "message": "nope"}, {"kind": "status", "colour": 1}],
)
def test_bad_rules_are_refused(spec: dict[str, object]) -> None:
    with pytest.raises((ValueError, TypeError)):
        Faults().add(spec)


def test_stats_fold_keys_and_blob_names() -> None:
    assert (
        Stats.endpoint("GET", "/scm/data/VendorsV2(dataAreaId='usmf',X='1')")
        == "GET /scm/data/VendorsV2(key)"
    )
    assert Stats.endpoint("GET", "/blob/dmf/abc/p.zip") == "GET /blob/dmf"
