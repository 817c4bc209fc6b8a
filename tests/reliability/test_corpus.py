"""The bad-input corpus, landed: what a real tenant's broken files do to the warehouse.

Each package of ``tests/corpus/packages`` and each CLM export of ``tests/corpus/clm`` is wrong in
one way, and its ``expected.json`` says what landing it must do. For a file judged row by row:
every bad row is in ``ops.quarantine`` with a reason naming the problem, every other row is in
the raw table, and rows in = rows landed + rows quarantined, exactly. For a file that cannot be
used at all: one clear error naming the file, and nothing of it in the warehouse.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from connectors import catalog
from connectors.errors import PackageFormatError
from flows.clients import build_clients
from flows.settings import Settings
from flows.steps.extract import extract_clm, land_package_file
from tests.corpus import clm_build, hostile_build, packages_build
from tests.reliability.clikit import offline_settings, run_cli
from tests.reliability.tally import TALLY
from warehouse import db, relations, state

CORPUS = Path(__file__).parents[1] / "corpus"
PACKAGES = json.loads((CORPUS / "packages" / "expected.json").read_text(encoding="utf-8"))
EXPORTS = json.loads((CORPUS / "clm" / "expected.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = db.connect(tmp_path_factory.mktemp("corpus") / "warehouse.duckdb")
    yield connection
    connection.close()


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_the_committed_corpus_is_what_its_builders_write(tmp_path: Path) -> None:
    """The corpus is reproducible: building it again gives the committed bytes."""
    for build, folder in (
        (packages_build.build, packages_build.HERE),
        (hostile_build.build, hostile_build.HERE),
        (clm_build.build, clm_build.HERE),
    ):
        build(tmp_path / folder.name)
        committed = {k: v for k, v in _files(folder).items() if not k.startswith("hostile")}
        assert _files(tmp_path / folder.name) == committed, f"{folder} differs from its builder"


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> int:
    return int(con.execute(sql, params).fetchall()[0][0])


def _nothing_of(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    for table in relations.all_source_tables():
        if db.relation_exists(con, table.raw_schema, table.table):
            assert not _count(con, f"SELECT count(*) FROM {table.raw} WHERE _run_id = ?", [run_id])
    for ops in ("ops.quarantine", "ops.landed_files"):
        assert not _count(con, f"SELECT count(*) FROM {ops} WHERE run_id = ?", [run_id])


def land_and_check(con: duckdb.DuckDBPyConnection, path: Path, case: dict[str, Any]) -> None:
    """Land one package by hand and hold it to its expectation."""
    run_id = state.new_run_id()
    if "error" in case:
        try:
            report = land_package_file(con, path, run_id=run_id, legal_entity="usmf")
        except PackageFormatError as exc:
            message = str(exc)
        else:
            assert [r.status for r in report.results] == ["failed"], report.rows()
            message = str(report.results[0].error)
        assert case["error"] in message, message
        assert path.name in message, message
        _nothing_of(con, run_id)
        TALLY.bad_input(path.name, refused=True)
        return
    report = land_package_file(con, path, run_id=run_id, legal_entity="usmf")
    (result,) = report.results
    assert result.status == "succeeded", result.error
    assert result.entity == case["entity"]
    expected = {int(k): v for k, v in case["quarantined"].items()}
    assert (result.extracted, result.landed, result.quarantined) == (
        case["rows_in"], case["landed"], len(expected),
    )  # fmt: skip
    assert result.extracted == result.landed + result.quarantined
    reasons = dict(
        con.execute(
            "SELECT row_number, reason FROM ops.quarantine WHERE run_id = ?", [run_id]
        ).fetchall()
    )
    assert sorted(reasons) == sorted(expected)
    for row, fragment in expected.items():
        assert fragment in reasons[row], f"row {row}: {reasons[row]!r} lacks {fragment!r}"
    raw = relations.scm(case["entity"]).raw
    landed = con.execute(
        f'SELECT _row_number, "{_name_field(case["entity"])}" FROM {raw} '
        "WHERE _run_id = ? ORDER BY _row_number",
        [run_id],
    ).fetchall()
    assert [n for n, _ in landed] == [
        n for n in range(1, case["rows_in"] + 1) if n not in expected
    ], "the rows that are not quarantined land, each once"
    if "names" in case:
        assert [name for _, name in landed] == case["names"]
    TALLY.bad_input(path.name, rows=result.extracted, quarantined=result.quarantined)


def _name_field(entity: str) -> str:
    return "ContractName" if entity == "CLMIntegrationContracts" else "VendorOrganizationName"


@pytest.mark.parametrize("case", PACKAGES, ids=[c["file"] for c in PACKAGES])
def test_a_bad_package_lands_what_it_can(
    con: duckdb.DuckDBPyConnection, case: dict[str, Any]
) -> None:
    land_and_check(con, CORPUS / "packages" / case["file"], case)


def test_large_bad_packages_land_what_they_can(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """A 6 MB field lands whole; a data file found damaged at its end lands nothing."""
    for case in packages_build.build_large(tmp_path):
        land_and_check(con, tmp_path / case["file"], case)


def test_landing_a_bad_package_twice_changes_nothing(con: duckdb.DuckDBPyConnection) -> None:
    path = CORPUS / "packages" / "impossible_dates.zip"
    before = _count(con, "SELECT count(*) FROM ops.quarantine", [])
    first = land_package_file(con, path, run_id=state.new_run_id(), legal_entity="usmf")
    again = land_package_file(con, path, run_id=state.new_run_id(), legal_entity="usmf")
    assert again.results[0].status == "unchanged"
    assert _count(con, "SELECT count(*) FROM ops.quarantine", []) == before + (
        0 if first.results[0].status == "unchanged" else first.results[0].quarantined
    )


def test_land_package_command_reports_quarantined_rows_and_refusals(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(offline_settings(tmp_path))
    code, out = run_cli(
        ["land-package", str(CORPUS / "packages" / "impossible_dates.zip"), "-c", config], capsys
    )
    assert code == 0, out
    assert "quarantined 5" in out
    code, out = run_cli(
        ["land-package", str(CORPUS / "packages" / "missing_key_column.zip"), "-c", config], capsys
    )
    assert code == 1
    assert "missing_key_column.zip" in out
    assert "CONTRACTID missing from the header" in out


def _settings_for_export(case_dir: Path, tmp_path: Path) -> Settings:
    return Settings(
        scm={"environment_url": "https://scm.invalid", "tenant_id": "t", "client_id": "c",
             "client_secret": "s", "default_legal_entity": "usmf"},
        clm={"export_folder": case_dir},
        warehouse={"path": tmp_path / "warehouse.duckdb", "landing_dir": tmp_path / "landing"},
        sync={"legal_entities": ["usmf"]},
    )  # fmt: skip


def extract_and_check(case_dir: Path, case: dict[str, Any], tmp_path: Path) -> None:
    """Extract one CLM export folder into a warehouse of its own and hold it to its case."""
    settings = _settings_for_export(case_dir, tmp_path)
    con = db.connect(settings.warehouse.path)
    run_id = state.new_run_id()
    try:
        with build_clients(settings) as clients:
            report = extract_clm(settings, clients, con, run_id=run_id)
        if "error" in case:
            assert report.failures, report.rows()
            for result in report.failures:
                assert case["error"] in str(result.error), result.error
            _nothing_of(con, run_id)
            TALLY.bad_input(case["case"], refused=True)
            return
        for name, want in case["objects"].items():
            (result,) = report.find(name)
            expected = {int(k): v for k, v in want["quarantined"].items()}
            assert result.status in ("succeeded", "unchanged"), result.error
            assert (result.extracted, result.landed, result.quarantined) == (
                want["rows_in"], want["landed"], len(expected),
            )  # fmt: skip
            assert result.extracted == result.landed + result.quarantined
            reasons = dict(
                con.execute(
                    "SELECT row_number, reason FROM ops.quarantine WHERE entity = ?", [name]
                ).fetchall()
            )
            assert sorted(reasons) == sorted(expected)
            for row, fragment in expected.items():
                assert fragment in reasons[row], f"{name} line {row}: {reasons[row]!r}"
            table = relations.clm(catalog.clm_object(name)).raw
            assert _count(con, f"SELECT count(*) FROM {table}", []) == want["landed"]
            TALLY.bad_input(f"{case['case']}/{name}", rows=result.extracted,
                            quarantined=result.quarantined)  # fmt: skip
    finally:
        con.close()


@pytest.mark.parametrize("case", EXPORTS, ids=[c["case"] for c in EXPORTS])
def test_a_bad_clm_export_lands_what_it_can(case: dict[str, Any], tmp_path: Path) -> None:
    extract_and_check(CORPUS / "clm" / case["case"], case, tmp_path)


def test_a_clm_export_with_a_field_of_megabytes_lands_whole(tmp_path: Path) -> None:
    (case,) = clm_build.build_large(tmp_path / "corpus")
    extract_and_check(tmp_path / "corpus" / case["case"], case, tmp_path)
