from __future__ import annotations

from pathlib import Path

import pytest

from connectors.errors import ModelError
from tests.unit.warehouse.helpers import write_project
from warehouse.runner import Project, plan, resolve, select

# staging.a <- staging.b <- intermediate.c <- reports.d ; marts.e reads a ; deltas.f reads d
PROJECT = {
    "models/staging/scm/a.sql": "select * from current_scm.vendors",
    "models/staging/clm/b.sql": "select * from staging.a",
    "models/intermediate/c.sql": "with x as (select * from staging.b) select * from x",
    "models/reports/d.sql": "select * from intermediate.c join seeds.codes using (id)",
    "models/marts/e.sql": "select * from staging.a",
    "models/deltas/f.sql": "select * from reports.d",
}


@pytest.fixture
def project(tmp_path: Path) -> Project:
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "codes.csv").write_text("id,code\n1,a\n")
    return write_project(tmp_path, PROJECT)


def names(project: Project, *selectors: str, exclude: tuple[str, ...] = ()) -> list[str]:
    _, chosen = plan(None, project, selectors, exclude)
    return [m.name for m in chosen]


def test_build_order_puts_every_model_after_what_it_reads(project: Project) -> None:
    assert names(project) == ["a", "b", "c", "e", "d", "f"]


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("c", ["c"]),
        ("intermediate.c", ["c"]),
        ("+c", ["a", "b", "c"]),
        ("c+", ["c", "d", "f"]),
        ("+c+", ["a", "b", "c", "d", "f"]),
        ("a+", ["a", "b", "c", "e", "d", "f"]),
        ("staging", ["a", "b"]),
        ("+reports", ["a", "b", "c", "d"]),
        ("staging/clm", ["b"]),
        ("models/staging", ["a", "b"]),
        ("staging/scm/a.sql", ["a"]),
    ],
)
def test_selection_syntax(project: Project, selector: str, expected: list[str]) -> None:
    assert names(project, selector) == expected


def test_selectors_combine_and_exclude_removes(project: Project) -> None:
    assert names(project, "e", "f") == ["e", "f"]
    assert names(project, "a+", exclude=("reports+",)) == ["a", "b", "c", "e"]


def test_an_unknown_selector_is_an_error(project: Project) -> None:
    with pytest.raises(ModelError, match="selector 'nope\\+' matches no model"):
        names(project, "nope+")


def test_a_cycle_names_its_files(tmp_path: Path) -> None:
    project = write_project(
        tmp_path,
        {
            "models/marts/x.sql": "select * from marts.y",
            "models/marts/y.sql": "select * from reports.z",
            "models/reports/z.sql": "select * from marts.x",
            "models/reports/w.sql": "select * from marts.x",
        },
    )
    with pytest.raises(ModelError, match="cycle") as err:
        resolve(project, set())
    assert sorted(err.value.files) == [
        "models/marts/x.sql",
        "models/marts/y.sql",
        "models/reports/z.sql",
    ]
    assert "models/marts/x.sql -> models/marts/y.sql -> models/reports/z.sql -> " in str(err.value)


def test_a_reference_to_nothing_names_the_file_and_the_relation(tmp_path: Path) -> None:
    project = write_project(
        tmp_path,
        {
            "models/marts/x.sql": "select * from staging.missing",
            "models/marts/y.sql": "select * from stg_unqualified",
            "models/marts/ok.sql": "select * from raw_scm.vendors, seeds.mismatch_kinds",
        },
    )
    with pytest.raises(ModelError) as err:
        resolve(project, set())
    assert err.value.files == ["models/marts/x.sql", "models/marts/y.sql"]
    assert "models/marts/x.sql: refers to staging.missing, which is not a model" in str(err.value)
    assert "qualify it with its schema" in str(err.value)
    graph = resolve(project, {"staging.missing", "main.stg_unqualified"})
    assert set(graph.order) == {"marts.x", "marts.y", "marts.ok"}


def test_only_incremental_models_may_read_themselves(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"reads its own relation marts\.x"):
        write_project(tmp_path, {"models/marts/x.sql": "select * from marts.x"})


def test_selection_is_in_build_order_whatever_the_selector_order(project: Project) -> None:
    graph = resolve(project, {"current_scm.vendors"})
    assert [m.name for m in select(graph, ["f", "a"])] == ["a", "f"]
