"""Keys with quotes cannot change an OData query.

Vendor accounts with an apostrophe, a space or an ampersand are real (the world plants them);
a key value written to close its literal and widen the query (``' or ... ne '``, a closing
parenthesis, ``&$filter=``, a percent-encoded quote, a ``#``) must reach SCM as one value: every
read the connectors build from a key (by key, in a filter, in a split filter list, in a count)
finds exactly the one record whose key that is, or nothing, and a write with such a key changes
nothing. ``tests/integration/connectors/test_scm_live.py`` round-trips the planted accounts
through the same reads; this checks that a hostile value cannot do more.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors import catalog
from connectors.errors import ClmSyncError
from connectors.odata import ODataClient, filter_in
from connectors.odata_query import encoded_length
from flows.clients import build_clients
from tests.reliability.harness import Bed, emulator_sums

WIDENERS = (
    "' or VendorAccountNumber ne '",
    "') or (VendorAccountNumber ne '",
    "'&$filter=VendorAccountNumber ne '",
    "%27 or VendorAccountNumber ne %27",
    "' or true or '",
    "'#",
    "''",
)


QUOTED = ("usmf", "US-O'HARA-000123")  # a planted account's shape (small worlds may lack one)


@pytest.fixture(scope="module")
def odata(bed: Bed) -> Iterator[ODataClient]:
    """The connectors, against the bed's SCM with one more vendor: ``QUOTED``'s account."""
    bed.restore()
    fields = catalog.entity("VendorsV2").field_names
    columns = ", ".join(f'"{f}"' for f in fields)
    template = bed.store.reader().execute(
        f'SELECT {columns} FROM scm."VendorsV2" WHERE "dataAreaId" = ? LIMIT 1',
        [QUOTED[0]],
    )
    row = dict(zip(fields, template.fetchall()[0], strict=True))
    assert bed.store.insert_rows("VendorsV2", [{**row, "VendorAccountNumber": QUOTED[1]}]) == 1
    clients = build_clients(bed.settings)
    try:
        yield clients.odata
    finally:
        clients.close()
        bed.restore()


def _accounts(odata: ODataClient, le: str, flt: str) -> list[str]:
    where = f"dataAreaId eq '{le}' and ({flt})"
    pages = odata.pages("VendorsV2", filter=where, cross_company=True)
    return [r["VendorAccountNumber"] for page in pages for r in page]


def test_an_account_with_a_quote_is_found_exactly(odata: ODataClient) -> None:
    le, account = QUOTED
    keys = {"dataAreaId": le, "VendorAccountNumber": account}
    found = odata.get("VendorsV2", keys, cross_company=True)
    assert found is not None
    assert found["VendorAccountNumber"] == account
    (only,) = filter_in("VendorAccountNumber", [account])
    assert _accounts(odata, le, only) == [account]
    rows = [
        r["VendorAccountNumber"]
        for page in odata.pages_in(
            "VendorsV2", "VendorAccountNumber", [account], filter=f"dataAreaId eq '{le}'",
            cross_company=True,
        )
        for r in page
    ]  # fmt: skip
    assert rows == [account]


@pytest.mark.parametrize("tail", WIDENERS)
def test_a_key_written_to_widen_the_query_finds_nothing(odata: ODataClient, tail: str) -> None:
    le, account = QUOTED
    hostile = account + tail
    keys = {"dataAreaId": le, "VendorAccountNumber": hostile}
    assert odata.get("VendorsV2", keys, cross_company=True) is None
    (only,) = filter_in("VendorAccountNumber", [hostile])
    assert _accounts(odata, le, only) == []
    assert odata.count("VendorsV2", filter=only, cross_company=True) == 0
    values = [hostile, account]
    # A URL budget that fits one value's term at a time: the list is split in two requests.
    one_at_a_time = max(encoded_length(filter_in("VendorAccountNumber", [v])[0]) for v in values)
    split = [
        r
        for page in odata.pages_in(
            "VendorsV2", "VendorAccountNumber", values, cross_company=True,
            max_filter_length=one_at_a_time,
        )
        for r in page
    ]  # fmt: skip
    assert [r["VendorAccountNumber"] for r in split] == [account]


def test_a_write_with_a_hostile_key_changes_nothing(bed: Bed, odata: ODataClient) -> None:
    contract = (
        bed.store.reader()
        .execute('SELECT "LegalEntityId", "ContractId" FROM scm."CLMIntegrationContracts" LIMIT 1')
        .fetchall()[0]
    )
    before = emulator_sums(bed.store)
    for tail in WIDENERS:
        keys = {"LegalEntityId": contract[0], "ContractId": f"{contract[1]}{tail}"}
        with pytest.raises(ClmSyncError):
            odata.update("CLMIntegrationContracts", keys, {"ContractName": "changed"})
        with pytest.raises(ClmSyncError):
            odata.delete("CLMIntegrationContracts", keys)
    assert emulator_sums(bed.store) == before
