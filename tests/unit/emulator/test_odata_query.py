"""$filter, $select and $orderby parsing: SQL with bound parameters, OData's error messages."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from connectors import catalog
from emulator.odata_query import FilterParser, parse_query
from emulator.responses import ServiceError

VENDORS = catalog.entity("VendorsV2")


def _filter(text: str) -> tuple[str, list[object]]:
    return FilterParser(VENDORS, text).parse()


def test_literals_become_parameters_and_never_sql_text() -> None:
    where, params = _filter("VendorAccountNumber eq 'x'' OR 1=1 --'")
    assert params == ["x' or 1=1 --"]
    assert "1=1" not in where
    assert where == '(lower("VendorAccountNumber") = ?)'


def test_precedence_not_and_or_and_parentheses() -> None:
    where, params = _filter(
        "not CreditLimit gt 5 and (VendorGroupId eq '10' or VendorGroupId eq '20')"
    )
    assert where == (
        '((NOT (coalesce("CreditLimit", 0) > CAST(? AS DECIMAL(38,10)))) AND '
        '((lower("VendorGroupId") = ?) OR (lower("VendorGroupId") = ?)))'
    )
    assert params == [Decimal(5), "10", "20"]


def test_wildcards_escape_like_characters() -> None:
    where, params = _filter("VendorOrganizationName eq '*50%_off*'")
    assert "LIKE ? ESCAPE" in where
    assert params == ["%50\\%\\_off%"]


def test_enum_literal_and_mirrored_comparison() -> None:
    where, params = _filter(
        "Microsoft.Dynamics.DataEntities.CustVendorBlocked'All' eq OnHoldStatus"
    )
    assert where == '("OnHoldStatus" = ?)'
    assert params == ["All"]


def test_date_and_datetime_literals() -> None:
    _, params = _filter("AddressValidFrom ge 2025-03-01T10:00:00+02:00")
    assert params == [datetime(2025, 3, 1, 8, 0)]
    _, params = _filter("AddressValidFrom lt 2025-03-01")
    assert params == [date(2025, 3, 1)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "Nope eq 1",
            "Could not find a property named 'Nope' on type "
            "'Microsoft.Dynamics.DataEntities.VendorV2'.",
        ),
        (
            "CreditLimit eq 'x'",
            "Found operand types 'Edm.Decimal' and 'Edm.String' for operator kind 'Equal'.",
        ),
        ("OnHoldStatus eq Microsoft.Dynamics.DataEntities.NoYes'Yes'", "incompatible types"),
        (
            "OnHoldStatus eq Microsoft.Dynamics.DataEntities.CustVendorBlocked'Maybe'",
            "not a valid enumerated type constant",
        ),
        ("VendorGroupId has '1'", "The operator 'has' is not supported."),
        ("startswith(VendorGroupId,'1')", "The function 'startswith' is not supported"),
        ("VendorGroupId eq", "Expression expected"),
        ("VendorGroupId eq '1' VendorGroupId", "Syntax error at 'VendorGroupId'"),
    ],
)
def test_bad_filters(text: str, message: str) -> None:
    with pytest.raises(ServiceError) as raised:
        _filter(text)
    assert raised.value.response.status_code == 400
    assert message in bytes(raised.value.response.body).decode()


def test_select_orderby_top_skip_count() -> None:
    query = parse_query(
        VENDORS,
        {
            "$select": "VendorAccountNumber, CreditLimit",
            "$orderby": "CreditLimit desc,VendorAccountNumber",
            "$top": "5",
            "$skip": "10",
            "$count": "true",
            "cross-company": "TRUE",
        },
    )
    assert [f.name for f in query.select] == ["VendorAccountNumber", "CreditLimit"]
    assert [(f.name, desc) for f, desc in query.orderby] == [
        ("CreditLimit", True),
        ("VendorAccountNumber", False),
    ]
    assert (query.top, query.skip, query.count, query.cross_company) == (5, 10, True, True)


def test_unknown_system_option_is_refused() -> None:
    with pytest.raises(ServiceError):
        parse_query(VENDORS, {"$expand": "Contacts"})
