from __future__ import annotations

import hashlib
import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from connectors.clm import ClmClient, list_exports, read_export
from connectors.errors import ClmExportError, ClmRequestError, ClmUnavailable
from tests.unit.connectors.fakes import (
    Clock,
    FakeTransport,
    fake_session,
    fast_policy,
    response,
    sequence,
)

BASE = "https://clm.fake.test/clm/api/v1"
KEY = "clm-key-0123456789"


def _client(transport: FakeTransport, clock: Clock | None = None) -> ClmClient:
    return ClmClient(
        BASE, KEY, fake_session(transport), fast_policy(clock or Clock(), max_attempts=3)
    )


def _pages(request: requests.PreparedRequest) -> requests.Response:
    query = parse_qs(urlsplit(request.url or "").query)
    cursor = query.get("cursor", [None])[0]
    if request.headers.get("X-Api-Key") != KEY:
        return response(request, 401, {"error": "invalid API key"})
    if cursor is None:
        return response(request, 200, {"data": [{"id": "K-1"}, {"id": "K-2"}], "next_cursor": "c2"})
    return response(request, 200, {"data": [{"id": "K-3"}], "next_cursor": None})


def test_pages_follow_the_cursor_with_key_and_filters() -> None:
    transport = FakeTransport().on("GET", r"/contracts\?", _pages)
    pages = list(
        _client(transport).pages("contract", updated_since="2026-01-01T00:00:00Z", limit=2)
    )
    assert [[i["id"] for i in p.items] for p in pages] == [["K-1", "K-2"], ["K-3"]]
    assert [(p.cursor, p.next_cursor) for p in pages] == [(None, "c2"), ("c2", None)]
    first = parse_qs(urlsplit(transport.requests[0].url or "").query)
    assert first == {"limit": ["2"], "updated_since": ["2026-01-01T00:00:00Z"]}
    assert transport.requests[0].headers["X-Api-Key"] == KEY


def test_wrong_key_is_terminal_and_names_the_setting() -> None:
    transport = FakeTransport().on("GET", r"contracts", _pages)
    client = ClmClient(BASE, "wrong-key-xyz", fake_session(transport), fast_policy(Clock()))
    with pytest.raises(ClmRequestError, match=r"clm\.api_key") as caught:
        list(client.pages("contracts"))
    assert caught.value.status == 401


def test_throttling_waits_and_outages_become_unavailable() -> None:
    clock = Clock()
    transport = FakeTransport().on(
        "GET",
        r"counterparties",
        sequence(
            lambda r: response(r, 429, {"error": "slow down"}, {"Retry-After": "2"}),
            lambda r: response(r, 200, {"data": [], "next_cursor": None}),
        ),
    )
    assert [p.items for p in _client(transport, clock).pages("counterparties")] == [[]]
    assert clock.sleeps == [2.0]
    down = FakeTransport().on("GET", r"counterparties", lambda r: response(r, 503, "down"))
    with pytest.raises(ClmUnavailable):
        list(_client(down).pages("counterparties"))


def test_a_page_served_twice_is_read_again_but_a_stuck_cursor_stops() -> None:
    calls = {"n": 0}

    def flaky(request: requests.PreparedRequest) -> requests.Response:
        calls["n"] += 1
        query = parse_qs(urlsplit(request.url or "").query)
        cursor = query.get("cursor", [None])[0]
        if cursor is None:
            return response(request, 200, {"data": [{"id": "A"}], "next_cursor": "c1"})
        if calls["n"] == 2:  # the first page again, pointing at the same cursor
            return response(request, 200, {"data": [{"id": "A"}], "next_cursor": "c1"})
        return response(request, 200, {"data": [{"id": "B"}], "next_cursor": None})

    transport = FakeTransport().on("GET", r"agreements", flaky)
    items = [i["id"] for p in _client(transport).pages("agreements") for i in p.items]
    assert items == ["A", "A", "B"]

    stuck = FakeTransport().on(
        "GET",
        r"agreements",
        lambda r: response(r, 200, {"data": [{"id": "A"}], "next_cursor": "same"}),
    )
    with pytest.raises(ClmUnavailable, match="same page 4 times"):
        list(_client(stuck).pages("agreements"))


def test_bulk_upsert_sends_at_most_1000_items_per_call() -> None:
    calls: list[int] = []

    def upsert(request: requests.PreparedRequest) -> requests.Response:
        items = json.loads(request.body)["items"]  # type: ignore[arg-type]
        calls.append(len(items))
        return response(
            request,
            200,
            {
                "results": [
                    {
                        "id": i["id"],
                        "status": "error" if i["id"] == "CPTY-0000007" else "updated",
                        "error": "unknown country" if i["id"] == "CPTY-0000007" else None,
                    }
                    for i in items
                ]
            },
        )

    transport = FakeTransport().on("POST", r"/counterparties/bulk-upsert$", upsert)
    items = [{"id": f"CPTY-{n:07d}", "name": f"Vendor {n}"} for n in range(2500)]
    results = _client(transport).bulk_upsert(items)
    assert calls == [1000, 1000, 500]
    assert len(results) == 2500
    assert results[7].status == "error"
    assert results[7].error == "unknown country"
    assert sum(r.status == "updated" for r in results) == 2499


def _export(root: Path, rows: dict[str, list[dict[str, object]]]) -> Path:
    folder = root / "exp-1"
    folder.mkdir(parents=True)
    files = []
    for collection, items in rows.items():
        data = "".join(json.dumps(i) + "\n" for i in items).encode()
        (folder / f"{collection}.jsonl").write_bytes(data)
        files.append(
            {
                "object": collection,
                "file": f"{collection}.jsonl",
                "rows": len(items),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        )
    manifest = {
        "export_id": "exp-1",
        "created_at": "2026-01-02T00:00:00Z",
        "since": None,
        "files": files,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def test_export_folder_is_verified_before_use(tmp_path: Path) -> None:
    folder = _export(
        tmp_path,
        {"counterparties": [{"id": "CPTY-1"}], "contracts": [{"id": "K-1"}, {"id": "K-2"}]},
    )
    export = read_export(folder)
    assert export.export_id == "exp-1"
    found = export.file("contract")
    assert found is not None
    assert found.rows == 2
    assert found.path == folder / "contracts.jsonl"
    assert list_exports(tmp_path) == [folder]


def test_export_with_changed_rows_or_checksums_is_refused(tmp_path: Path) -> None:
    folder = _export(tmp_path, {"contracts": [{"id": "K-1"}, {"id": "K-2"}]})
    with (folder / "contracts.jsonl").open("a") as handle:
        handle.write('{"id": "K-3"}\n')
    with pytest.raises(ClmExportError) as caught:
        read_export(folder)
    assert caught.value.file == "contracts.jsonl"
    assert "SHA-256" in caught.value.reason

    manifest = json.loads((folder / "manifest.json").read_text())
    data = (folder / "contracts.jsonl").read_bytes()
    manifest["files"][0]["sha256"] = hashlib.sha256(data).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ClmExportError, match="3 rows, the manifest says 2"):
        read_export(folder)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda m: m["files"][0].update(file="../outside.jsonl"), "unsafe path"),
        (lambda m: m["files"][0].update(file="gone.jsonl"), "missing"),
        (lambda m: m["files"][0].update(object="invoices"), "unknown object"),
        (lambda m: m["files"][0].pop("sha256"), "lacks rows or sha256"),
        (lambda m: m.pop("files"), "no 'files' list"),
    ],
)
def test_broken_manifests_name_the_problem(tmp_path: Path, change, reason: str) -> None:  # type: ignore[no-untyped-def]
    folder = _export(tmp_path, {"contracts": [{"id": "K-1"}]})
    manifest = json.loads((folder / "manifest.json").read_text())
    change(manifest)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ClmExportError, match=reason):
        read_export(folder)


def test_folder_without_manifest_is_not_an_export(tmp_path: Path) -> None:
    with pytest.raises(ClmExportError, match=r"no manifest\.json"):
        read_export(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(ClmExportError, match="not valid JSON"):
        read_export(tmp_path)
