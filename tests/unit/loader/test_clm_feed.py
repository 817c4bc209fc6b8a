"""The CLM feed: one item per counterparty, the CLM's refusals in the ledger, export folders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from connectors.clm import UpsertResult, read_export
from loader import clm_feed, ledger
from loader.plan import make_plan
from tests.unit.loader import kit


class FakeClm:
    def __init__(self) -> None:
        self.sent: list[list[dict[str, Any]]] = []

    def bulk_upsert(self, items: list[dict[str, Any]]) -> list[UpsertResult]:
        self.sent.append(items)
        return [
            UpsertResult(i["id"], "error", "unknown business unit")
            if i["id"] == "CPTY-2"
            else UpsertResult(i["id"], "updated")
            for i in items
        ]


def _planned(channel: str) -> Any:
    con = kit.warehouse()
    kit.write(con, [
        kit.clm_update("CPTY-1", "usmf", name="Contoso Ltd"),
        kit.clm_update("CPTY-1", "usmf", **{"address.city": "Redmond"}),
        kit.clm_update("CPTY-2", "usmf", currency="USD"),
    ])  # fmt: skip
    make_plan(con, "run-1", threshold=10, clm_channel=channel)
    ledger.open_rows(con, "run-1")
    return con


def test_each_counterparty_is_one_item_and_a_refusal_is_recorded() -> None:
    con = _planned("clm_api")
    fake = FakeClm()
    clm_feed.push_feed(con, "run-1", clm=fake, feed_folder=None)  # type: ignore[arg-type]
    assert fake.sent == [[
        {"id": "CPTY-1", "name": "Contoso Ltd", "address.city": "Redmond"},
        {"id": "CPTY-2", "currency": "USD"},
    ]]  # fmt: skip
    rows = con.execute(
        "SELECT record_key, status, scm_message FROM ops.push_ledger ORDER BY seq"
    ).fetchall()
    assert rows == [
        ("CPTY-1", "succeeded", None),
        ("CPTY-1", "succeeded", None),
        ("CPTY-2", "failed", "unknown business unit"),
    ]


def test_a_file_based_clm_gets_a_verifiable_export_folder(tmp_path: Path) -> None:
    con = _planned("clm_export")
    clm_feed.push_feed(con, "run-1", clm=None, feed_folder=tmp_path)
    (folder,) = tmp_path.iterdir()
    export = read_export(folder)  # the same checks a CLM export passes
    lines = (folder / "counterparties.jsonl").read_text().splitlines()
    assert [json.loads(x)["id"] for x in lines] == ["CPTY-1", "CPTY-2"]
    assert export.files[0].rows == 2
    assert ledger.counts(con, "run-1") == {"succeeded": 3}
    result = clm_feed.verify_feed(con, None, "run-1")
    assert (result.checked, result.unverifiable, result.rate) == (3, 3, 1.0)
