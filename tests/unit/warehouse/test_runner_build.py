from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from connectors.errors import ModelError
from tests.unit.warehouse.helpers import rows, scalar, write_project
from warehouse import db, taxonomy
from warehouse.runner import build, load_project


def rebuild(con: duckdb.DuckDBPyConnection, root: Path, **kw: object) -> dict[str, str]:
    project = load_project(root / "models", root / "seeds")
    return {r.model: r.status for r in build(con, project, **kw)}  # type: ignore[arg-type]


def test_staging_is_a_view_and_later_layers_are_tables(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    con.execute("CREATE TABLE main.src AS SELECT 1 AS id")
    project = write_project(
        tmp_path,
        {
            "models/staging/stg.sql": "select id from main.src",
            "models/marts/mart.sql": "select id * 10 as id from staging.stg",
        },
    )
    results = build(con, project, run_id="run-1")
    assert [(r.relation, r.materialized, r.status, r.rows) for r in results] == [
        ("staging.stg", "view", "success", None),
        ("marts.mart", "table", "success", 1),
    ]
    assert rows(con, "SELECT view_name FROM duckdb_views() WHERE schema_name = 'staging'") == [
        ("stg",)
    ]
    con.execute("INSERT INTO main.src VALUES (2)")
    assert scalar(con, "SELECT count(*) FROM staging.stg") == 2  # a view follows its source
    assert scalar(con, "SELECT count(*) FROM marts.mart") == 1  # a table waits for a build
    assert rows(con, "SELECT model, status, rows FROM ops.model_runs ORDER BY started_at") == [
        ("stg", "success", None),
        ("mart", "success", 1),
    ]


def test_a_failed_table_build_leaves_the_previous_table(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    write_project(tmp_path, {"models/marts/m.sql": "select 1 as id, 'v1' as version"})
    rebuild(con, tmp_path)
    write_project(tmp_path, {"models/marts/m.sql": "select error('boom') as id"})
    with pytest.raises(ModelError, match=r"models/marts/m.sql: .*boom") as err:
        rebuild(con, tmp_path)
    assert err.value.files == ["models/marts/m.sql"]
    assert rows(con, "SELECT * FROM marts.m") == [(1, "v1")]
    assert rows(con, "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts'") == [
        ("m",)
    ]


def test_a_failure_skips_descendants_but_not_independent_models(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    project = write_project(
        tmp_path,
        {
            "models/marts/broken.sql": "select error('no') as id",
            "models/reports/child.sql": "select * from marts.broken",
            "models/reports/other.sql": "select 1 as id",
        },
    )
    results = build(con, project, raise_on_error=False)
    assert {r.model: r.status for r in results} == {
        "broken": "error",
        "other": "success",
        "child": "skipped",
    }
    assert dict(rows(con, "SELECT model, status FROM ops.model_runs")) == {
        "broken": "error",
        "other": "success",
        "child": "skipped",
    }


def test_switching_between_view_and_table(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    write_project(tmp_path, {"models/marts/m.sql": "-- clmsync: materialized=view\nselect 1 as x"})
    rebuild(con, tmp_path)
    write_project(tmp_path, {"models/marts/m.sql": "select 2 as x"})
    rebuild(con, tmp_path)
    assert rows(con, "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts'") == [
        ("m",)
    ]
    assert rows(con, "SELECT x FROM marts.m") == [(2,)]


INCREMENTAL = "-- clmsync: materialized=incremental unique_key=k1,k2\n"


def test_incremental_merges_on_the_unique_key_and_keeps_other_rows(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    con.execute("CREATE TABLE main.src (k1 INT, k2 VARCHAR, v VARCHAR)")
    con.execute("INSERT INTO main.src VALUES (1, 'a', 'one'), (2, 'a', 'two')")
    write_project(tmp_path, {"models/marts/inc.sql": INCREMENTAL + "select * from main.src"})
    rebuild(con, tmp_path)
    con.execute("DELETE FROM main.src")
    con.execute("INSERT INTO main.src VALUES (2, 'a', 'TWO'), (3, 'b', 'three')")
    rebuild(con, tmp_path)
    assert rows(con, "SELECT * FROM marts.inc ORDER BY k1") == [
        (1, "a", "one"),
        (2, "a", "TWO"),
        (3, "b", "three"),
    ]
    rebuild(con, tmp_path, full_refresh=True)
    assert rows(con, "SELECT k1 FROM marts.inc ORDER BY k1") == [(2,), (3,)]


def test_incremental_refuses_duplicate_keys_and_keeps_the_table(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    write_project(tmp_path, {"models/marts/inc.sql": INCREMENTAL + "select 1 as k1, 'a' as k2"})
    rebuild(con, tmp_path)
    write_project(
        tmp_path,
        {"models/marts/inc.sql": INCREMENTAL + "select 1 as k1, 'a' as k2 from range(2)"},
    )
    with pytest.raises(ModelError, match=r"unique_key \(k1, k2\) = \(1, 'a'\) 2 times"):
        rebuild(con, tmp_path)
    assert rows(con, "SELECT * FROM marts.inc") == [(1, "a")]


def test_an_incremental_model_can_keep_state_from_its_previous_build(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    con.execute("CREATE TABLE main.seen (k VARCHAR, run INT)")
    con.execute("INSERT INTO main.seen VALUES ('a', 1)")
    write_project(
        tmp_path,
        {
            "models/reports/hist.sql": """
                -- clmsync: materialized=incremental unique_key=k
                select s.k, coalesce(h.first_run, s.run) as first_run, s.run as last_run
                from main.seen s left join reports.hist h on h.k = s.k
            """,
            "models/reports/_reports.yml": """
                models:
                  - name: hist
                    columns:
                      - {name: k, data_type: VARCHAR}
                      - {name: first_run, data_type: INTEGER}
                      - {name: last_run, data_type: INTEGER}
            """,
        },
    )
    rebuild(con, tmp_path)
    con.execute("UPDATE main.seen SET run = 2")
    con.execute("INSERT INTO main.seen VALUES ('b', 2)")
    rebuild(con, tmp_path)
    assert rows(con, "SELECT * FROM reports.hist ORDER BY k") == [("a", 1, 2), ("b", 2, 2)]


# A model replacing the keys whose source row is new (above the highest load id it holds) or
# gone; `bump` stands for any rule of the model (a change of it must rebuild everything).
REPLACING = {
    "models/marts/rep.sql": """
        -- clmsync: materialized=incremental strategy=delete_insert unique_key=k
        with previous as (select * from marts.rep),
        watermark as (select coalesce(max(load_id), -1) as last from previous),
        changed as (
            select k from main.src where load_id > (select last from watermark)
            union
            select k from previous anti join main.src using (k)
        )
        select changed.k, src.v || '{bump}' as v, src.load_id, src.k is null as _deleted
        from changed left join main.src using (k)
    """,
    "models/marts/_marts.yml": """
        models:
          - name: rep
            columns:
              - {name: k, data_type: VARCHAR}
              - {name: v, data_type: VARCHAR}
              - {name: load_id, data_type: INTEGER}
    """,
}


def _replacing(tmp_path: Path, bump: str = "") -> None:
    write_project(tmp_path, {p: t.replace("{bump}", bump) for p, t in REPLACING.items()})


def _rep_rows(con: duckdb.DuckDBPyConnection) -> tuple[list[tuple[object, ...]], object]:
    """The table and how many rows its last build wrote."""
    written = scalar(con, "SELECT rows FROM ops.model_runs ORDER BY started_at DESC LIMIT 1")
    return rows(con, "SELECT k, v FROM marts.rep ORDER BY k"), written


def test_delete_insert_replaces_the_keys_the_select_returns_and_deletes_gone_ones(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    con.execute("CREATE TABLE main.src (k VARCHAR, v VARCHAR, load_id INT)")
    con.execute("INSERT INTO main.src VALUES ('a', 'one', 1), ('b', 'two', 1), ('c', 'x', 1)")
    _replacing(tmp_path)
    rebuild(con, tmp_path)
    assert _rep_rows(con) == ([("a", "one"), ("b", "two"), ("c", "x")], 3)
    rebuild(con, tmp_path)
    assert _rep_rows(con) == ([("a", "one"), ("b", "two"), ("c", "x")], 0)  # nothing changed
    con.execute("DELETE FROM main.src WHERE k IN ('b', 'c')")
    con.execute("INSERT INTO main.src VALUES ('c', 'three', 2), ('d', 'four', 2)")
    rebuild(con, tmp_path)
    assert _rep_rows(con) == ([("a", "one"), ("c", "three"), ("d", "four")], 2)
    # A row changed behind the model's back is kept until a full rebuild: only keys the select
    # returns are replaced.
    con.execute("UPDATE main.src SET v = 'ONE' WHERE k = 'a'")
    rebuild(con, tmp_path)
    assert _rep_rows(con)[0][0] == ("a", "one")
    rebuild(con, tmp_path, full_refresh=True)
    assert _rep_rows(con) == ([("a", "ONE"), ("c", "three"), ("d", "four")], 3)


def test_delete_insert_rebuilds_in_full_when_its_sql_or_an_upstream_model_changes(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    con.execute("CREATE TABLE main.src (k VARCHAR, v VARCHAR, load_id INT)")
    con.execute("INSERT INTO main.src VALUES ('a', 'one', 1), ('b', 'two', 1)")
    _replacing(tmp_path)
    rebuild(con, tmp_path)
    _replacing(tmp_path, bump="!")
    rebuild(con, tmp_path)
    assert _rep_rows(con) == ([("a", "one!"), ("b", "two!")], 2)
    rebuild(con, tmp_path)
    assert _rep_rows(con)[1] == 0
    # An upstream model's SQL counts too (here a view the model does not even read).
    write_project(tmp_path, {"models/staging/up.sql": "select 1 as x"})
    rebuild(con, tmp_path)
    assert _rep_rows(con)[1] == 0
    write_project(
        tmp_path,
        {
            "models/marts/rep.sql": REPLACING["models/marts/rep.sql"]
            .replace("{bump}", "!")
            .replace("from changed left join", "from changed cross join staging.up left join"),
        },
    )
    rebuild(con, tmp_path)
    assert _rep_rows(con)[1] == 2
    write_project(tmp_path, {"models/staging/up.sql": "select 2 as x"})
    rebuild(con, tmp_path)
    assert _rep_rows(con)[1] == 2


def test_delete_insert_rebuilds_in_full_when_a_seed_it_reads_changes(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    con.execute("CREATE TABLE main.src (k VARCHAR, v VARCHAR, load_id INT)")
    con.execute("INSERT INTO main.src VALUES ('a', 'one', 1), ('b', 'two', 1)")
    files = {
        "seeds/suffix.csv": "suffix\n-x\n",
        "models/staging/stg_suffix.sql": "select suffix from seeds.suffix",
        "models/marts/rep.sql": REPLACING["models/marts/rep.sql"].replace(
            "'{bump}'", "(select suffix from staging.stg_suffix)"
        ),
        "models/marts/_marts.yml": REPLACING["models/marts/_marts.yml"],
    }
    write_project(tmp_path, files)
    rebuild(con, tmp_path)
    assert _rep_rows(con) == ([("a", "one-x"), ("b", "two-x")], 2)
    rebuild(con, tmp_path)
    assert _rep_rows(con)[1] == 0
    write_project(tmp_path, {"seeds/suffix.csv": "suffix\n-y\n"})
    rebuild(con, tmp_path)
    assert _rep_rows(con) == ([("a", "one-y"), ("b", "two-y")], 2)


def test_delete_insert_needs_a_deleted_column(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    write_project(
        tmp_path,
        {
            "models/marts/rep.sql": "-- clmsync: materialized=incremental strategy=delete_insert "
            "unique_key=k\nselect 'a' as k",
        },
    )
    with pytest.raises(ModelError, match="needs a boolean _deleted column"):
        rebuild(con, tmp_path)
    with pytest.raises(ModelError, match="strategy=delete_insert"):
        write_project(
            tmp_path,
            {"models/marts/rep.sql": "-- clmsync: strategy=delete_insert\nselect 'a' as k"},
        )


def test_model_tables_skip_fsst_and_the_connection_setting_comes_back(tmp_path: Path) -> None:
    # A file, and more than a row group: rows written during the build are compressed then.
    con = db.connect(tmp_path / "wh.duckdb")
    con.execute("SET disabled_compression_methods = 'rle'")
    write_project(
        tmp_path,
        {"models/marts/t.sql": "select 'name ' || (i % 50) as name from range(300000) r(i)"},
    )
    rebuild(con, tmp_path)
    con.execute("CHECKPOINT")
    used = {r[0] for r in rows(con, "SELECT compression FROM pragma_storage_info('marts.t')")}
    assert not used & {"FSST", "DICT_FSST"}, used
    assert scalar(con, "SELECT current_setting('disabled_compression_methods')") == "RLE"


def test_a_first_build_reading_itself_refuses_duplicate_keys_and_leaves_no_table(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    con.execute("CREATE TABLE main.seen (k VARCHAR, run INT)")
    con.execute("INSERT INTO main.seen VALUES ('a', 1), ('a', 2)")
    write_project(
        tmp_path,
        {
            "models/reports/hist.sql": """
                -- clmsync: materialized=incremental unique_key=k
                select s.k, s.run from main.seen s anti join reports.hist h on h.k = s.k
            """,
            "models/reports/_reports.yml": """
                models:
                  - name: hist
                    columns:
                      - {name: k, data_type: VARCHAR}
                      - {name: run, data_type: INTEGER}
            """,
        },
    )
    with pytest.raises(ModelError, match=r"unique_key \(k\) = \('a',\) 2 times"):
        rebuild(con, tmp_path)
    assert scalar(con, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'hist'") == 0
    con.execute("DELETE FROM main.seen WHERE run = 2")
    rebuild(con, tmp_path)
    assert rows(con, "SELECT * FROM reports.hist") == [("a", 1)]


def test_descriptions_become_comments_and_unknown_columns_are_refused(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    files = {
        "models/staging/v.sql": "select 1 as id",
        "models/marts/t.sql": "select id, 'x' as name from staging.v",
        "models/staging/_staging.yml": """
            models:
              - name: v
                description: A view's description.
                columns: [{name: id, description: "The id, it's unique."}]
        """,
        "models/marts/_marts.yml": """
            models:
              - name: t
                description: A table.
                columns: [{name: name, description: A name.}]
        """,
    }
    write_project(tmp_path, files)
    rebuild(con, tmp_path)
    assert rows(con, "SELECT comment FROM duckdb_views() WHERE view_name = 'v'") == [
        ("A view's description.",)
    ]
    assert rows(con, "SELECT comment FROM duckdb_tables() WHERE table_name = 't'") == [
        ("A table.",)
    ]
    comments = rows(
        con,
        "SELECT table_name, column_name, comment FROM duckdb_columns() "
        "WHERE comment IS NOT NULL ORDER BY 1",
    )
    assert comments == [("t", "name", "A name."), ("v", "id", "The id, it's unique.")]
    files["models/marts/_marts.yml"] = "models:\n  - name: t\n    columns: [{name: nmae}]\n"
    write_project(tmp_path, files)
    with pytest.raises(ModelError, match=r"describes column nmae of marts\.t") as err:
        rebuild(con, tmp_path)
    assert "models/marts/_marts.yml" in err.value.files


def test_seeds_load_as_text_only_when_changed_and_leave_when_deleted(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "clm_units.csv").write_text("clm_unit,scm_unit,preferred\nPCS,ea,true\n007,ea,\n")
    (seeds / "clm_currencies.csv").write_text("clm_currency,scm_currency\nEURO,EUR\n")
    project = write_project(tmp_path, {"models/marts/m.sql": "select * from seeds.clm_units"})
    build(con, project)
    assert rows(con, "SELECT * FROM seeds.clm_units ORDER BY 1") == [
        ("007", "ea", None),
        ("PCS", "ea", "true"),
    ]
    assert {r[0] for r in rows(con, "SELECT data_type FROM duckdb_columns() "
                                    "WHERE schema_name = 'seeds'")} == {"VARCHAR"}  # fmt: skip
    loaded_at = rows(con, "SELECT seed, loaded_at FROM ops.seed_state ORDER BY 1")
    build(con, project)
    assert rows(con, "SELECT seed, loaded_at FROM ops.seed_state ORDER BY 1") == loaded_at
    (seeds / "clm_units.csv").write_text("clm_unit,scm_unit,preferred\nPCS,ea,true\n")
    (seeds / "clm_currencies.csv").unlink()
    build(con, project)
    assert scalar(con, "SELECT count(*) FROM seeds.clm_units") == 1
    assert rows(con, "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'seeds' "
                     "ORDER BY 1") == [("clm_units",), ("mismatch_kinds",)]  # fmt: skip


def test_mismatch_kinds_come_from_the_taxonomy(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    build(con, write_project(tmp_path, {}))
    got = rows(con, "SELECT name, owner, action FROM seeds.mismatch_kinds ORDER BY name")
    assert got == sorted((k.name, k.owner, k.action) for k in taxonomy.KINDS)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "a header row is required"),
        ("a,,c\n1,2,3\n", "must name every column once"),
        ("a,b\n1,2,3\n", "clm_bad.csv"),
    ],
)
def test_a_bad_seed_is_refused_naming_the_file(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, text: str, message: str
) -> None:
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "clm_bad.csv").write_text(text)
    with pytest.raises(ModelError, match=message):
        build(con, write_project(tmp_path, {}))
