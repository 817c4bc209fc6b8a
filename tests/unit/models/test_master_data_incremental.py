"""int_counterparty_master_data_diffs is built from the changes of the links, the counterparties
and the vendors: after each change below only the counterparties it touches are compared again,
and every table holds exactly what a full rebuild gives."""

from __future__ import annotations

from tests.unit.models.conftest import Warehouse, counterparty, vendor
from tests.unit.models.test_links_incremental import _vendor_snapshot
from tests.unit.models.test_mapped_incremental import _assert_same_as_full_rebuild

DIFFS = (
    "SELECT counterparty_id, vendor_account, field, scm_value, clm_value "
    "FROM intermediate.int_counterparty_master_data_diffs ORDER BY ALL"
)


def _compared_again(wh: Warehouse) -> int:
    """Rows the model wrote in its last build (the counterparties compared again's diffs)."""
    rows = wh.rows(
        "SELECT arg_max(rows, started_at) FROM ops.model_runs "
        "WHERE model = 'int_counterparty_master_data_diffs'"
    )
    return int(rows[0][0])  # type: ignore[call-overload]


def _checked(wh: Warehouse) -> None:
    """Compare with a full rebuild, then build once more: after a full rebuild the models that
    read changes start from nothing, and the next change is read incrementally again."""
    _assert_same_as_full_rebuild(wh)
    wh.build()


def _world(wh: Warehouse) -> None:
    wh.scm(
        "VendorsV2",
        [vendor("demf", "DE-V1", "Alpha GmbH"), vendor("demf", "DE-V2", "Beta GmbH"),
         vendor("demf", "DE-V3", "Gamma AG", AddressCity="Berlin")],
    )  # fmt: skip
    wh.clm(
        "counterparty",
        [counterparty("CP-1", "Alpha GmbH", vendor_account="DE-V1"),
         counterparty("CP-2", "Beta GmbH", vendor_account="DE-V2"),
         counterparty("CP-3", "Gamma AG", vendor_account="DE-V3")],
    )  # fmt: skip
    wh.build()
    wh.build()


def test_a_vendor_changed_in_scm_is_compared_again(wh: Warehouse) -> None:
    _world(wh)
    assert wh.rows(DIFFS) == [("CP-3", "DE-V3", "AddressCity", "Berlin", "München")]
    wh.scm("VendorsV2", [vendor("demf", "DE-V1", "Alpha GmbH", AddressStreet="Ring 2")])
    wh.build()
    assert wh.rows(DIFFS) == [
        ("CP-1", "DE-V1", "AddressStreet", "Ring 2", "Hauptstraße 1"),
        ("CP-3", "DE-V3", "AddressCity", "Berlin", "München"),
    ]
    assert _compared_again(wh) == 1
    _checked(wh)

    _vendor_snapshot(wh, ["DE-V2", "DE-V3"])  # DE-V1 is gone: CP-1's vendor is missing
    wh.build()
    assert wh.rows(DIFFS) == [("CP-3", "DE-V3", "AddressCity", "Berlin", "München")]
    assert _compared_again(wh) == 0
    _assert_same_as_full_rebuild(wh)


def test_a_counterparty_changed_in_the_clm_is_compared_again(wh: Warehouse) -> None:
    _world(wh)
    # CP-2 renames itself and now carries DE-V1's account.
    wh.clm("counterparty", [counterparty("CP-2", "Beta Neu GmbH", vendor_account="DE-V1")])
    wh.build()
    assert wh.rows(DIFFS) == [
        ("CP-2", "DE-V1", "VendorOrganizationName", "Alpha GmbH", "Beta Neu GmbH"),
        ("CP-3", "DE-V3", "AddressCity", "Berlin", "München"),
    ]
    assert _compared_again(wh) == 1
    _checked(wh)

    # CP-3 moves to Berlin: it no longer differs, and its row goes.
    moved = counterparty("CP-3", "Gamma AG", vendor_account="DE-V3", city="Berlin")
    wh.clm("counterparty", [moved])
    wh.build()
    assert wh.rows(DIFFS) == [
        ("CP-2", "DE-V1", "VendorOrganizationName", "Alpha GmbH", "Beta Neu GmbH"),
    ]
    assert _compared_again(wh) == 0
    _assert_same_as_full_rebuild(wh)
