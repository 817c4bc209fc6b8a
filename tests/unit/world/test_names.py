"""Name-only counterparties are recoverable by a good matcher; unlinked ones match nothing."""

from __future__ import annotations

import difflib
import re
import unicodedata
from typing import Any

import duckdb

from emulator.world import words
from tests.unit.world.conftest import rows

_FORMS = sorted(
    {f.strip(" ,") for forms in words.LEGAL_FORMS.values() for main, alts in forms
     for f in (main, *alts)},
    key=len,
    reverse=True,
)  # fmt: skip


def normalise(name: str) -> str:
    """What a reasonable fuzzy matcher does before comparing: forms out, accents, punctuation
    and case folded, words sorted."""
    text = unicodedata.normalize("NFKC", name)
    for form in _FORMS:
        text = text.replace(form, " ")
    text = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
    text = re.sub(r"[^\w\s]", " ", text.casefold())
    return " ".join(sorted(text.split()))


def similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, normalise(a), normalise(b)).ratio()


def _vendors(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], list[tuple[str, str]]]:
    by_place: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for le, country, acct, name in rows(
        con, 'SELECT "dataAreaId", "AddressCountryRegionISOCode", "VendorAccountNumber", '
             '"VendorOrganizationName" FROM scm."VendorsV2"'
    ):  # fmt: skip
        by_place.setdefault((le, country), []).append((acct, name))
    return by_place


def test_name_variants_point_to_their_vendor(
    truth: dict[str, Any], loaded: duckdb.DuckDBPyConnection
) -> None:
    vendors = _vendors(loaded)
    variants = rows(
        loaded, "SELECT counterparty_id, name_variant FROM world.links WHERE method = 'name'"
    )
    kinds = dict(variants)
    entries = [e for e in truth["discrepancies"] if e["kind"] == "counterparty_linked_by_name"]
    assert {kinds[e["clm_id"]] for e in entries} >= {"legal_form", "punctuation", "typo",
                                                     "dropped_word", "word_order"}  # fmt: skip
    for e in entries:
        (country,) = rows(
            loaded, "SELECT country FROM clm.counterparties WHERE id = ?", [e["clm_id"]]
        )[0]
        country = "GB" if country == "UK" else country
        candidates = vendors[(e["legal_entity"], country)]
        scored = sorted(((similarity(e["clm_value"], n), a) for a, n in candidates), reverse=True)
        assert scored[0][1] == e["record_key"], (e, scored[:3])
        assert scored[0][0] > scored[1][0], (e, scored[:3])
        assert e["clm_value"] != e["scm_value"] or kinds[e["clm_id"]] == "legal_form"


def test_unlinked_counterparties_are_far_from_every_vendor(
    truth: dict[str, Any], loaded: duckdb.DuckDBPyConnection
) -> None:
    vendors = _vendors(loaded)
    names = [n for group in vendors.values() for _, n in group]
    unlinked = [e for e in truth["discrepancies"] if e["kind"] == "counterparty_unlinked"]
    assert unlinked
    for e in unlinked:
        best = max(similarity(e["clm_value"], n) for n in names)
        assert best < 0.6, (e["clm_value"], best)


def test_word_slots_cannot_collide_after_normalisation() -> None:
    for style, slots in words.SLOTS.items():
        for slot in slots:
            folded = [normalise(w) for w in slot]
            assert len(set(folded)) == len(folded), style
        if style in ("en", "gb"):
            industry = set(slots[2])
            for w in slots[2]:  # a typo drops the middle character of the industry word
                assert w[: len(w) // 2] + w[len(w) // 2 + 1 :] not in industry
        if style == "de":
            compounds = {b + c for b in slots[1] for c in slots[2]}
            assert len(compounds) == len(slots[1]) * len(slots[2])
            for w in compounds:
                assert w[: len(w) // 2] + w[len(w) // 2 + 1 :] not in compounds
