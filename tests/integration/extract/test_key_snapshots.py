"""Key snapshots against the emulator: SCM's ``$count``, read before the exports, spares the key
read of every entity whose count shows nothing was deleted, and only of those."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connectors import catalog
from flows.steps.extract_types import ExtractReport
from tests.integration.extract.harness import Harness, assert_same_as_emulator
from tests.reliability.clikit import run_cli


@pytest.fixture(scope="module")
def primed(make_harness: Any) -> Harness:
    harness = make_harness()
    first = harness.extract()
    assert first.ok, first.failures
    return harness


def _methods(report: ExtractReport) -> dict[tuple[str, str | None], str]:
    assert report.ok, (report.failures, [s.error for s in report.snapshots if s.error])
    return {(s.entity, s.legal_entity): s.method for s in report.snapshots}


def _delete_vendor(h: Harness, legal_entity: str) -> str:
    account = h.store.execute(
        'SELECT "VendorAccountNumber" FROM scm."VendorsV2" WHERE "dataAreaId" = ? '
        "ORDER BY 1 LIMIT 1 OFFSET 3",
        [legal_entity],
    ).fetchall()[0][0]
    h.clients.odata.delete(
        "VendorsV2", {"dataAreaId": legal_entity, "VendorAccountNumber": account}
    )
    return str(account)


def test_counts_that_match_spare_every_key_read(primed: Harness) -> None:
    h = primed
    report = h.extract()
    methods = _methods(report)
    assert set(methods) == {
        (e.name, le) for e in catalog.package_entities() for le in h.settings.sync.legal_entities
    }
    assert set(methods.values()) == {"count"}
    # recorded as snapshots taken, so key_snapshot_every_runs counts from them
    steps = h.rows(
        "SELECT DISTINCT status, detail->>'method' FROM ops.runs WHERE step = 'key_snapshot' "
        "AND run_id = ?",
        [report.run_id],
    )
    assert steps == [("succeeded", "count")]


def test_a_delete_makes_its_entity_read_its_keys_and_become_a_tombstone(primed: Harness) -> None:
    h = primed
    account = _delete_vendor(h, "demf")
    report = h.extract()
    methods = _methods(report)
    assert methods.pop(("VendorsV2", "demf")) == "odata"
    assert set(methods.values()) == {"count"}
    assert [(s.entity, s.legal_entity, s.tombstoned) for s in report.snapshots if s.tombstoned] == [
        ("VendorsV2", "demf", 1)
    ]
    assert h.rows(
        "SELECT record_key FROM ops.tombstones WHERE noticed_run_id = ?", [report.run_id]
    ) == [(account,)]
    assert_same_as_emulator(h)


def test_a_record_added_after_the_count_makes_its_keys_read(
    primed: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SCM counted before a vendor was created (and exported): the current rows outnumber the
    # count, which proves nothing either way, so the keys are read.
    h = primed
    real = h.clients.odata.count

    def before_a_create(entity_set: str, **kw: Any) -> int:
        counted = real(entity_set, **kw)
        usmf = "usmf" in (kw.get("filter") or "")
        return counted - 1 if entity_set == "VendorsV2" and usmf else counted

    monkeypatch.setattr(h.clients.odata, "count", before_a_create)
    methods = _methods(h.extract())
    assert methods.pop(("VendorsV2", "usmf")) == "odata"
    assert set(methods.values()) == {"count"}


def test_an_entity_whose_export_failed_reads_its_keys(primed: Harness) -> None:
    h = primed
    h.info.set_fault(kind="execution", outcome="Failed", count=1)
    report = h.extract(legal_entities=["usmf"])
    assert report.failures
    assert {s.method for s in report.snapshots} == {"odata"}
    assert {s.legal_entity for s in report.snapshots} == {"usmf"}
    assert not any(s.tombstoned for s in report.snapshots)


def test_a_forced_snapshot_reads_the_keys_and_no_count(
    primed: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = primed
    counted: list[str] = []
    real = h.clients.odata.count

    def spy(entity_set: str, **kw: Any) -> int:
        counted.append(entity_set)
        return real(entity_set, **kw)

    monkeypatch.setattr(h.clients.odata, "count", spy)
    methods = _methods(h.extract(key_snapshot=True, legal_entities=["gbsi"]))
    assert set(methods.values()) == {"odata"}
    package = {e.name for e in catalog.package_entities()}
    assert not package & set(counted)  # reference sets still check their $count
    assert_same_as_emulator(h)


def test_the_command_says_how_many_snapshots_the_count_settled(
    primed: Harness, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = Path(primed.info.state_dir)
    config = tmp_path / "clmsync.toml"
    text = (state / "clmsync.toml").read_text()
    config.write_text(text.replace('"ca.pem"', json.dumps(str(state / "ca.pem"))))
    assert run_cli(["extract", "-c", str(config)], capsys)[0] == 0
    code, out = run_cli(["extract", "-c", str(config)], capsys)
    assert code == 0, out
    pairs = len(catalog.package_entities()) * len(primed.settings.sync.legal_entities)
    assert f"key snapshots: {pairs} ({pairs} settled by SCM's $count, no key read)" in out
