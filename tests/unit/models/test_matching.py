"""The counterparty matcher: blocking keeps comparisons to vendors that share an address or a
name block, a sure best candidate links, an unsure one goes to review, nothing is guessed."""

from __future__ import annotations

from tests.unit.models.conftest import Warehouse, counterparty, vendor


def test_only_vendors_sharing_a_block_are_compared(wh: Warehouse) -> None:
    vendors = [
        # the counterparty's vendor: same address, the name with another legal form
        vendor("demf", "DE-V0000001", "Pohl Federdepot GmbH", AddressStreet="Ringstraße 7",
               AddressZipCode="20549", AddressCity="Hamburg"),
        # same first two words, elsewhere: compared (a small name block)
        vendor("demf", "DE-V0000002", "Pohl Federdepot Süd KG", AddressStreet="Allee 3",
               AddressZipCode="70173", AddressCity="Stuttgart"),
        # same name in another legal entity: never compared
        vendor("gbsi", "GB-V0000001", "Pohl Federdepot GmbH", AddressStreet="Ringstraße 7",
               AddressZipCode="20549", AddressCity="Hamburg"),
    ]  # fmt: skip
    # Thirty vendors starting "Lang Verpackung": a name block too large to be worth comparing.
    vendors += [
        vendor("demf", f"DE-V10000{i:02d}", f"Lang Verpackung {i} AG",
               AddressStreet=f"Weg {i}", AddressZipCode=f"10{i:03d}")
        for i in range(30)
    ]  # fmt: skip
    wh.scm("VendorsV2", vendors)
    wh.clm(
        "counterparty",
        [
            counterparty("CPTY-1", "Pohl Federdepot G.m.b.H.", street="Ringstraße 7",
                         zip="20549", city="Hamburg"),
            counterparty("CPTY-2", "Lang Verpackung Nord AG", street="Anderswo 1",
                         zip="99999", city="Erfurt"),
        ],
    )  # fmt: skip
    wh.build("+int_counterparty_links")
    assert wh.rows(
        "SELECT counterparty_id, vendor_account, candidate_rank, same_postcode, same_street "
        "FROM intermediate.int_counterparty_name_candidates ORDER BY 1, 3"
    ) == [
        ("CPTY-1", "DE-V0000001", 1, True, True),
        ("CPTY-1", "DE-V0000002", 2, False, False),
    ]
    assert wh.rows(
        "SELECT counterparty_id, link_status, link_method, vendor_account, confidence > 0.85 "
        "FROM intermediate.int_counterparty_links ORDER BY 1"
    ) == [
        ("CPTY-1", "linked", "name", "DE-V0000001", True),
        ("CPTY-2", "unlinked", None, None, None),
    ]


def test_an_unsure_best_candidate_goes_to_review(wh: Warehouse) -> None:
    wh.scm(
        "VendorsV2",
        [
            vendor("demf", "DE-V0000001", "Hahn Energiehaus AG", AddressStreet="Kai 2",
                   AddressZipCode="37640"),
            vendor("demf", "DE-V0000002", "Hahn Energiehaus Nord AG", AddressStreet="Kai 2",
                   AddressZipCode="37640"),
        ],
    )  # fmt: skip
    # Two vendors at the counterparty's address with nearly its name: no guess.
    wh.clm(
        "counterparty",
        [counterparty("CPTY-1", "Hahn Energiehaus", street="Kai 2", zip="37640")],
    )
    wh.build("+rpt_unlinked_counterparties")
    assert wh.rows(
        "SELECT link_status, vendor_account, candidate_vendor_account IS NOT NULL "
        "FROM intermediate.int_counterparty_links"
    ) == [("review", None, True)]
    assert wh.rows("SELECT kind, needs_review FROM reports.rpt_unlinked_counterparties") == [
        ("counterparty_unlinked", True)
    ]


def test_tax_id_links_on_letters_and_digits_when_one_vendor_has_it(wh: Warehouse) -> None:
    wh.scm(
        "VendorsV2",
        [
            vendor("usmf", "US-V0000001", "Ashford Inc.", TaxExemptNumber="12-3456789"),
            vendor("usmf", "US-V0000002", "Borealis Inc.", TaxExemptNumber="98-7654321"),
            vendor("usmf", "US-V0000003", "Cobalt Inc.", TaxExemptNumber="98-7654321"),
        ],
    )
    wh.clm(
        "counterparty",
        [
            counterparty("CPTY-1", "Ashford", tax_id="12 3456789", business_unit="NA-US-MFG"),
            # two vendors share this tax id: it identifies neither
            counterparty("CPTY-2", "Zephyrine", tax_id="987654321", business_unit="NA-US-SVC",
                         street="1 Market Square", zip="00000"),
        ],
    )  # fmt: skip
    wh.build("+int_counterparty_links")
    assert wh.rows(
        "SELECT counterparty_id, link_status, link_method, vendor_account "
        "FROM intermediate.int_counterparty_links ORDER BY 1"
    ) == [
        ("CPTY-1", "linked", "tax_id", "US-V0000001"),
        ("CPTY-2", "unlinked", None, None),
    ]
