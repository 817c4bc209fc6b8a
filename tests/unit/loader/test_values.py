"""Values between deltas text, OData JSON and the read-back."""

from __future__ import annotations

import pytest

from connectors import catalog
from loader import values

LINES = catalog.entity("CLMIntegrationPurchaseAgreementLines")
CONTRACTS = catalog.entity("CLMIntegrationContracts")
VENDORS = catalog.entity("VendorsV2")


def test_delta_text_becomes_scm_odata_json() -> None:
    assert values.to_odata(LINES.field("EffectiveDate"), "2025-03-01") == "2025-03-01T12:00:00Z"
    assert values.to_odata(LINES.field("Price"), "12.5") == 12.5
    assert values.to_odata(LINES.field("Price"), "12.000") == 12
    assert values.to_odata(LINES.field("IsPriceAndDiscountFixed"), "Yes") == "Yes"
    assert values.to_odata(VENDORS.field("VendorHoldReleaseDate"), "2025-03-01T08:30:00+02:00") == (
        "2025-03-01T06:30:00Z"
    )


def test_a_missing_value_clears_the_field_the_way_scm_writes_blanks() -> None:
    assert values.to_odata(LINES.field("ExpirationDate"), None) == catalog.BLANK_DATE
    assert values.to_odata(VENDORS.field("VendorHoldReleaseDate"), None) == catalog.BLANK_DATETIME
    assert values.to_odata(LINES.field("ItemNumber"), None) == ""
    assert values.to_odata(LINES.field("Price"), None) is None


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("EffectiveDate", "03/01/2025", "ISO 8601"),
        ("Price", "12,50", "not a number"),
        ("Price", "1234567890123.4567", "significant digits"),
        ("IsPriceAndDiscountFixed", "Maybe", "not a member of NoYes"),
    ],
)
def test_values_scm_cannot_take_are_named(field: str, value: str, needle: str) -> None:
    problem = values.check(LINES.field(field), value)
    assert problem is not None
    assert field in problem
    assert needle in problem


@pytest.mark.parametrize(
    ("field", "intended", "actual"),
    [
        ("EffectiveDate", "2025-03-01", "2025-03-01T12:00:00Z"),
        ("ExpirationDate", None, "1900-01-01T12:00:00Z"),
        ("Price", "12.5", 12.50),
        ("LineNumber", "3", 3.0),
        ("ItemNumber", None, ""),
    ],
)
def test_equal_meanings_compare_equal(field: str, intended: object, actual: object) -> None:
    assert values.same(LINES.field(field), intended, actual)


def test_different_values_do_not() -> None:
    assert not values.same(LINES.field("Price"), "12.5", 12.49)
    assert not values.same(LINES.field("EffectiveDate"), "2025-03-01", "2025-03-02T12:00:00Z")
    assert not values.same(CONTRACTS.field("ContractStatus"), "Executed", "Terminated")
