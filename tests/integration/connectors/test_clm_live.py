"""The CLM client and the export reader against the emulator's CLM API and export folders."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.clm import ClmClient, read_export
from connectors.errors import ClmExportError, ClmRequestError
from emulator.server import EmulatorInfo, running_emulator
from tests.integration.connectors.conftest import FAST, Clients, make_clients


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorInfo]:
    """A small generated world (the CLM side needs one), overriding the tiny-world emulator."""
    state_dir = tmp_path_factory.mktemp("clm-emulator")
    with running_emulator(state_dir, size=200, seed=5, **FAST) as info:
        yield info


@pytest.fixture(scope="module")
def clm(emu: EmulatorInfo) -> ClmClient:
    return make_clients(emu).clm


def _count(emu: EmulatorInfo, table: str, where: str = "") -> int:
    assert emu.state is not None
    con = emu.state.store.reader()
    return int(con.execute(f"SELECT count(*) FROM clm.{table} {where}").fetchall()[0][0])


def test_cursor_pages_read_every_object_once(clm: ClmClient, emu: EmulatorInfo) -> None:
    pages = list(clm.pages("contracts", limit=50))
    ids = [item["id"] for page in pages for item in page.items]
    assert len(pages) > 1
    assert len(ids) == len(set(ids)) == _count(emu, "contracts")
    assert pages[-1].next_cursor is None


def test_updated_since_reads_only_recent_changes(clm: ClmClient, emu: EmulatorInfo) -> None:
    every = [i for p in clm.pages("agreements") for i in p.items]
    stamps = sorted(i["updated_at"] for i in every)
    middle = stamps[len(stamps) // 2]
    recent = [i for p in clm.pages("agreements", updated_since=middle) for i in p.items]
    assert recent
    assert len(recent) < len(every)
    assert all(i["updated_at"] >= middle for i in recent)


def test_wrong_api_key_is_refused(emu: EmulatorInfo) -> None:
    clients = make_clients(emu)
    wrong = ClmClient(emu.clm_url, "not-the-key", clients.clm.session, clients.policy)
    with pytest.raises(ClmRequestError) as caught:
        list(wrong.pages("counterparties"))
    assert caught.value.status == 401


def test_throttled_clm_read_waits_and_succeeds(clm: ClmClient, emu: EmulatorInfo) -> None:
    emu.set_fault(kind="throttle", path="/clm/api/v1/counterparties", count=1, retry_after=1)
    start = time.monotonic()
    items = [i for p in clm.pages("counterparties") for i in p.items]
    assert time.monotonic() - start >= 1.0
    assert len(items) == _count(emu, "counterparties")


def test_a_page_served_twice_is_read_again(clm: ClmClient, emu: EmulatorInfo) -> None:
    emu.set_fault(kind="clm_page_twice", path="/clm/api/v1/agreement-lines", count=1)
    pages = list(clm.pages("agreement_line", limit=100))
    ids = [i["id"] for p in pages for i in p.items]
    assert len(set(ids)) == _count(emu, "agreement_lines")
    assert len(ids) == len(set(ids)) + 100  # one page came twice; landing keeps one copy


def test_bulk_upsert_reports_each_item(clm: ClmClient) -> None:
    first = next(iter(clm.pages("counterparties", limit=2))).items
    changed = [{"id": item["id"], "email": f"ap+{n}@example.com"} for n, item in enumerate(first)]
    refused = {"id": first[0]["id"], "updated_at": "2020-01-01T00:00:00Z"}
    results = clm.bulk_upsert([*changed, refused])
    assert [(r.id, r.status) for r in results] == [
        (first[0]["id"], "updated"),
        (first[1]["id"], "updated"),
        (first[0]["id"], "error"),
    ]
    assert "updated_at" in (results[2].error or "")
    again = {i["id"]: i for p in clm.pages("counterparties") for i in p.items}
    assert again[first[0]["id"]]["email"] == "ap+0@example.com"


def test_export_folder_is_verified_then_read(emu: EmulatorInfo, tmp_path: Path) -> None:
    made = emu.admin("POST", "clm_export", {"out": str(tmp_path)})
    export = read_export(Path(made["folder"]))
    contracts = export.file("contracts")
    assert contracts is not None
    assert contracts.rows == _count(emu, "contracts")
    lines = contracts.path.read_text(encoding="utf-8").splitlines()
    with contracts.path.open("a", encoding="utf-8") as handle:
        handle.write(lines[0] + "\n")
    with pytest.raises(ClmExportError) as caught:
        read_export(Path(made["folder"]))
    assert caught.value.file == contracts.path.name


def test_scm_side_of_a_generated_world(emu: EmulatorInfo) -> None:
    clients: Clients = make_clients(emu)
    total = clients.odata.count("VendorsV2", cross_company=True)
    assert total == sum(len(p) for p in clients.odata.pages("VendorsV2", cross_company=True))
