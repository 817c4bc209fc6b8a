"""JSON from OData and the CLM as rows of text for landing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors import catalog
from flows.steps.extract_clm import RowBuilder, parse_time
from flows.steps.extract_odata import as_text, rows_to_table


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, None),
        ("O'Hara & Co", "O'Hara & Co"),
        (100.0, "100"),
        (12.5, "12.5"),
        (1e-05, "0.00001"),
        (7, "7"),
        (True, "true"),
        ("1900-01-01T12:00:00Z", "1900-01-01T12:00:00Z"),
        ({"b": 1, "a": "x"}, '{"a":"x","b":1}'),
    ],
)
def test_json_values_become_landing_text(value: object, text: str | None) -> None:
    assert as_text(value) == text


def test_odata_rows_become_string_columns_with_row_numbers() -> None:
    table = rows_to_table(
        ["CurrencyCode", "GeneralRoundingRule"],
        [{"CurrencyCode": "USD", "GeneralRoundingRule": 0.01}, {"CurrencyCode": "EUR"}],
        first=5,
    )
    assert table.to_pylist() == [
        {"CurrencyCode": "USD", "GeneralRoundingRule": "0.01", "_row_number": 5},
        {"CurrencyCode": "EUR", "GeneralRoundingRule": None, "_row_number": 6},
    ]


def _counterparty(**changes: object) -> dict[str, object]:
    item: dict[str, object] = {
        "id": "CPTY-0000001",
        "name": "Müller GmbH",
        "business_unit": "EU-DE",
        "address": {"street": "Hauptstraße 1", "city": "Köln"},
        "updated_at": "2025-01-02T03:04:05Z",
    }
    item.update(changes)
    return item


def test_clm_objects_become_rows_and_schema_breakers_are_refused() -> None:
    builder = RowBuilder(catalog.clm_object("counterparty"))
    builder.add(1, _counterparty())
    builder.add(2, ["not", "an", "object"])
    builder.add(3, _counterparty(business_unit=None))
    builder.add(4, _counterparty(name={"first": "A"}))
    builder.add(5, _counterparty(address="Hauptstraße 1"))
    builder.add(6, _counterparty(id="CPTY-0000006", loyalty_tier="gold"))
    batch = builder.batch()
    assert batch.column("_row_number").to_pylist() == [1, 6]
    assert batch.column("address").to_pylist()[0] == '{"street":"Hauptstraße 1","city":"Köln"}'
    assert [(b.row_number, b.reason) for b in builder.bad] == [
        (2, "not a JSON object but list"),
        (3, "business_unit: required, missing"),
        (4, 'name: expected a string value, found {"first": "A"}'),
        (5, 'address: expected an object, found "Hauptstraße 1"'),
    ]
    assert builder.bad[0].raw_text == '["not", "an", "object"]'
    assert builder.unknown == {"loyalty_tier"}
    assert len(builder) == 0  # a batch hands the rows over


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2025-01-02T03:04:05Z", datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2025-01-02T04:04:05+01:00", datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2025-01-02T03:04:05.250000", datetime(2025, 1, 2, 3, 4, 5, 250000, tzinfo=UTC)),
        ("yesterday", None),
        (None, None),
    ],
)
def test_clm_time_stamps_are_read_as_utc(text: object, moment: datetime | None) -> None:
    assert parse_time(text) == moment
