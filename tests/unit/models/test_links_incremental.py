"""int_counterparty_links is built incrementally: after each change below it holds exactly what
a full rebuild gives (so do the models after it), and only the counterparties the change
touched were linked again."""

from __future__ import annotations

import pyarrow as pa

from tests.unit.models.conftest import Warehouse, counterparty, vendor
from tests.unit.models.test_mapped_incremental import _assert_same_as_full_rebuild
from warehouse import relations, tombstones

VENDORS = [
    vendor("demf", "DE-V1", "Alpha Stahlbau GmbH", TaxExemptNumber="DE111"),
    vendor("demf", "DE-V2", "Beta Kunststoff GmbH", TaxExemptNumber="DE111",
           AddressStreet="Ring 9", AddressZipCode="20095", AddressCity="Hamburg"),
    vendor("demf", "DE-V3", "Gamma Feinmechanik KG", AddressStreet="Weg 3",
           AddressZipCode="70173", AddressCity="Stuttgart"),
]  # fmt: skip
COUNTERPARTIES = [
    counterparty("CP-A", "Alpha Stahlbau GmbH", vendor_account="DE-V1"),
    # an account SCM does not have (yet)
    counterparty("CP-M", "Delta Logistik AG", vendor_account="DE-V4"),
    # no account; the tax id two vendors share identifies neither
    counterparty("CP-T", "Unbekannt", tax_id="DE 111", street="Nirgendwo 5", zip="01067",
                 city="Dresden"),
    # no account, no tax id: found by name and address
    counterparty("CP-N", "Gamma Feinmechanik", street="Weg 3", zip="70173", city="Stuttgart"),
]  # fmt: skip


def _links(wh: Warehouse) -> dict[str, tuple[object, ...]]:
    return {
        str(r[0]): tuple(r[1:])
        for r in wh.rows(
            "SELECT counterparty_id, link_status, link_method, vendor_account, "
            "can_receive_documents FROM intermediate.int_counterparty_links"
        )
    }


def _linked_again(wh: Warehouse) -> int:
    rows = wh.rows(
        "SELECT arg_max(rows, started_at) FROM ops.model_runs "
        "WHERE model = 'int_counterparty_links'"
    )
    return int(rows[0][0])  # type: ignore[call-overload]


def _vendor_snapshot(wh: Warehouse, accounts: list[str]) -> None:
    tombstones.apply_key_snapshot(
        wh.con,
        relations.scm("VendorsV2"),
        pa.table({"dataAreaId": ["demf"] * len(accounts), "VendorAccountNumber": accounts}),
        run_id="snap",
        legal_entity="demf",
    )


def _world(wh: Warehouse) -> None:
    wh.scm("VendorsV2", VENDORS)
    wh.clm("counterparty", COUNTERPARTIES)
    wh.build()


def test_a_first_build_links_everything_and_an_idle_one_nothing(wh: Warehouse) -> None:
    _world(wh)
    assert _linked_again(wh) == 4
    assert _links(wh) == {
        "CP-A": ("linked", "vendor_account", "DE-V1", True),
        "CP-M": ("vendor_missing", "vendor_account", None, False),
        "CP-T": ("unlinked", None, None, False),
        "CP-N": ("linked", "name", "DE-V3", True),
    }
    wh.build()
    assert _linked_again(wh) == 0
    _assert_same_as_full_rebuild(wh)


def test_vendor_changes_relink_the_counterparties_they_touch(wh: Warehouse) -> None:
    _world(wh)
    # DE-V1 goes on hold; DE-V2 drops the shared tax id (DE111 now names DE-V1 alone);
    # SCM gets DE-V4, the account CP-M carries.
    wh.scm(
        "VendorsV2",
        [vendor("demf", "DE-V1", "Alpha Stahlbau GmbH", TaxExemptNumber="DE111",
                OnHoldStatus="All"),
         vendor("demf", "DE-V2", "Beta Kunststoff GmbH", TaxExemptNumber="DE222",
                AddressStreet="Ring 9", AddressZipCode="20095", AddressCity="Hamburg"),
         vendor("demf", "DE-V4", "Delta Logistik AG")],
    )  # fmt: skip
    wh.build()
    assert _links(wh) == {
        "CP-A": ("linked", "vendor_account", "DE-V1", False),
        "CP-M": ("linked", "vendor_account", "DE-V4", True),
        "CP-T": ("linked", "tax_id", "DE-V1", False),
        "CP-N": ("linked", "name", "DE-V3", True),
    }
    assert _linked_again(wh) == 3
    _assert_same_as_full_rebuild(wh)

    # DE-V3 is renamed out of CP-N's reach, then deleted; DE-V2 takes DE111 back.
    wh.scm("VendorsV2", [vendor("demf", "DE-V3", "Omega Textil SE", AddressStreet="Weg 3",
                                AddressZipCode="70173", AddressCity="Stuttgart"),
                         vendor("demf", "DE-V2", "Beta Kunststoff GmbH", TaxExemptNumber="DE111",
                                AddressStreet="Ring 9", AddressZipCode="20095",
                                AddressCity="Hamburg")])  # fmt: skip
    wh.build()
    assert _links(wh)["CP-N"][0] in {"review", "unlinked"}
    assert _links(wh)["CP-T"] == ("unlinked", None, None, False)
    _assert_same_as_full_rebuild(wh)
    _vendor_snapshot(wh, ["DE-V1", "DE-V2", "DE-V4"])
    wh.build()
    assert _links(wh)["CP-N"] == ("unlinked", None, None, False)
    assert _linked_again(wh) == 1  # CP-N: its only candidate is gone
    _assert_same_as_full_rebuild(wh)


def test_a_deleted_vendor_unlinks_and_links_again_when_back(wh: Warehouse) -> None:
    _world(wh)
    _vendor_snapshot(wh, ["DE-V2", "DE-V3"])  # DE-V1 is gone
    wh.build()
    assert _links(wh)["CP-A"] == ("vendor_missing", "vendor_account", None, False)
    # DE111 now names DE-V2 alone
    assert _links(wh)["CP-T"] == ("linked", "tax_id", "DE-V2", True)
    assert _linked_again(wh) == 2
    _assert_same_as_full_rebuild(wh)

    # back with the row (and load id) it had: no watermark shows it
    _vendor_snapshot(wh, ["DE-V1", "DE-V2", "DE-V3"])
    wh.build()
    assert _links(wh)["CP-A"] == ("linked", "vendor_account", "DE-V1", True)
    assert _links(wh)["CP-T"] == ("unlinked", None, None, False)
    _assert_same_as_full_rebuild(wh)


def test_counterparties_changed_gone_and_back(wh: Warehouse) -> None:
    _world(wh)
    moved = {"street": "Nirgendwo 5", "zip": "01067", "city": "Dresden"}
    wh.clm("counterparty", [counterparty("CP-T", "Unbekannt", vendor_account="DE-V2", **moved)])
    wh.build()
    assert _links(wh)["CP-T"] == ("linked", "vendor_account", "DE-V2", True)
    assert _linked_again(wh) == 1
    _assert_same_as_full_rebuild(wh)

    tombstones.apply_key_snapshot(
        wh.con, relations.clm("counterparty"), pa.table({"id": ["CP-A", "CP-M", "CP-T"]}),
        run_id="snap", legal_entity=None,
    )  # fmt: skip
    wh.build()
    assert sorted(_links(wh)) == ["CP-A", "CP-M", "CP-T"]
    assert _linked_again(wh) == 0  # CP-N's row was only deleted
    _assert_same_as_full_rebuild(wh)

    tombstones.apply_key_snapshot(
        wh.con, relations.clm("counterparty"), pa.table({"id": ["CP-A", "CP-M", "CP-N", "CP-T"]}),
        run_id="snap", legal_entity=None,
    )  # fmt: skip
    wh.build()
    assert _links(wh)["CP-N"] == ("linked", "name", "DE-V3", True)
    _assert_same_as_full_rebuild(wh)
