from __future__ import annotations

from pathlib import Path

import pytest

from connectors.errors import ModelError
from tests.unit.warehouse.helpers import write_project
from warehouse.runner.project import references


def refs(sql: str) -> set[str]:
    return set(references(sql, "models/x.sql"))


def test_ctes_are_not_tables_but_what_they_read_is() -> None:
    sql = """
        with vendors as (select * from staging.stg_scm__vendors),
             linked as (select v.* from vendors v join intermediate.int_links l using (id))
        select * from linked
    """
    assert refs(sql) == {"staging.stg_scm__vendors", "intermediate.int_links"}


def test_subqueries_joins_and_set_operations_are_followed() -> None:
    sql = """
        select a.id from (select id from current_scm.vendors) a
        left join seeds.clm_currencies c on c.clm_currency = a.id
        where exists (select 1 from raw_clm.contracts k where k.id = a.id)
          and a.id in (select id from marts.vendors)
        union all
        select id from reports.rpt_mismatches
    """
    assert refs(sql) == {
        "current_scm.vendors",
        "seeds.clm_currencies",
        "raw_clm.contracts",
        "marts.vendors",
        "reports.rpt_mismatches",
    }


def test_quoted_and_mixed_case_names_resolve_like_duckdb() -> None:
    assert refs('select * from "Staging"."Stg_X" join "raw_scm"."vendors" using (id)') == {
        "staging.stg_x",
        "raw_scm.vendors",
    }


def test_table_functions_are_not_dependencies_and_bare_names_are_main() -> None:
    assert refs("select * from read_csv('x.csv') join stg_y using (id)") == {"main.stg_y"}


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("delete from staging.x", "exactly one select statement"),
        ("select 1; select 2", "exactly one select statement"),
        ("select from where (", "SQL does not parse"),
    ],
)
def test_anything_but_one_select_is_refused_naming_the_file(sql: str, message: str) -> None:
    with pytest.raises(ModelError, match=message) as err:
        references(sql, "models/staging/x.sql")
    assert err.value.files == ["models/staging/x.sql"]
    # Parses are kept for the process; a refusal is not, and names each file that has the SQL.
    with pytest.raises(ModelError, match=message) as again:
        references(sql, "models/marts/y.sql")
    assert again.value.files == ["models/marts/y.sql"]
    assert str(again.value).startswith("models/marts/y.sql: ")


def test_a_parse_is_kept_for_the_process() -> None:
    sql = "select * from staging.kept_once"
    first = references(sql, "models/marts/a.sql")
    assert references(sql, "models/marts/b.sql") is first


def test_header_sets_materialization_and_layers_have_defaults(tmp_path: Path) -> None:
    project = write_project(
        tmp_path,
        {
            "models/staging/scm/stg_a.sql": "select 1 as id",
            "models/marts/m.sql": "select * from staging.stg_a",
            "models/reports/r.sql": """
                -- The history of something.
                -- clmsync: materialized=incremental unique_key=id,kind
                select 1 as id, 'x' as kind
                -- clmsync: materialized=view   (not a header any more)
            """,
        },
    )
    got = {m.relation: (m.materialized, m.unique_key, m.folder) for m in project.models}
    assert got == {
        "staging.stg_a": ("view", (), "staging/scm"),
        "marts.m": ("table", (), "marts"),
        "reports.r": ("incremental", ("id", "kind"), "reports"),
    }


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("-- clmsync: materialized=snapshot", "materialized=snapshot"),
        ("-- clmsync: materialised=table", r"unknown header settings \['materialised'\]"),
        ("-- clmsync: materialized=incremental", "needs unique_key"),
        ("-- clmsync: materialized", "is not key=value"),
    ],
)
def test_a_bad_header_names_the_file(tmp_path: Path, header: str, message: str) -> None:
    with pytest.raises(ModelError, match=message) as err:
        write_project(tmp_path, {"models/marts/m.sql": f"{header}\nselect 1 as id"})
    assert err.value.files == ["models/marts/m.sql"]


def test_two_models_with_one_name_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="two models are named m") as err:
        write_project(
            tmp_path, {"models/marts/m.sql": "select 1", "models/reports/m.sql": "select 2"}
        )
    assert sorted(err.value.files) == ["models/marts/m.sql", "models/reports/m.sql"]


def test_models_outside_a_layer_or_in_a_reserved_schema_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="layer folder"):
        write_project(tmp_path / "a", {"models/m.sql": "select 1"})
    with pytest.raises(ModelError, match="reserved schema"):
        write_project(tmp_path / "b", {"models/ops/m.sql": "select 1"})


def test_yaml_attaches_descriptions_columns_and_tests(tmp_path: Path) -> None:
    project = write_project(
        tmp_path,
        {
            "models/marts/m.sql": "select 1 as id, 'a' as code",
            "models/marts/_marts.yml": """
                models:
                  - name: m
                    description: One row per thing.
                    tests:
                      - unique: [id, code]
                      - sql: select * from marts.m where id < 0
                        name: ids_are_positive
                        severity: warn
                    columns:
                      - name: id
                        description: The id.
                        tests: [not_null, unique]
                      - name: code
                        tests:
                          - accepted_values: {values: [a, b], severity: warn}
                          - relationships: {to: seeds.codes, field: code}
            """,
        },
    )
    model = project.model("m")
    assert model.description == "One row per thing."
    assert [(c.name, c.description) for c in model.columns] == [("id", "The id."), ("code", None)]
    assert [(t.name, t.severity) for t in model.tests] == [
        ("not_null__m__id", "error"),
        ("unique__m__id", "error"),
        ("accepted_values__m__code", "warn"),
        ("relationships__m__code", "error"),
        ("unique__m__id__code", "error"),
        ("ids_are_positive", "warn"),
    ]
    assert model.doc_file == "models/marts/_marts.yml"


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("models:\n  - name: m\n    descripton: typo\n", r"unknown keys \['descripton'\]"),
        ("models:\n  - name: other\n", "describes model other, but there is no other.sql"),
        (
            "models:\n  - name: m\n    columns:\n      - name: id\n        tests: [uniqe]\n",
            r"unknown test \['uniqe'\]",
        ),
        (
            "models:\n  - name: m\n    columns:\n      - name: id\n"
            "        tests: [{not_null: {severity: fatal}}]\n",
            "severity must be error or warn",
        ),
        (
            "models:\n  - name: m\n    columns:\n      - name: id\n"
            "        tests: [{relationships: {to: seeds.x}}]\n",
            "relationships needs 'to'",
        ),
        ("models: [\n", "not valid YAML"),
    ],
)
def test_a_yaml_mistake_names_the_file(tmp_path: Path, yaml_text: str, message: str) -> None:
    (tmp_path / "models" / "marts").mkdir(parents=True)
    (tmp_path / "models" / "marts" / "_marts.yml").write_text(yaml_text)
    with pytest.raises(ModelError, match=message) as err:
        write_project(tmp_path, {"models/marts/m.sql": "select 1 as id"})
    assert "models/marts/_marts.yml" in err.value.files


def test_an_incremental_model_reading_itself_must_declare_column_types(tmp_path: Path) -> None:
    files = {
        "models/reports/h.sql": "-- clmsync: materialized=incremental unique_key=id\n"
        "select id from reports.h",
        "models/reports/_reports.yml": "models:\n  - name: h\n    columns:\n      - name: id\n",
    }
    with pytest.raises(ModelError, match=r"data_type .*missing: \['id'\]"):
        write_project(tmp_path, files)
