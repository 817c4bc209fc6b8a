"""The model project itself: it loads, every model is described, the kinds it accepts are the
taxonomy's, and models/README.md documents every kind by its exact name."""

from __future__ import annotations

import re

from warehouse import taxonomy
from warehouse.runner import DEFAULT_MODELS_DIR, Project


def test_every_model_is_described_and_its_grain_tested(project: Project) -> None:
    undescribed = [m.name for m in project.models if not m.description]
    assert undescribed == []
    for model in project.models:
        if model.layer in ("intermediate", "reports", "deltas"):
            kinds = {t.kind for t in model.tests}
            assert kinds & {"unique", "sql"}, f"{model.name} has no grain or invariant test"


def test_kind_columns_accept_exactly_the_taxonomy(project: Project) -> None:
    checked = 0
    for model in project.models:
        for spec in model.tests:
            if spec.kind == "accepted_values" and spec.columns == ("kind",):
                values = set(spec.args["values"])
                assert values <= set(taxonomy.kind_names()), model.name
                if model.name in ("int_mismatches", "rpt_mismatches"):
                    assert values == set(taxonomy.kind_names())
                    checked += 1
    assert checked == 2


def test_readme_documents_every_kind_with_an_example() -> None:
    text = (DEFAULT_MODELS_DIR / "README.md").read_text(encoding="utf-8")
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| `(\w+)` \|.*$", text, re.M)}
    for kind in taxonomy.KINDS:
        assert kind.name in rows, kind.name
        assert f"| {kind.owner} |" in rows[kind.name], kind.name
    for noise in taxonomy.NOISE_KINDS:
        assert f"`{noise}`" in text
