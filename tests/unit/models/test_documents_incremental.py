"""The document layer (int_document_changes, int_new_documents) is built from the changes of
the mapped models: after each change below only the records (or families) those changes touch
are worked out again, and every table holds exactly what a full rebuild gives."""

from __future__ import annotations

from tests.unit.models.conftest import Warehouse
from tests.unit.models.test_mapped_incremental import (
    _agreement,
    _assert_same_as_full_rebuild,
    _land_world,
    _line,
    _snapshot,
)

DOCUMENT_MODELS = ("int_document_changes", "int_new_documents")


def _written(wh: Warehouse) -> dict[str, int]:
    """Rows each document model wrote in its last build."""
    return {
        str(m): int(r)
        for m, r in wh.rows(
            "SELECT model, arg_max(rows, started_at) FROM ops.model_runs "
            f"WHERE model IN {DOCUMENT_MODELS} GROUP BY model"
        )
    }


def _outcomes(wh: Warehouse) -> list[tuple[object, ...]]:
    return wh.rows(
        "SELECT object, clm_id, outcome FROM intermediate.int_new_documents ORDER BY 1, 2"
    )


def test_a_changed_line_is_compared_again_and_its_old_change_leaves(wh: Warehouse) -> None:
    _land_world(wh)
    wh.build()
    # K-2's agreement and lines, all of K-3, L-1b
    assert _written(wh)["int_new_documents"] == 8
    wh.build()
    assert _written(wh) == {"int_document_changes": 0, "int_new_documents": 0}
    # SCM has L-1a at 12; the CLM says 12.5: a price change to push.
    price = (
        "SELECT kind, scm_value, new_value FROM intermediate.int_document_changes "
        "WHERE clm_id = 'L-1a'"
    )
    assert wh.rows(price) == [("amended_price", "12", "12.5")]
    wh.clm("agreement_line", [_line("K-1", "a", "I1", unit_price="12.00")])
    wh.build()
    assert wh.rows(price) == []  # now equal: the row is deleted, nothing else rewritten
    assert _written(wh)["int_document_changes"] == 0
    _assert_same_as_full_rebuild(wh)

    wh.clm("agreement_line", [_line("K-1", "a", "I1", unit_price="11")])
    _snapshot(wh, "agreement_line", ["L-1a", "L-1b", "L-2a", "L-2b", "L-3a"])  # L-3b gone
    wh.build()  # after a full refresh: rebuilt in full, like every reader
    wh.clm("agreement_line", [_line("K-1", "a", "I1", unit_price="13", status="removed")])
    wh.build()
    assert wh.rows(
        "SELECT kind, field, action FROM intermediate.int_document_changes WHERE clm_id = 'L-1a'"
    ) == [("line_removed", None, "close")]
    assert _written(wh)["int_document_changes"] == 1
    _assert_same_as_full_rebuild(wh)


def test_a_contract_with_two_new_agreements_has_one_outcome(wh: Warehouse) -> None:
    _land_world(wh)
    wh.build()
    # K-3 (new) gets a second agreement whose currency does not map: K-3 is held, once.
    wh.clm("agreement", [_agreement("K-3", id="A-K-3x", currency="Zorkmid")])
    wh.build()
    assert [r for r in _outcomes(wh) if r[1] in ("K-3", "A-K-3", "A-K-3x")] == [
        ("agreement", "A-K-3", "create"),
        ("agreement", "A-K-3x", "mapping_failure"),
        ("contract", "K-3", "held"),
    ]
    # only K-3's family was worked out again: its contract, two agreements and two lines
    assert _written(wh)["int_new_documents"] == 5
    _assert_same_as_full_rebuild(wh)


def test_an_agreement_moved_to_another_contract_is_worked_out_in_both(wh: Warehouse) -> None:
    _land_world(wh)
    wh.build()
    before = _outcomes(wh)
    assert ("agreement", "A-K-3", "create") in before
    # A-K-3 now belongs to K-1, whose agreement SCM has: A-K-3 is that agreement now (not
    # new), its lines are lines added to it, and K-3 is a new contract without agreements.
    wh.clm("agreement", [_agreement("K-3", contract_id="K-1")])
    wh.build()
    after = wh.rows(
        "SELECT object, clm_id, contract_id, outcome FROM intermediate.int_new_documents "
        "WHERE clm_id IN ('K-3', 'A-K-3', 'L-3a', 'L-3b') ORDER BY 1, 2"
    )
    assert after == [
        ("agreement_line", "L-3a", "K-1", "create"),
        ("agreement_line", "L-3b", "K-1", "create"),
        ("contract", "K-3", "K-3", "create"),
    ]
    _assert_same_as_full_rebuild(wh)


def test_a_mapped_model_built_alone_makes_the_readers_rebuild_in_full(wh: Warehouse) -> None:
    _land_world(wh)
    wh.build()
    wh.clm("agreement_line", [_line("K-3", "a", "I1", unit_price="99")])
    wh.build("int_agreement_lines_mapped")  # its changes are kept for the next build...
    wh.clm("agreement_line", [_line("K-2", "a", "I1", unit_price="98")])
    wh.build()  # ...which maps L-2a again: the readers missed L-3a's change, so they start over
    assert _written(wh) == {"int_document_changes": 1, "int_new_documents": 8}
    assert wh.rows(
        "SELECT field, new_value FROM intermediate.int_document_changes WHERE clm_id = 'L-1a'"
    ) == [("Price", "12.5")]
    _assert_same_as_full_rebuild(wh)
