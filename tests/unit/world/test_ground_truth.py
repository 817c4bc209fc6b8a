"""The ground truth lists exactly what a correct reconciliation of the world finds."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import pytest

from connectors import catalog
from emulator.world import WorldSummary, generate, oracle
from emulator.world.truth import COLUMNS
from tests.unit.world.conftest import rows
from warehouse import taxonomy

KEYS = {"kind", "entity", "legal_entity", "record_key", "field", "scm_value", "clm_value",
        "clm_id", "expected"}  # fmt: skip
CLOSING_STATUSES = {"Terminated", "Expired", "Cancelled", "Closed"}


def _flat(entry: dict[str, Any]) -> tuple[Any, ...]:
    return (
        *(entry[c] for c in COLUMNS[:8]),
        entry["expected"]["report"],
        entry["expected"]["action"],
    )


def test_every_entry_is_well_formed(truth: dict[str, Any]) -> None:
    assert set(truth) == {"size", "seed", "rates", "generated_at", "discrepancies", "noise"}
    assert truth["generated_at"] == "2026-01-01T00:00:00Z"
    kinds = set(taxonomy.kind_names())
    entities = {e.name for e in catalog.ENTITIES} | {o.name for o in catalog.CLM_OBJECTS}
    for entry in truth["discrepancies"]:
        assert set(entry) == KEYS, entry
        assert entry["kind"] in kinds
        assert entry["entity"] in entities
        assert entry["legal_entity"] in {"usmf", "demf", "gbsi", "jpmf", "cnmf"}
        assert entry["record_key"]
        expected = entry["expected"]
        kind = taxonomy.kind(entry["kind"])
        if entry["entity"] == "agreement_line" and entry["kind"] == "new_agreement":
            assert expected == {"report": None, "action": "create"}
            continue
        assert expected["report"] == entry["kind"]
        if entry["kind"] == "amended_status" and entry["clm_value"] is not None:
            assert expected["action"] in ("update", "close")
        else:
            assert expected["action"] == kind.action, entry
    for entry in truth["noise"]:
        assert entry["kind"] in taxonomy.NOISE_KINDS
        assert entry["expected"] == {"report": None, "action": None}
        assert entry["scm_value"] != entry["clm_value"]


def test_no_entry_is_listed_twice(truth: dict[str, Any]) -> None:
    keys = [(e["kind"], e["entity"], e["legal_entity"], e["record_key"], e["field"])
            for e in truth["discrepancies"]]  # fmt: skip
    assert len(keys) == len(set(keys))


def test_every_kind_appears_several_times(world: WorldSummary) -> None:
    assert set(world.discrepancies) == set(taxonomy.kind_names())
    for kind, count in world.discrepancies.items():
        assert count >= 3, f"{kind} appears only {count} times at size {world.size}"


VENDOR_LEVEL = ("counterparty_linked_by_tax_id", "counterparty_linked_by_name",
                "duplicate_counterparty", "vendor_blocked", "vendor_deleted")  # fmt: skip


def test_rates_are_honoured(tmp_path: Path) -> None:
    """Raised rates on a small world: every vendor-level kind lands within 4 sigma of its rate."""
    rates = dict.fromkeys(VENDOR_LEVEL, 0.12) | {"counterparty_unlinked": 0.1, "new_contract": 0.1}
    summary = generate(800, 11, tmp_path / "w", rates)
    truth_ = json.loads(summary.ground_truth.read_text(encoding="utf-8"))
    vendors_with_cp = summary.counts["clm"]["counterparties"]
    vendors_with_cp -= summary.discrepancies["duplicate_counterparty"]
    vendors_with_cp -= summary.discrepancies["counterparty_unlinked"]
    for kind in VENDOR_LEVEL:
        n, p = vendors_with_cp, rates[kind]
        sigma = (n * p * (1 - p)) ** 0.5
        assert abs(summary.discrepancies[kind] - n * p) <= 4 * sigma + 1, kind
    unlinked = summary.discrepancies["counterparty_unlinked"]
    assert (
        abs(
            unlinked
            - round(
                0.1
                * (
                    vendors_with_cp
                    + summary.discrepancies["duplicate_counterparty"]
                    - summary.discrepancies["duplicate_counterparty"]
                )
            )
        )
        <= 1
    )
    contracts = summary.counts["clm"]["contracts"]
    new = sum(1 for e in truth_["discrepancies"] if e["kind"] == "new_contract")
    assert new > 0.05 * contracts * 0.5
    summary_zero = generate(300, 11, tmp_path / "z", {"new_contract": 0.0, "line_added": 0.0})
    assert "new_contract" not in summary_zero.discrepancies
    assert "line_added" not in summary_zero.discrepancies


def test_ground_truth_equals_the_reference_reconciliation(
    truth: dict[str, Any], loaded: duckdb.DuckDBPyConnection
) -> None:
    """Nothing planted is missing, nothing a correct run reports is unplanned."""
    oracle.reconcile(loaded, oracle.Sources("scm", "clm", "world", "world.links"))
    found = Counter(tuple(r) for r in rows(loaded, f"SELECT {', '.join(COLUMNS)} FROM o_gt"))
    planted = Counter(_flat(e) for e in truth["discrepancies"])
    assert planted - found == Counter(), "planted but not found"
    assert found - planted == Counter(), "found but not planted"
    noise = Counter(tuple(r) for r in rows(loaded, f"SELECT {', '.join(COLUMNS)} FROM o_noise"))
    assert noise == Counter(_flat(e) for e in truth["noise"])


def test_noise_is_present_and_never_a_discrepancy(truth: dict[str, Any]) -> None:
    kinds = Counter(e["kind"] for e in truth["noise"])
    assert set(kinds) == set(taxonomy.NOISE_KINDS)
    listed = {(e["entity"], e["legal_entity"], e["record_key"], e["field"])
              for e in truth["discrepancies"]}  # fmt: skip
    for entry in truth["noise"]:
        assert (
            entry["entity"],
            entry["legal_entity"],
            entry["record_key"],
            entry["field"],
        ) not in listed


def test_noise_differences_vanish_under_normalisation(truth: dict[str, Any]) -> None:
    import unicodedata
    from decimal import Decimal

    for e in truth["noise"]:
        scm, clm = e["scm_value"], e["clm_value"]
        if e["kind"] == "noise_decimal_scale":
            assert Decimal(scm) == Decimal(clm)
        elif e["kind"] == "noise_midnight_datetime":
            assert clm == scm + "T00:00:00Z"
        elif e["field"] in (
            "VendorOrganizationName",
            "AddressStreet",
            "AddressCity",
            "AddressZipCode",
        ):

            def norm(text: str) -> str:
                return " ".join(unicodedata.normalize("NFC", text).split()).casefold()

            assert norm(scm) == norm(clm), e


@pytest.mark.parametrize("entity_name", ["VendorsV2", "CLMIntegrationContracts",
                                         "CLMIntegrationPurchaseAgreements",
                                         "CLMIntegrationPurchaseAgreementLines"])  # fmt: skip
def test_scm_record_keys_name_existing_records(
    truth: dict[str, Any], loaded: duckdb.DuckDBPyConnection, entity_name: str
) -> None:
    entity = catalog.entity(entity_name)
    keys = {
        (r[0], entity.record_key(dict(zip(entity.keys, r, strict=True))))
        for r in rows(loaded, f'SELECT {", ".join(chr(34) + k + chr(34) for k in entity.keys)} '
                              f'FROM scm."{entity.name}"')
    }  # fmt: skip
    entries = [e for e in truth["discrepancies"] + truth["noise"] if e["entity"] == entity.name]
    assert entries
    for e in entries:
        if e["kind"] == "vendor_deleted":
            assert (e["legal_entity"], e["record_key"]) not in keys
        else:
            assert (e["legal_entity"], e["record_key"]) in keys, e


def test_amended_status_closes_exactly_the_closing_statuses(truth: dict[str, Any]) -> None:
    from emulator.world import reference

    seen = set()
    for e in truth["discrepancies"]:
        if e["kind"] != "amended_status":
            continue
        table = (
            reference.CLM_AGREEMENT_STATUSES
            if e["field"] == "AgreementStatus"
            else reference.CLM_CONTRACT_STATUSES
        )
        mapped = dict(table)[e["clm_value"]]
        want = "close" if mapped in CLOSING_STATUSES else "update"
        assert e["expected"]["action"] == want, e
        seen.add(want)
    assert seen == {"close", "update"}
