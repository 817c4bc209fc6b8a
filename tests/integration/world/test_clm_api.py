"""The CLM API over real HTTPS: keys, paging, updated_since, faults, bulk upsert."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from emulator.server import EmulatorInfo
from emulator.world.clm_json import iso, parse_instant
from tests.integration.world.conftest import Clm, store_rows

COLLECTIONS = {
    "counterparties": "clm.counterparties",
    "contracts": "clm.contracts",
    "agreements": "clm.agreements",
    "agreement-lines": "clm.agreement_lines",
}


@pytest.mark.parametrize("key", [None, "", "not-the-key"])
def test_a_missing_or_wrong_key_gets_401(emu: EmulatorInfo, key: str | None) -> None:
    client = Clm(emu, key=key)
    if key is None:
        del client.session.headers["X-Api-Key"]
    response = client.get("contracts")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("collection", list(COLLECTIONS))
def test_paging_serves_every_object_once_in_order(clm: Clm, collection: str) -> None:
    objects = clm.all(collection, limit=97)
    ids = [o["id"] for o in objects]
    expected = store_rows(clm.info, f"SELECT id FROM {COLLECTIONS[collection]} ORDER BY id")
    assert sorted(ids) == [r[0] for r in expected]
    order = [(o["updated_at"], o["id"]) for o in objects]
    assert order == sorted(order)


def test_objects_carry_the_catalog_fields(clm: Clm) -> None:
    (cpty,) = clm.get("counterparties", limit=1).json()["data"]
    assert list(cpty) == [
        "id", "name", "tax_id", "vendor_account", "business_unit", "country", "address",
        "currency", "payment_terms", "email", "phone", "status", "created_at", "updated_at",
    ]  # fmt: skip
    assert set(cpty["address"]) == {"street", "city", "zip", "state"}
    line = clm.get("agreement-lines", limit=1).json()["data"][0]
    assert isinstance(line["line_no"], int)
    assert isinstance(line["unit_price"], str)
    assert line["updated_at"].endswith("Z")


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"limit": 0}, 400, "invalid_parameter"),
        ({"limit": 1001}, 400, "invalid_parameter"),
        ({"limit": "ten"}, 400, "invalid_parameter"),
        ({"page": 2}, 400, "invalid_parameter"),
        ({"updated_since": "yesterday"}, 400, "invalid_parameter"),
        ({"cursor": "bm90LWEtY3Vyc29y"}, 400, "invalid_cursor"),
    ],
)
def test_bad_parameters_are_refused_with_a_reason(
    clm: Clm, params: dict[str, object], status: int, code: str
) -> None:
    response = clm.get("contracts", **params)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def test_an_unknown_collection_is_404(clm: Clm) -> None:
    response = clm.get("invoices")
    assert response.status_code == 404
    assert "counterparties" in response.json()["error"]["message"]


def test_the_largest_page_is_1000(clm: Clm) -> None:
    body = clm.get("agreement-lines", limit=1000).json()
    assert len(body["data"]) == 1000
    assert body["next_cursor"]


@pytest.mark.parametrize("form", ["%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S+00:00", "%Y-%m-%d"])
def test_updated_since_keeps_objects_updated_at_or_after_it(clm: Clm, form: str) -> None:
    (middle,) = store_rows(clm.info, "SELECT quantile_disc(updated_at, 0.7) FROM clm.contracts")[0]
    since = middle.strftime(form)
    cut = parse_instant(since)
    objects = clm.all("contracts", limit=50, updated_since=since)
    sql = "SELECT count(*) FROM clm.contracts WHERE updated_at >= ?"
    (expected,) = store_rows(clm.info, sql, [cut])[0]
    assert expected > 0
    assert len(objects) == expected
    assert all(parse_instant(o["updated_at"]) >= cut for o in objects)


def test_paging_skips_nothing_while_the_clm_changes(clm: Clm) -> None:
    """Objects updated while a client pages move behind its cursor and are served again: once
    the changes stop, paging on to the end has served every object in its latest state."""
    ids = [r[0] for r in store_rows(clm.info, "SELECT id FROM clm.counterparties ORDER BY id")]
    stop = threading.Event()

    def churn() -> None:
        n = 0
        while not stop.is_set():
            batch = [
                {"id": ids[(n * 7 + i) % len(ids)], "phone": f"+1 555 {n:04d}"} for i in range(5)
            ]
            assert clm.upsert(batch).status_code == 200
            n += 1

    seen: dict[str, str] = {}
    worker = threading.Thread(target=churn)
    worker.start()
    try:
        for number, page in enumerate(clm.pages("counterparties", limit=23)):
            for o in page:
                seen[o["id"]] = max(seen.get(o["id"], ""), o["updated_at"])
            if number == 2:
                clm.info.admin("POST", "mutate", {"fraction": 0.1, "seed": 5})
            if number == 5:
                stop.set()
                worker.join()
    finally:
        stop.set()
        worker.join()
    final = store_rows(clm.info, "SELECT id, updated_at FROM clm.counterparties")
    assert len(final) > len(ids) * 0.99
    for object_id, updated in final:
        assert seen.get(object_id) == iso(updated), object_id


def test_a_page_served_twice_repeats_objects_but_loses_none(clm: Clm) -> None:
    clm.info.set_fault(kind="clm_page_twice", path="/clm/api/v1/agreements", count=1)
    served = [o["id"] for o in clm.all("agreements", limit=40)]
    assert len(served) > len(set(served))
    expected = store_rows(clm.info, "SELECT count(*) FROM clm.agreements")[0][0]
    assert len(set(served)) == expected


def test_throttling_and_outages_come_from_the_fault_switch(clm: Clm) -> None:
    clm.info.set_fault(kind="throttle", path="/clm/api/v1", count=1, retry_after=7)
    throttled = clm.get("contracts", limit=5)
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "7"
    clm.info.set_fault(kind="status", status=503, path="/clm/api/v1", count=2)
    assert [clm.get("contracts", limit=5).status_code for _ in range(3)] == [503, 503, 200]


def test_bulk_upsert_updates_creates_and_reports_errors(clm: Clm) -> None:
    (target, city) = store_rows(
        clm.info, "SELECT id, address.city FROM clm.counterparties LIMIT 1"
    )[0]
    before = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    response = clm.upsert(
        [
            {"id": target, "name": "Renamed Vendor Ltd", "address": {"street": "1 New Street"}},
            {"name": "Brand New Supplier GmbH", "business_unit": "EU-DE-MFG", "country": "DE"},
            {"id": "CPTY-9999999", "name": "Given Id Inc.", "business_unit": "NA-US-MFG"},
            {"id": "CPTY-9999998", "phone": "+1"},
            {"id": target, "colour": "blue"},
            {"name": "Somewhere Ltd", "business_unit": "MARS-BASE"},
            {"id": target, "email": 42},
            "not an object",
        ]
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["status"] for r in results] == [
        "updated", "created", "created", "error", "error", "error", "error", "error",
    ]  # fmt: skip
    assert results[1]["id"].startswith("CPTY-")
    assert "name" in results[3]["error"]
    assert "colour" in results[4]["error"]
    assert "MARS-BASE" in results[5]["error"]
    changed = {o["id"]: o for o in clm.all("counterparties", limit=500, updated_since=before)}
    assert changed[target]["name"] == "Renamed Vendor Ltd"
    assert changed[target]["address"]["street"] == "1 New Street"
    assert changed[target]["address"]["city"] == city
    assert changed["CPTY-9999999"]["status"] == "active"
    assert results[1]["id"] in changed


def test_bulk_upsert_refuses_more_than_1000_items_and_bad_bodies(clm: Clm) -> None:
    assert clm.upsert([{"name": "x"}] * 1001).status_code == 413
    url = f"{clm.info.clm_url}/counterparties/bulk-upsert"
    assert clm.session.post(url, data=b"{", timeout=30).status_code == 400
    assert clm.session.post(url, json={"rows": []}, timeout=30).status_code == 400
