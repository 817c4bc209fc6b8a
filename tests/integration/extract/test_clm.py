"""CLM extract against the emulator's CLM: the overlap window, pages served twice or changed
while being read, and export folders landed once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors import catalog
from connectors.clm import ClmPage
from connectors.errors import ClmExportError
from emulator.world.clm_store import stamp
from flows.steps.extract_clm import parse_time
from tests.integration.extract.harness import Harness, clm_rows

CONTRACTS = catalog.clm_object("contract")


def _set_title(h: Harness, contract_id: str, title: str, when: Any = None) -> None:
    """Change a contract in the CLM, stamped ``when`` (default: the CLM's clock, now)."""
    assert h.info.state is not None
    with h.info.state.store.transaction() as con:
        moment = when if when is not None else stamp(con)
        con.execute(
            "UPDATE clm.contracts SET title = ?, updated_at = ? WHERE id = ?",
            [title, moment, contract_id],
        )


def _title(h: Harness, contract_id: str) -> str:
    return str(h.scalar("SELECT title FROM current_clm.contracts WHERE id = ?", [contract_id]))


def test_the_overlap_window_catches_a_row_committed_late(make_harness: Any) -> None:
    window = make_harness()
    no_window = make_harness(clm={"overlap_seconds": 0})
    for h in (window, no_window):
        assert h.extract(entities=["contract"]).ok
    cursor = window.scalar(
        "SELECT cursor FROM ops.extract_state WHERE source = 'clm' AND entity = 'contract'"
    )
    high = parse_time(cursor)
    assert high is not None
    late = window.store.execute(
        "SELECT id FROM clm.contracts WHERE updated_at < ? ORDER BY id LIMIT 1",
        [(high - timedelta(days=30)).replace(tzinfo=None)],
    ).fetchall()[0][0]
    # A write that committed after the last read, stamped before its high-water mark.
    _set_title(window, late, "Committed late", (high - timedelta(seconds=10)).replace(tzinfo=None))

    caught = window.extract(entities=["contract"])
    assert [(r.entity, r.landed) for r in caught.results] == [("contract", 1)]
    assert _title(window, late) == "Committed late"
    missed = no_window.extract(entities=["contract"])
    assert missed.total("landed") == 0  # without the window, the row is never read
    assert _title(no_window, late) != "Committed late"


def test_rows_changed_while_pages_are_read_are_not_missed_nor_landed_twice(
    make_harness: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = make_harness(clm={"page_size": 100})
    real = h.clients.clm.pages  # type: ignore[union-attr]
    changed: list[str] = []

    def pages_changing_after_the_first(collection: str, **kw: Any) -> Iterator[ClmPage]:
        for number, page in enumerate(real(collection, **kw)):
            yield page
            if number == 0:  # a row of the page just read changes before the next one
                changed.append(page.items[-1]["id"])
                _set_title(h, changed[0], "Changed at the boundary")

    monkeypatch.setattr(h.clients.clm, "pages", pages_changing_after_the_first)
    h.info.set_fault(kind="clm_page_twice", path="/clm/api/v1/contracts", count=2)
    report = h.extract(entities=["contract"])
    assert report.ok, report.failures
    held, truth = clm_rows(h, CONTRACTS)
    assert held == truth
    assert _title(h, changed[0]) == "Changed at the boundary"
    # Pages served again were dropped before landing: one raw row per (id, updated_at).
    detail = json.loads(
        h.scalar(
            "SELECT detail FROM ops.runs WHERE step = 'clm_extract' AND run_id = ?", [report.run_id]
        )
    )
    # The first page was served twice more: 99 rows read before (the changed one had moved to
    # the end) and then 100; the changed row was read twice, once per version.
    contracts = h.store.execute("SELECT count(*) FROM clm.contracts").fetchall()[0][0]
    assert (detail["extracted"], detail["duplicates"]) == (contracts + 1 + 199, 199)
    assert (
        h.scalar("SELECT count(*) - count(DISTINCT (id, updated_at)) FROM raw_clm.contracts") == 0
    )


def _export(h: Harness, out: Path, since: str | None = None) -> Path:
    answer = h.info.admin("POST", "clm_export", {"out": str(out), "since": since})
    return Path(answer["folder"])


def test_an_export_folder_is_landed_once_and_a_tampered_one_not_at_all(
    make_harness: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "exports"
    h = make_harness(clm={"api_url": None, "api_key": None, "export_folder": folder})
    assert h.clients.clm is None
    first = _export(h, folder)
    report = h.extract(entities=[o.name for o in catalog.CLM_OBJECTS])
    assert report.ok, report.failures
    for obj in catalog.CLM_OBJECTS:
        held, truth = clm_rows(h, obj)
        assert held == truth, obj.name
        (result,) = report.find(obj.name)
        assert result.expected == result.extracted == result.landed == len(truth)
    landings = h.scalar("SELECT count(*) FROM ops.landed_files WHERE source = 'clm'")
    again = h.extract(entities=["contract", "agreement"])
    assert {r.status for r in again.results} == {"unchanged"}
    assert h.scalar("SELECT count(*) FROM ops.landed_files WHERE source = 'clm'") == landings

    contract = h.store.execute("SELECT id FROM clm.contracts ORDER BY id LIMIT 1").fetchall()[0][0]
    _set_title(h, contract, "From the second export")
    manifest = json.loads((first / "manifest.json").read_text())
    since = manifest["created_at"]
    _export(h, folder, since)
    tampered = _export(h, folder, since)
    (tampered / "contracts.jsonl").write_text('{"id": "K-9999999"}\n', encoding="utf-8")
    later = h.extract(entities=["contract"])
    assert _title(h, contract) == "From the second export"
    (result,) = later.find("contract")
    assert result.landed == 1
    assert isinstance(result.exception, ClmExportError)  # the tampered folder, refused whole
    assert h.scalar("SELECT count(*) FROM raw_clm.contracts WHERE id = 'K-9999999'") == 0
