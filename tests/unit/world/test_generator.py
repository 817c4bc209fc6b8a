"""Determinism, parameters and the seed tables of the generator."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from emulator.world import generate, reference, seeds
from emulator.world.rates import resolve_rates

ROOT = Path(__file__).resolve().parents[3]


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_same_size_and_seed_give_identical_files(tmp_path: Path) -> None:
    first = generate(250, 42, tmp_path / "a")
    second = generate(250, 42, tmp_path / "b")
    assert first.counts == second.counts
    digests = _digests(tmp_path / "a")
    assert len(digests) >= 30
    assert digests == _digests(tmp_path / "b")


def test_another_seed_gives_another_world(tmp_path: Path) -> None:
    generate(250, 1, tmp_path / "a")
    generate(250, 2, tmp_path / "b")
    a, b = _digests(tmp_path / "a"), _digests(tmp_path / "b")
    assert a["scm/VendorsV2.parquet"] != b["scm/VendorsV2.parquet"]
    assert a["ground_truth.json"] != b["ground_truth.json"]
    assert a["seeds/clm_units.csv"] == b["seeds/clm_units.csv"]


def test_world_json_describes_the_files(tmp_path: Path) -> None:
    summary = generate(200, 3, tmp_path / "w")
    meta = json.loads((tmp_path / "w" / "world.json").read_text())
    assert meta["size"] == 200
    assert meta["seed"] == 3
    assert meta["counts"] == summary.counts
    assert meta["discrepancies"]["by_kind"] == summary.discrepancies
    for name, digest in meta["files"].items():
        assert hashlib.sha256((tmp_path / "w" / name).read_bytes()).hexdigest() == digest


@pytest.mark.parametrize(
    ("rates", "message"),
    [
        ({"no_such_kind": 0.1}, "unknown discrepancy kind 'no_such_kind'"),
        ({"new_contract": 1.5}, "rate of new_contract must be between 0 and 1"),
        ({"new_contract": 0.5, "amended_dates": 0.6}, "rates add up to"),
    ],
)
def test_bad_rates_are_refused_with_a_clear_message(rates: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        resolve_rates(rates)


def test_a_tiny_size_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="size must be at least"):
        generate(3, 0, tmp_path / "w")


def test_committed_seed_tables_are_what_the_generator_writes(tmp_path: Path) -> None:
    written = seeds.write_seeds(tmp_path)
    assert {p.name for p in written} == {p.name for p in (ROOT / "data" / "seeds").glob("*.csv")}
    for path in written:
        assert path.read_bytes() == (ROOT / "data" / "seeds" / path.name).read_bytes(), path.name


def test_every_scm_code_has_one_preferred_clm_code() -> None:
    tables = seeds.seed_tables()
    for name, scm_values in (
        ("clm_units", [u[0] for u in reference.UNITS]),
        ("clm_payment_terms", [p[0] for p in reference.PAYMENT_TERMS]),
        ("clm_currencies", [c[0] for c in reference.CURRENCIES]),
        ("clm_countries", [c[1] for c in reference.COUNTRIES]),
    ):
        _header, rows = tables[name]
        for value in scm_values:
            preferred = [r for r in rows if r[1] == value and r[2] == "true"]
            assert len(preferred) == 1, (name, value)


def test_seed_codes_stay_distinct_once_case_and_spaces_are_folded() -> None:
    for name, (_header, rows) in seeds.seed_tables().items():
        folded: dict[str, str] = {}
        for row in rows:
            key = " ".join(row[0].split()).casefold()
            assert folded.setdefault(key, row[1]) == row[1], (name, row[0])


def test_unmapped_codes_are_really_unmapped() -> None:
    tables = seeds.seed_tables()
    for name, codes in (
        ("clm_units", reference.UNMAPPED_UNITS),
        ("clm_payment_terms", reference.UNMAPPED_PAYMENT_TERMS),
        ("clm_currencies", reference.UNMAPPED_CURRENCIES),
        ("clm_contract_types", reference.UNMAPPED_CONTRACT_TYPES),
    ):
        known = {r[0].casefold() for r in tables[name][1]}
        assert not {c.casefold() for c in codes} & known, name
