from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from connectors import catalog
from warehouse import taxonomy


def test_names_labels_and_tables_are_unique() -> None:
    for attr in ("name", "label", "target", "table"):
        values = [getattr(e, attr) for e in catalog.ENTITIES]
        assert len(values) == len(set(values)), attr


def test_lookup_is_case_insensitive_and_explains_misses() -> None:
    assert catalog.entity("vendorsv2").name == "VendorsV2"
    assert catalog.entity_by_label("vendors v2").name == "VendorsV2"
    with pytest.raises(KeyError, match="known: "):
        catalog.entity("Vendors")


def test_clm_integration_entities_match_the_reference() -> None:
    contracts = catalog.entity("CLMIntegrationContracts")
    assert contracts.keys == ("LegalEntityId", "ContractId")
    lines = catalog.entity("CLMIntegrationPurchaseAgreementLines")
    assert lines.record_keys == ("PurchaseAgreementId", "LineNumber")
    assert lines.field("LineNumber").type == "decimal"
    assert catalog.entity("Currencies").company_specific is False


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1, "1"),
        (Decimal("1.0000000000"), "1"),
        (2.5, "2.5"),
        ("1.50", "1.50"),
        ("O'Brien", "O'Brien"),
    ],
)
def test_canonical_key_values(value: object, text: str) -> None:
    assert catalog.canonical_key_value(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, None),
        (True, "Yes"),
        (False, "No"),
        (date(2026, 3, 1), "2026-03-01"),
        (datetime(2026, 3, 1, 9, 30, tzinfo=UTC), "2026-03-01T09:30:00+00:00"),
        (Decimal("1E+3"), "1000"),
        (Decimal("12.500"), "12.500"),
        (7, "7"),
        ("usmf", "usmf"),
    ],
)
def test_scm_text(value: object, text: str | None) -> None:
    assert catalog.scm_text(value) == text


def test_record_key_joins_non_company_keys() -> None:
    lines = catalog.entity("CLMIntegrationPurchaseAgreementLines")
    row = {
        "PurchaseAgreementLegalEntityId": "usmf",
        "PurchaseAgreementId": "PA-1",
        "LineNumber": Decimal("3.000"),
    }
    assert lines.record_key(row) == "PA-1|3"


def test_package_entities_follow_dependency_levels() -> None:
    levels = [e.level for e in catalog.package_entities()]
    assert levels == sorted(levels)
    assert catalog.package_entities()[-1].name == "CLMIntegrationPurchaseAgreementLines"


def test_taxonomy_kinds_are_unique_and_actions_valid() -> None:
    names = taxonomy.kind_names()
    assert len(names) == len(set(names))
    assert not set(names) & set(taxonomy.NOISE_KINDS)
    assert {k.action for k in taxonomy.KINDS} <= {None, "create", "update", "close"}
