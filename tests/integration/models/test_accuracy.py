"""The models against the ground truth of generated worlds (1,000 and 10,000 vendors, three seeds
each), extracted from the emulator through the real extract step.

Every planted discrepancy must be reported with its kind, entity, legal entity, record key (and
field); noise must produce no row; the deltas must equal the ground truth's expected actions
exactly. Recall and precision per kind are printed for every world.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.models import groundtruth
from tests.integration.models.worlds import World, emulated_world
from warehouse import taxonomy

WORLDS = [(1000, 1), (1000, 2), (1000, 3), (10000, 1), (10000, 2), (10000, 3)]
FUZZY = {k.name for k in taxonomy.KINDS if k.matching == "fuzzy"}


@pytest.fixture(scope="module", params=WORLDS, ids=[f"size{s}-seed{n}" for s, n in WORLDS])
def scored(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[World, groundtruth.Score]]:
    size, seed = request.param
    with emulated_world(tmp_path_factory.mktemp(f"w{size}s{seed}"), size, seed) as world:
        tests = world.extract_and_build()
        assert not [t for t in tests if t.status in ("fail", "error")]
        groundtruth.load_truth(world.con, world.truth_path())
        score = groundtruth.score(world.con, f"world size {size} seed {seed}")
        yield world, score


def test_every_planted_discrepancy_is_reported_with_its_kind_and_keys(
    scored: tuple[World, groundtruth.Score], capsys: pytest.CaptureFixture[str]
) -> None:
    _, score = scored
    with capsys.disabled():
        print("\n" + score.table())
    for kind in score.kinds.values():
        if kind.kind in FUZZY:
            assert kind.recall >= 0.98, (kind, score.missing)
        else:
            assert kind.recall == 1.0, (kind, score.missing)
    assert score.precision >= 0.995, score.extra


def test_noise_is_never_reported(scored: tuple[World, groundtruth.Score]) -> None:
    world, score = scored
    assert world.con.execute("SELECT count(*) FROM gt_noise").fetchall()[0][0] > 0
    assert score.noise_rows == []


def test_deltas_equal_the_expected_actions(scored: tuple[World, groundtruth.Score]) -> None:
    _, score = scored
    assert score.delta_missing == []
    assert score.delta_extra == []


def test_no_delta_touches_what_must_not_be_pushed(
    scored: tuple[World, groundtruth.Score],
) -> None:
    world, _ = scored
    con = world.con
    # SCM-owned agreements (and their lines) are never written from the CLM.
    owned = con.execute(
        """SELECT count(*) FROM deltas.dlt_scm__purchase_agreements d
           JOIN staging.stg_scm__purchase_agreements a
             ON a.legal_entity = d.legal_entity AND a.purchase_agreement_id = d.record_key
           WHERE a.ownership = 'SCM'"""
    ).fetchall()[0][0]
    assert owned == 0
    # Nothing of an unlinked, reviewed, deleted or blocked vendor's counterparty is created.
    blocked = con.execute(
        """SELECT count(*) FROM deltas.dlt_scm__contracts d
           JOIN intermediate.int_contracts_mapped c ON c.contract_id = d.clm_id
           WHERE c.is_blocked"""
    ).fetchall()[0][0]
    assert blocked == 0
    # Every create leaves SCM's generated keys out and names its natural key.
    rows = con.execute(
        """SELECT payload, keys FROM deltas.dlt_scm__purchase_agreement_lines
           WHERE action = 'create' LIMIT 50"""
    ).fetchall()
    assert rows
    for payload, keys in rows:
        assert "LineNumber" not in payload
        assert "PurchaseAgreementId" not in payload
        assert "ExternalContractLineId" in keys


def test_the_summary_counts_every_open_mismatch(scored: tuple[World, groundtruth.Score]) -> None:
    world, _ = scored
    con = world.con
    total = con.execute("SELECT sum(open_mismatches) FROM reports.rpt_summary").fetchall()[0][0]
    listed = con.execute(
        "SELECT count(*) FROM reports.rpt_mismatches WHERE legal_entity IS NOT NULL"
    ).fetchall()[0][0]
    assert total == listed
    kinds = {r[0] for r in con.execute("SELECT DISTINCT kind FROM reports.rpt_summary").fetchall()}
    assert kinds == set(taxonomy.kind_names())
