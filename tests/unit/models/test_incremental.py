"""int_vendors is incremental: a deleted vendor stays with is_current false (models read only
current vendors), a vendor back after a delete is current again, a changed one is normalised
again."""

from __future__ import annotations

import pyarrow as pa

from tests.unit.models.conftest import Warehouse, vendor
from warehouse import relations, tombstones


def _snapshot(wh: Warehouse, accounts: list[str]) -> None:
    keys = pa.table({"dataAreaId": ["demf"] * len(accounts), "VendorAccountNumber": accounts})
    tombstones.apply_key_snapshot(
        wh.con, relations.scm("VendorsV2"), keys, run_id="snap", legal_entity="demf"
    )


def _vendors(wh: Warehouse) -> list[tuple[object, ...]]:
    return wh.rows(
        "SELECT vendor_account, vendor_name_cmp, is_current FROM intermediate.int_vendors "
        "ORDER BY 1"
    )


def test_deleted_vendors_stop_being_current_and_come_back(wh: Warehouse) -> None:
    wh.scm(
        "VendorsV2",
        [vendor("demf", "DE-V1", "Alpha  GmbH"), vendor("demf", "DE-V2", "Beta GmbH")],
    )
    wh.build("+int_vendors")
    assert _vendors(wh) == [("DE-V1", "alpha gmbh", True), ("DE-V2", "beta gmbh", True)]

    _snapshot(wh, ["DE-V1"])  # DE-V2 is gone from SCM
    wh.build("+int_vendors")
    assert _vendors(wh) == [("DE-V1", "alpha gmbh", True), ("DE-V2", "beta gmbh", False)]

    _snapshot(wh, ["DE-V1", "DE-V2"])  # found again: its old row is current again
    wh.scm("VendorsV2", [vendor("demf", "DE-V1", "Alpha Neu GmbH")])  # and DE-V1 renamed
    wh.build("+int_vendors")
    assert _vendors(wh) == [("DE-V1", "alpha neu gmbh", True), ("DE-V2", "beta gmbh", True)]
