"""Resource paths and key predicates: quotes, percent-encoding, composite and numeric keys."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connectors import catalog
from emulator.odata_path import PathError, format_key, parse_keys, parse_path

VENDORS = catalog.entity("VendorsV2")
LINES = catalog.entity("CLMIntegrationPurchaseAgreementLines")


def test_encoded_slash_stays_inside_the_key() -> None:
    path = parse_path("VendorsV2(dataAreaId='usmf',VendorAccountNumber='A%2FB')/x")
    assert path.segment == "VendorsV2"
    assert path.key_text == "dataAreaId='usmf',VendorAccountNumber='A/B'"
    assert path.tail == ["x"]


def test_doubled_quotes_commas_and_equals_inside_values() -> None:
    keys = parse_keys(VENDORS, "dataAreaId='usmf',VendorAccountNumber='O''Hara, a=b'")
    assert keys == {"dataAreaId": "usmf", "VendorAccountNumber": "O'Hara, a=b"}


def test_numeric_and_positional_keys() -> None:
    keys = parse_keys(
        LINES, "PurchaseAgreementLegalEntityId='usmf',PurchaseAgreementId='PA1',LineNumber=3"
    )
    assert keys["LineNumber"] == Decimal(3)
    assert parse_keys(catalog.entity("Currencies"), "'USD'") == {"CurrencyCode": "USD"}


@pytest.mark.parametrize(
    "text",
    [
        "dataAreaId='usmf'",  # missing key
        "dataAreaId='usmf',VendorAccountNumber='x',VendorAccountNumber='y'",
        "dataAreaId='usmf',VendorAccountNumber=5",  # a number for a text key
        "dataAreaId='usmf',VendorAccountNumber='open",
        "'usmf'",  # positional on a composite key
    ],
)
def test_malformed_keys(text: str) -> None:
    with pytest.raises(PathError):
        parse_keys(VENDORS, text)


def test_format_key_round_trips() -> None:
    row = {
        "PurchaseAgreementLegalEntityId": "usmf",
        "PurchaseAgreementId": "PA'1 &2",
        "LineNumber": Decimal("3.000000"),
    }
    text = format_key(LINES, row)
    assert text == (
        "CLMIntegrationPurchaseAgreementLines(PurchaseAgreementLegalEntityId='usmf',"
        "PurchaseAgreementId='PA''1%20%262',LineNumber=3)"
    )
    parsed = parse_path(text)
    assert parse_keys(LINES, parsed.key_text or "") == {**row, "LineNumber": Decimal(3)}
