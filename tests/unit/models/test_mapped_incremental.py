"""The mapped-documents chain (int_contracts_mapped, int_agreements_mapped,
int_agreement_lines_mapped) is built incrementally: after each change below, every table the
models build holds exactly what a full rebuild gives, and only the documents the change touched
were mapped again."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa

from tests.unit.models.conftest import (
    Warehouse,
    counterparty,
    scm_agreement,
    scm_agreement_line,
    vendor,
)
from warehouse import relations, runner, tombstones
from warehouse.runner import DEFAULT_MODELS_DIR, DEFAULT_SEEDS_DIR

SCHEMAS = ("intermediate", "reports", "deltas")
# Kept across builds on purpose: a full rebuild forgets vendors and counterparties that are
# gone (models read only current ones) and the history of mismatches.
HISTORY = {"int_vendors", "int_counterparties", "rpt_mismatch_history", "rpt_mismatches",
           "rpt_summary", "rpt_conflicts"}  # fmt: skip

CONTRACTS = ("K-1", "K-2", "K-3")


def _land_world(wh: Warehouse) -> None:
    """Two vendors, three counterparties, three contracts with an agreement of two lines each;
    SCM has K-1 (contract, agreement, first line) and K-2's contract."""
    wh.scm(
        "VendorsV2",
        [vendor("demf", "DE-V1", "Alpha GmbH"), vendor("demf", "DE-V2", "Beta GmbH",
                                                       AddressStreet="Ring 9")],
    )  # fmt: skip
    wh.scm(
        "CLMIntegrationReleasedProducts",
        [{"dataAreaId": "demf", "ItemNumber": "I1", "ProductName": "Bolt",
          "ProcurementProductCategoryName": "Hardware"},
         {"dataAreaId": "demf", "ItemNumber": "I2", "ProductName": "Nut",
          "ProcurementProductCategoryName": "Hardware"}],
    )  # fmt: skip
    wh.clm(
        "counterparty",
        [counterparty("CP-1", "Alpha GmbH", vendor_account="DE-V1"),
         counterparty("CP-2", "Beta GmbH", vendor_account="DE-V2", street="Ring 9"),
         counterparty("CP-3", "Gamma AG", vendor_account="DE-V1")],
    )  # fmt: skip
    scm_contract = {
        "LegalEntityId": "demf", "ContractType": "PURCH", "ContractStatus": "Executed",
        "EffectiveDate": "3/1/2025 12:00:00 AM", "ExpirationDate": "1/1/1900 12:00:00 AM",
    }  # fmt: skip
    wh.scm(
        "CLMIntegrationContracts",
        [{**scm_contract, "ContractId": "C1", "ExternalContractId": "K-1"},
         {**scm_contract, "ContractId": "C2", "ExternalContractId": "K-2"}],
    )  # fmt: skip
    wh.scm("CLMIntegrationPurchaseAgreements", [scm_agreement("PA1", "K-1", "DE-V1")])
    wh.scm(
        "CLMIntegrationPurchaseAgreementLines",
        [scm_agreement_line("PA1", "L-1a", "12.000000", "I1")],
    )
    counterparties = {"K-1": "CP-1", "K-2": "CP-2", "K-3": "CP-3"}
    wh.clm(
        "contract",
        [_contract(k, counterparties[k]) for k in CONTRACTS],
    )
    wh.clm("agreement", [_agreement(k) for k in CONTRACTS])
    wh.clm(
        "agreement_line",
        [_line(k, suffix, product) for k in CONTRACTS for suffix, product in (("a", "I1"),
                                                                             ("b", "I2"))],
    )  # fmt: skip


def _contract(k: str, cp: str, **fields: str) -> dict[str, str | None]:
    row: dict[str, str | None] = {
        "id": k, "contract_type": "Purchase Agreement", "status": "Executed",
        "counterparty_id": cp, "business_unit": "EU-DE-MFG", "effective_date": "2025-03-01",
        "updated_at": "2025-12-01T00:00:00Z",
    }  # fmt: skip
    row.update(fields)
    return row


def _agreement(k: str, **fields: str) -> dict[str, str | None]:
    row: dict[str, str | None] = {
        "id": f"A-{k}", "contract_id": k, "business_unit": "EU-DE-MFG", "currency": "EUR",
        "payment_terms": "Net 30 days", "status": "Active", "effective_date": "2025-03-01",
        "updated_at": "2025-12-01T00:00:00Z",
    }  # fmt: skip
    row.update(fields)
    return row


def _line(k: str, suffix: str, product: str, **fields: str) -> dict[str, str | None]:
    row: dict[str, str | None] = {
        "id": f"L-{k[2:]}{suffix}", "agreement_id": f"A-{k}", "line_no": "1",
        "product_code": product, "quantity": "10", "unit": "Each", "unit_price": "12.5",
        "effective_date": "2025-03-01", "status": "active", "updated_at": "2025-12-01T00:00:00Z",
    }  # fmt: skip
    row.update(fields)
    return row


def _model_tables(wh: Warehouse) -> list[tuple[str, str]]:
    return [
        (str(s), str(t))
        for s, t in wh.rows(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE schema_name IN "
            f"{SCHEMAS} ORDER BY ALL"
        )
        if t not in HISTORY
    ]


def _assert_same_as_full_rebuild(wh: Warehouse, project: runner.Project | None = None) -> None:
    """Keep what the incremental build wrote, rebuild everything in full, compare both ways."""
    project = project or wh.project
    tables = _model_tables(wh)
    assert ("intermediate", "int_agreement_lines_mapped") in tables
    wh.con.execute("CREATE SCHEMA IF NOT EXISTS kept")
    for schema, table in tables:
        wh.con.execute(f'CREATE OR REPLACE TABLE kept."{table}" AS FROM {schema}."{table}"')
    runner.build(wh.con, project, full_refresh=True, exclude=["rpt_mismatch_history"])
    for schema, table in tables:
        for a, b in ((f'kept."{table}"', f'{schema}."{table}"'), (f'{schema}."{table}"',
                                                                  f'kept."{table}"')):  # fmt: skip
            extra = wh.rows(f"FROM {a} EXCEPT ALL FROM {b}")
            assert extra == [], f"{table}: {a} has rows {b} lacks: {extra}"


def _mapped_again(wh: Warehouse) -> dict[str, int | None]:
    """Rows each mapped model wrote in its last build."""
    return {
        str(m): (int(r) if r is not None else None)
        for m, r in wh.rows(
            "SELECT model, arg_max(rows, started_at) FROM ops.model_runs "
            "WHERE model LIKE 'int_%_mapped' GROUP BY model"
        )
    }


def _snapshot(wh: Warehouse, obj: str, ids: list[str]) -> None:
    tombstones.apply_key_snapshot(
        wh.con, relations.clm(obj), pa.table({"id": ids}), run_id="snap", legal_entity=None
    )


def test_a_first_build_maps_everything_and_an_idle_one_nothing(wh: Warehouse) -> None:
    _land_world(wh)
    wh.build()
    assert _mapped_again(wh) == {
        "int_contracts_mapped": 3,
        "int_agreements_mapped": 3,
        "int_agreement_lines_mapped": 6,
    }
    assert wh.rows(
        "SELECT line_id, scm_record_key, is_product_released, blocked_reason "
        "FROM intermediate.int_agreement_lines_mapped ORDER BY 1"
    ) == [
        ("L-1a", "PA1|1", True, None), ("L-1b", None, True, None),
        ("L-2a", None, True, None), ("L-2b", None, True, None),
        ("L-3a", None, True, None), ("L-3b", None, True, None),
    ]  # fmt: skip
    wh.build()
    assert _mapped_again(wh) == {
        "int_contracts_mapped": 0,
        "int_agreements_mapped": 0,
        "int_agreement_lines_mapped": 0,
    }
    _assert_same_as_full_rebuild(wh)


def test_deleted_documents_leave_and_their_children_follow(wh: Warehouse) -> None:
    _land_world(wh)
    wh.build()
    _snapshot(wh, "contract", ["K-1", "K-2"])  # K-3 is gone
    _snapshot(wh, "agreement", ["A-K-1", "A-K-3"])  # A-K-2 is gone
    _snapshot(wh, "agreement_line", ["L-1b", "L-2a", "L-2b", "L-3a", "L-3b"])  # L-1a is gone
    wh.build()
    assert wh.rows("SELECT contract_id FROM intermediate.int_contracts_mapped ORDER BY 1") == [
        ("K-1",),
        ("K-2",),
    ]
    assert wh.rows(
        "SELECT agreement_id, blocked_reason FROM intermediate.int_agreements_mapped ORDER BY 1"
    ) == [("A-K-1", None), ("A-K-3", "contract_missing")]
    assert wh.rows(
        "SELECT line_id, blocked_reason FROM intermediate.int_agreement_lines_mapped ORDER BY 1"
    ) == [
        ("L-1b", None), ("L-2a", "agreement_missing"), ("L-2b", "agreement_missing"),
        ("L-3a", "contract_missing"), ("L-3b", "contract_missing"),
    ]  # fmt: skip
    assert _mapped_again(wh) == {
        "int_contracts_mapped": 0,  # one deleted
        "int_agreements_mapped": 1,  # A-K-3 (its contract is gone), A-K-2 deleted
        "int_agreement_lines_mapped": 4,  # those of A-K-2 and A-K-3, L-1a deleted
    }
    _assert_same_as_full_rebuild(wh)

    _snapshot(wh, "contract", list(CONTRACTS))  # K-3 is back
    wh.build()
    assert _mapped_again(wh)["int_agreement_lines_mapped"] == 2
    _assert_same_as_full_rebuild(wh)


def test_a_counterparty_linked_elsewhere_remaps_all_its_documents(wh: Warehouse) -> None:
    _land_world(wh)
    wh.build()
    # CP-3 now carries an account SCM does not have: all its documents are blocked.
    wh.clm("counterparty", [counterparty("CP-3", "Gamma AG", vendor_account="DE-V9")])
    wh.build()
    assert wh.rows(
        "SELECT line_id, blocked_reason FROM intermediate.int_agreement_lines_mapped "
        "WHERE contract_id = 'K-3' ORDER BY 1"
    ) == [("L-3a", "vendor_deleted"), ("L-3b", "vendor_deleted")]
    assert _mapped_again(wh) == {
        "int_contracts_mapped": 1,
        "int_agreements_mapped": 1,
        "int_agreement_lines_mapped": 2,
    }
    _assert_same_as_full_rebuild(wh)


def test_scm_changes_remap_the_documents_they_match_now_and_matched_before(
    wh: Warehouse,
) -> None:
    _land_world(wh)
    wh.build()
    # SCM's contract C2 now points at K-3 (no longer K-2); SCM's line of L-1a is deleted; the
    # product I2 is no longer released.
    wh.scm(
        "CLMIntegrationContracts",
        [{"LegalEntityId": "demf", "ContractId": "C2", "ExternalContractId": "K-3",
          "ContractType": "PURCH", "ContractStatus": "Executed",
          "EffectiveDate": "3/1/2025 12:00:00 AM", "ExpirationDate": "1/1/1900 12:00:00 AM"}],
    )  # fmt: skip
    tombstones.apply_key_snapshot(
        wh.con,
        relations.scm("CLMIntegrationPurchaseAgreementLines"),
        pa.table({"PurchaseAgreementLegalEntityId": pa.array([], pa.string()),
                  "PurchaseAgreementId": pa.array([], pa.string()),
                  "LineNumber": pa.array([], pa.string())}),
        run_id="snap", legal_entity="demf", allow_empty=True,
    )  # fmt: skip
    tombstones.apply_key_snapshot(
        wh.con,
        relations.scm("CLMIntegrationReleasedProducts"),
        pa.table({"dataAreaId": ["demf"], "ItemNumber": ["I1"]}),
        run_id="snap", legal_entity="demf",
    )  # fmt: skip
    wh.build()
    assert wh.rows(
        "SELECT contract_id, scm_contract_id FROM intermediate.int_contracts_mapped ORDER BY 1"
    ) == [("K-1", "C1"), ("K-2", None), ("K-3", "C2")]
    assert wh.rows(
        "SELECT line_id, scm_record_key, is_product_released "
        "FROM intermediate.int_agreement_lines_mapped ORDER BY 1"
    ) == [
        ("L-1a", None, True), ("L-1b", None, False), ("L-2a", None, True),
        ("L-2b", None, False), ("L-3a", None, True), ("L-3b", None, False),
    ]  # fmt: skip
    _assert_same_as_full_rebuild(wh)

    # The SCM line is found again: it comes back with the row (and load id) it had, which no
    # watermark shows; the runner rebuilds the lines in full.
    tombstones.apply_key_snapshot(
        wh.con,
        relations.scm("CLMIntegrationPurchaseAgreementLines"),
        pa.table({"PurchaseAgreementLegalEntityId": ["demf"], "PurchaseAgreementId": ["PA1"],
                  "LineNumber": ["1"]}),
        run_id="snap", legal_entity="demf",
    )  # fmt: skip
    wh.build()
    assert wh.rows(
        "SELECT scm_record_key FROM intermediate.int_agreement_lines_mapped WHERE line_id = 'L-1a'"
    ) == [("PA1|1",)]
    assert _mapped_again(wh)["int_agreement_lines_mapped"] == 6
    _assert_same_as_full_rebuild(wh)


def test_a_changed_seed_rebuilds_the_chain_in_full(wh: Warehouse, tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    shutil.copytree(DEFAULT_SEEDS_DIR, seeds)
    project = runner.load_project(DEFAULT_MODELS_DIR, seeds)
    _land_world(wh)
    runner.build(wh.con, project)
    units = seeds / "clm_units.csv"
    units.write_text(units.read_text(encoding="utf-8").replace("Each,ea,", "Each,pcs,"))
    runner.build(wh.con, project)
    assert _mapped_again(wh) == {
        "int_contracts_mapped": 3,
        "int_agreements_mapped": 3,
        "int_agreement_lines_mapped": 6,
    }
    assert wh.rows("SELECT DISTINCT scm_unit FROM intermediate.int_agreement_lines_mapped") == [
        ("pcs",)
    ]
    _assert_same_as_full_rebuild(wh, project)
