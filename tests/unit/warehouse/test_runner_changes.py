"""The change feed between ``delete_insert`` models (see ``warehouse/runner/replace.py``).

A producer (``marts.prod``) copies ``main.src`` and replaces the ids loaded since its last build
(``load_id`` above the highest it holds) or gone from the source. A reader (``reports.rdr``)
upper-cases ``v``: from the whole of ``marts.prod`` when its own table is empty (a build from
nothing), else from ``changes.prod`` only. The rows a reader's build wrote tell which it did:
only the changed rows (it read the feed) or every row (it was rebuilt in full).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from connectors.errors import ModelError
from tests.unit.warehouse.helpers import rows, scalar, write_project
from warehouse.runner import Project, build, plan, resolve, write_docs

DELETE_INSERT = "-- clmsync: materialized=incremental strategy=delete_insert unique_key=id\n"

PRODUCER = {
    "models/marts/prod.sql": DELETE_INSERT
    + """
        with previous as (select * from marts.prod),
        watermark as (select coalesce(max(load_id), -1) as last from previous),
        changed as (
            select id from main.src where load_id > (select last from watermark)
            union
            select id from previous anti join main.src using (id)
        )
        select changed.id, src.v, src.load_id, src.id is null as _deleted
        from changed left join main.src using (id)
    """,
    "models/marts/_marts.yml": """
        models:
          - name: prod
            columns:
              - {name: id, data_type: INTEGER}
              - {name: v, data_type: VARCHAR}
              - {name: load_id, data_type: INTEGER}
    """,
}

# A row whose v is 'boom' makes the reader's build fail.
READER = {
    "models/reports/rdr.sql": DELETE_INSERT
    + """
        with previous as (select * from reports.rdr),
        from_nothing as (select count(*) = 0 as yes from previous),
        todo as (
            select id, v, false as _deleted from marts.prod where (select yes from from_nothing)
            union all by name
            select id, v, _deleted from changes.prod where not (select yes from from_nothing)
        )
        select id, case when v = 'boom' then error('bad row ' || id) else upper(v) end as v,
            _deleted
        from todo
    """,
    "models/reports/_reports.yml": """
        models:
          - name: rdr
            columns:
              - {name: id, data_type: INTEGER}
              - {name: v, data_type: VARCHAR}
    """,
}


def setup_project(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> Project:
    con.execute("CREATE TABLE main.src (id INTEGER, v VARCHAR, load_id INTEGER)")
    con.execute(
        "INSERT INTO main.src VALUES (1, 'one', 1), (2, 'two', 1), (3, 'three', 1), (4, 'four', 1)"
    )
    return write_project(tmp_path, PRODUCER | READER)


def run(con: duckdb.DuckDBPyConnection, project: Project, **kw: object) -> dict[str, int | None]:
    """Build (raising on a failure); the rows each built model wrote."""
    return {r.model: r.rows for r in build(con, project, **kw)}  # type: ignore[arg-type]


def settled(con: duckdb.DuckDBPyConnection, project: Project) -> None:
    """Build twice: the reader has read one incremental build of the producer."""
    assert run(con, project) == {"prod": 4, "rdr": 4}
    assert run(con, project) == {"prod": 0, "rdr": 0}


def reader_rows(con: duckdb.DuckDBPyConnection) -> list[tuple[object, ...]]:
    return rows(con, "SELECT id, v FROM reports.rdr ORDER BY id")


def assert_current(con: duckdb.DuckDBPyConnection) -> None:
    """Both models hold what a build from nothing would give."""
    assert rows(con, "SELECT id, v, load_id FROM marts.prod ORDER BY id") == rows(
        con, "SELECT * FROM main.src ORDER BY id"
    )
    assert reader_rows(con) == rows(con, "SELECT id, upper(v) FROM main.src ORDER BY id")


def changes(con: duckdb.DuckDBPyConnection) -> list[tuple[object, ...]]:
    return rows(con, "SELECT id, v, load_id, _deleted FROM changes.prod ORDER BY id")


def builds(con: duckdb.DuckDBPyConnection) -> list[tuple[object, ...]]:
    return rows(con, "SELECT relation, build_seq, is_full FROM ops.model_changes")


def reads(con: duckdb.DuckDBPyConnection) -> list[tuple[object, ...]]:
    return rows(con, "SELECT reader, producer, build_seq FROM ops.model_feed_reads")


def test_the_producer_keeps_its_changes_and_the_reader_applies_only_those(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    project = setup_project(con, tmp_path)
    assert run(con, project) == {"prod": 4, "rdr": 4}
    assert builds(con) == [("marts.prod", 1, True)]
    assert reads(con) == [("reports.rdr", "marts.prod", 1)]
    assert run(con, project) == {"prod": 0, "rdr": 0}
    assert changes(con) == []
    con.execute("UPDATE main.src SET v = 'two-b', load_id = 2 WHERE id = 2")
    con.execute("DELETE FROM main.src WHERE id = 3")
    con.execute("INSERT INTO main.src VALUES (5, 'five', 2)")
    assert run(con, project) == {"prod": 2, "rdr": 2}
    assert changes(con) == [(2, "two-b", 2, False), (3, None, None, True), (5, "five", 2, False)]
    assert builds(con) == [("marts.prod", 3, False)]
    assert reads(con) == [("reports.rdr", "marts.prod", 3)]
    assert_current(con)
    incremental = reader_rows(con)
    assert run(con, project, full_refresh=True) == {"prod": 4, "rdr": 4}
    assert reader_rows(con) == incremental
    assert builds(con) == [("marts.prod", 4, True)]
    assert changes(con) == []


def test_the_reader_is_rebuilt_in_full_when_the_producer_was_built_twice_since_it_read(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    project = setup_project(con, tmp_path)
    settled(con, project)
    con.execute("UPDATE main.src SET v = 'one-b', load_id = 2 WHERE id = 1")
    assert run(con, project, selectors=["prod"]) == {"prod": 1}
    con.execute("UPDATE main.src SET v = 'two-b', load_id = 3 WHERE id = 2")
    # changes.prod holds id 2 only: reading it would miss id 1.
    assert run(con, project) == {"prod": 1, "rdr": 4}
    assert_current(con)
    assert run(con, project) == {"prod": 0, "rdr": 0}  # back to reading the feed


def test_the_reader_is_rebuilt_in_full_after_a_full_refresh_of_the_producer(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    project = setup_project(con, tmp_path)
    settled(con, project)
    con.execute("UPDATE main.src SET v = 'one-b', load_id = 2 WHERE id = 1")
    assert run(con, project, selectors=["prod"], full_refresh=True) == {"prod": 4}
    assert builds(con) == [("marts.prod", 3, True)]
    assert changes(con) == []  # a build from nothing has no changes to give
    # Built exactly once since the reader's last read, but in full: no feed to trust.
    assert run(con, project, selectors=["rdr"]) == {"rdr": 4}
    assert_current(con)


def test_the_reader_built_alone_is_rebuilt_in_full(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    project = setup_project(con, tmp_path)
    settled(con, project)
    con.execute("UPDATE main.src SET v = 'one-b', load_id = 2 WHERE id = 1")
    assert run(con, project, selectors=["prod"]) == {"prod": 1}
    assert run(con, project, selectors=["rdr"]) == {"rdr": 1}  # the one build it missed
    # The producer was not built since: changes.prod holds what the reader read already.
    assert run(con, project, selectors=["rdr"]) == {"rdr": 4}
    assert_current(con)
    assert run(con, project) == {"prod": 0, "rdr": 0}


def test_a_failed_reader_build_does_not_count_as_a_read(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    project = setup_project(con, tmp_path)
    settled(con, project)
    before = reader_rows(con)
    con.execute("UPDATE main.src SET v = 'boom', load_id = 2 WHERE id = 1")
    con.execute("UPDATE main.src SET v = 'two-b', load_id = 2 WHERE id = 2")
    results = build(con, project, raise_on_error=False)
    assert {r.model: r.status for r in results} == {"prod": "success", "rdr": "error"}
    assert "bad row 1" in str(results[1].error)
    assert reader_rows(con) == before
    assert builds(con) == [("marts.prod", 3, False)]
    assert reads(con) == [("reports.rdr", "marts.prod", 2)]
    con.execute("UPDATE main.src SET v = 'one-b', load_id = 3 WHERE id = 1")
    # changes.prod holds id 1 only: reading it would leave id 2 as it was.
    assert run(con, project) == {"prod": 1, "rdr": 4}
    assert_current(con)
    assert reads(con) == [("reports.rdr", "marts.prod", 4)]


def test_the_producer_writes_empty_changes_on_its_first_build(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    project = setup_project(con, tmp_path)
    assert run(con, project, selectors=["prod"]) == {"prod": 4}
    assert rows(con, "SELECT column_name, data_type FROM duckdb_columns() "
                     "WHERE schema_name = 'changes' AND table_name = 'prod'") == [
        ("id", "INTEGER"), ("v", "VARCHAR"), ("load_id", "INTEGER"), ("_deleted", "BOOLEAN"),
    ]  # fmt: skip
    assert changes(con) == []
    assert builds(con) == [("marts.prod", 1, True)]
    assert reads(con) == []


def test_a_delete_insert_model_nobody_reads_keeps_no_changes(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    con.execute("CREATE TABLE main.src (id INTEGER, v VARCHAR, load_id INTEGER)")
    con.execute("INSERT INTO main.src VALUES (1, 'one', 1)")
    project = write_project(tmp_path, PRODUCER)
    assert run(con, project) == {"prod": 1}
    con.execute("UPDATE main.src SET load_id = 2")
    assert run(con, project) == {"prod": 1}
    assert builds(con) == []
    assert scalar(con, "SELECT count(*) FROM duckdb_schemas() WHERE schema_name = 'changes'") == 0


def test_a_reader_restored_after_builds_it_was_gone_for_is_rebuilt_in_full(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    project = setup_project(con, tmp_path)
    settled(con, project)
    # The reader leaves the project (its table stays) while the producer builds once...
    for name in READER:
        (tmp_path / name).unlink()
    con.execute("UPDATE main.src SET v = 'one-b', load_id = 2 WHERE id = 1")
    assert run(con, write_project(tmp_path, {})) == {"prod": 1}
    # ...then comes back: the producer's next build is the first it counts since the read.
    project = write_project(tmp_path, READER)
    con.execute("UPDATE main.src SET v = 'two-b', load_id = 3 WHERE id = 2")
    assert run(con, project) == {"prod": 1, "rdr": 4}
    assert_current(con)


def _refused(tmp_path: Path, files: dict[str, str]) -> ModelError:
    project = write_project(tmp_path, PRODUCER | files)
    with pytest.raises(ModelError) as err:
        resolve(project, {"main.src"})
    return err.value


BAD = "models/reports/bad.sql"


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {BAD: DELETE_INSERT + "select id, _deleted from changes.nope"},
            "reads changes.nope, but no model has that name",
        ),
        (
            {
                "models/marts/tbl.sql": "select 1 as id",
                BAD: DELETE_INSERT + "select id, _deleted from changes.tbl",
            },
            "reads changes.tbl, but models/marts/tbl.sql is not an incremental model",
        ),
        (
            {BAD: "select id from changes.prod"},
            "reads changes.prod, but only a delete_insert model may read changes",
        ),
    ],
    ids=["missing", "table", "table-reader"],
)
def test_reading_changes_is_refused_naming_the_reader(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    err = _refused(tmp_path, files)
    assert f"{BAD}: {message}" in str(err)
    assert err.files == [BAD]


def test_reading_changes_is_reading_the_producer_in_the_graph_and_the_docs(
    tmp_path: Path,
) -> None:
    # Without the dependency, marts.rdr (an earlier layer) would be built before reports.prod.
    project = write_project(
        tmp_path,
        {
            "models/reports/prod.sql": DELETE_INSERT + "select 1 as id, false as _deleted",
            "models/marts/rdr.sql": DELETE_INSERT + "select id, _deleted from changes.prod",
        },
    )
    graph, chosen = plan(None, project)
    assert [m.relation for m in chosen] == ["reports.prod", "marts.rdr"]
    assert graph.parents["marts.rdr"] == {"reports.prod"}
    assert graph.feeds_of("marts.rdr") == ["reports.prod"]
    assert graph.fed == {"reports.prod"}
    assert [m.name for m in plan(None, project, ["prod+"])[1]] == ["prod", "rdr"]
    out = tmp_path / "docs"
    write_docs(graph, out)
    page = (out / "models" / "rdr.html").read_text()
    assert "<p>Reads: <a href='prod.html'>reports.prod</a></p>" in page
    assert ">changes.prod</text>" not in page  # no source box in its lineage
    assert ">reports.prod</text>" in page
    assert (
        "<p>Read by: <a href='rdr.html'>marts.rdr</a></p>"
        in (out / "models" / "prod.html").read_text()
    )
    assert "changes.prod" not in (out / "index.html").read_text()


MERGE_PRODUCER = {
    "models/marts/prod.sql": """-- clmsync: materialized=incremental unique_key=id
        select * from main.src
        where load_id > (select coalesce(max(load_id), -1) from marts.prod)
    """,
    "models/marts/_marts.yml": PRODUCER["models/marts/_marts.yml"],
}

# The reader of a merge model: its changes have no _deleted (a merge model never deletes).
MERGE_READER = {
    "models/reports/rdr.sql": DELETE_INSERT
    + """
        with previous as (select * from reports.rdr),
        from_nothing as (select count(*) = 0 as yes from previous),
        todo as (
            select id, v from marts.prod where (select yes from from_nothing)
            union all
            select id, v from changes.prod where not (select yes from from_nothing)
        )
        select id, upper(v) as v, false as _deleted from todo
    """,
    "models/reports/_reports.yml": READER["models/reports/_reports.yml"],
}


def test_the_changes_of_a_merge_model_can_be_read_too(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    con.execute("CREATE TABLE main.src (id INTEGER, v VARCHAR, load_id INTEGER)")
    con.execute("INSERT INTO main.src VALUES (1, 'one', 1), (2, 'two', 1), (3, 'three', 1)")
    project = write_project(tmp_path, MERGE_PRODUCER | MERGE_READER)
    assert run(con, project) == {"prod": 3, "rdr": 3}
    assert rows(con, "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'changes'") == [
        ("id",), ("v",), ("load_id",)
    ]  # fmt: skip
    con.execute("UPDATE main.src SET v = 'two-b', load_id = 2 WHERE id = 2")
    assert run(con, project) == {"prod": 1, "rdr": 1}
    assert rows(con, "SELECT id, v FROM changes.prod") == [(2, "two-b")]
    assert reader_rows(con) == [(1, "ONE"), (2, "TWO-B"), (3, "THREE")]
    # a merge model rebuilt in full gives no changes: its reader starts over
    con.execute("UPDATE main.src SET v = 'three-b', load_id = 3 WHERE id = 3")
    assert run(con, project, selectors=["prod"], full_refresh=True) == {"prod": 3}
    assert builds(con)[0][1:] == (3, True)
    assert run(con, project) == {"prod": 0, "rdr": 3}
    assert reader_rows(con) == [(1, "ONE"), (2, "TWO-B"), (3, "THREE-B")]
