from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors import catalog
from connectors.odata_query import encoded_length, filter_in, filter_keys, format_key, literal


def parse_key(segment: str) -> dict[str, str]:
    """Decode a key segment the way an OData server does (the reference grammar)."""
    assert segment.startswith("(")
    assert segment.endswith(")")
    text = segment[1:-1]
    values: dict[str, str] = {}
    position = 0
    while position < len(text):
        equals = text.index("=", position)
        name = text[position:equals]
        position = equals + 1
        if text[position] == "'":
            position += 1
            raw: list[str] = []
            while True:
                quote_at = text.index("'", position)
                raw.append(text[position:quote_at])
                if text[quote_at + 1 : quote_at + 2] == "'":
                    raw.append("'")
                    position = quote_at + 2
                    continue
                position = quote_at + 1
                break
            values[name] = unquote("".join(raw))
        else:
            end = text.find(",", position)
            end = len(text) if end < 0 else end
            values[name] = unquote(text[position:end])
            position = end
        if position < len(text):
            assert text[position] == ","
            position += 1
    return values


def test_composite_key_in_catalog_order_with_escaping() -> None:
    key = format_key(
        "VendorsV2", {"VendorAccountNumber": "US-O'HARA-000123", "dataAreaId": "usmf", "x": 1}
    )
    assert key == "(dataAreaId='usmf',VendorAccountNumber='US-O''HARA-000123')"
    spaced = format_key("VendorsV2", {"dataAreaId": "demf", "VendorAccountNumber": "DE-V 0001234"})
    assert spaced == "(dataAreaId='demf',VendorAccountNumber='DE-V%200001234')"
    amp = format_key("VendorsV2", {"dataAreaId": "gbsi", "VendorAccountNumber": "GB-A&B-000012"})
    assert "GB-A%26B-000012" in amp


def test_numeric_keys_are_bare() -> None:
    key = format_key(
        "CLMIntegrationPurchaseAgreementLines",
        {
            "PurchaseAgreementLegalEntityId": "usmf",
            "PurchaseAgreementId": "PA0001234",
            "LineNumber": Decimal("3.0000000000"),
        },
    )
    assert key.endswith(",LineNumber=3)")
    assert format_key("CustomThings", {"ID": 0}) == "(ID=0)"


def test_missing_key_fields_are_named() -> None:
    with pytest.raises(ValueError, match="VendorAccountNumber"):
        format_key("VendorsV2", {"dataAreaId": "usmf"})


@given(account=st.text(min_size=1, max_size=40), company=st.sampled_from(["usmf", "demf"]))
def test_any_text_key_round_trips(account: str, company: str) -> None:
    segment = format_key("VendorsV2", {"dataAreaId": company, "VendorAccountNumber": account})
    assert parse_key(segment) == {"dataAreaId": company, "VendorAccountNumber": account}
    # Nothing in the segment can end the path or start a query.
    assert not any(c in segment for c in "/?# &")


def test_literals_by_type() -> None:
    vendors = catalog.entity("VendorsV2")
    assert literal("O'Hara") == "'O''Hara'"
    assert literal(None) == "null"
    assert literal(12, "int") == "12"
    assert literal("12.50", "decimal") == "12.5"
    assert literal(dt.date(2025, 3, 1), "date") == "2025-03-01T12:00:00Z"
    assert literal("2025-03-01T13:05:00Z", "datetime") == "2025-03-01T13:05:00Z"
    on_hold = vendors.field("OnHoldStatus")
    assert literal("All", on_hold) == "Microsoft.Dynamics.DataEntities.CustVendorBlocked'All'"
    with pytest.raises(ValueError, match="not a member"):
        literal("Sometimes", on_hold)
    with pytest.raises(ValueError, match="not an integer"):
        literal("1.5", "int")
    with pytest.raises(ValueError, match="needs the catalog Field"):
        literal("x", "enum")


def test_filter_in_splits_under_the_url_budget_and_keeps_every_value() -> None:
    values = [f"US-V{n:07d}" for n in range(500)] + ["US-O'HARA-000123", "US-V0000001"]
    filters = filter_in("VendorAccountNumber", values, max_length=400)
    assert len(filters) > 1
    assert all(encoded_length(f) <= 400 for f in filters)
    joined = " or ".join(f[1:-1] for f in filters)
    terms = joined.split(" or ")
    assert len(terms) == 501  # the duplicate is sent once
    assert terms[0] == "VendorAccountNumber eq 'US-V0000000'"
    assert "VendorAccountNumber eq 'US-O''HARA-000123'" in terms
    assert filter_in("VendorAccountNumber", []) == []
    with pytest.raises(ValueError, match="longer than"):
        filter_in("VendorAccountNumber", ["x" * 500], max_length=100)


def test_filter_keys_for_composite_keys() -> None:
    lines = catalog.entity("CLMIntegrationPurchaseAgreementLines")
    fields = [lines.field(k) for k in lines.keys]
    filters = filter_keys(fields, [("usmf", "PA1", 1), ("usmf", "PA1", 2)], max_length=2000)
    assert filters == [
        "((PurchaseAgreementLegalEntityId eq 'usmf' and PurchaseAgreementId eq 'PA1' and "
        "LineNumber eq 1) or (PurchaseAgreementLegalEntityId eq 'usmf' and "
        "PurchaseAgreementId eq 'PA1' and LineNumber eq 2))"
    ]
