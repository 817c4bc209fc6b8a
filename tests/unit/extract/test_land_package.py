"""A package file landed by hand: malformed rows go to the quarantine (exactly those), rows in =
landed + quarantined, and landing the same file again changes nothing."""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from connectors.package_writer import PackageWriter
from flows.steps.extract import land_package_file
from warehouse import db

VENDORS = "Vendors V2.csv"


def _vendor(number: int) -> dict[str, object]:
    return {
        "dataAreaId": "usmf",
        "VendorAccountNumber": f"US-V{number:07d}",
        "VendorOrganizationName": f"Vendor {number}",
        "VendorGroupId": "10",
        "CurrencyCode": "USD",
        "VendorHoldReleaseDate": "2025-03-01T00:00:00Z",
        "CreditLimit": "1500.5",
    }


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = db.connect(":memory:")
    yield connection
    connection.close()


@pytest.fixture
def package(tmp_path: Path) -> Path:
    """A vendors package of 5 good rows, with 3 malformed rows added by hand after row 2:
    too few columns, a date that is no date, and bytes that are not UTF-16 text."""
    written = tmp_path / "written.zip"
    with PackageWriter(written, definition_group="MANUAL") as writer:
        writer.add_entity("VendorsV2", [_vendor(n) for n in range(1, 6)])
    with zipfile.ZipFile(written) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    lines = members[VENDORS][2:].decode("utf-16-le").split("\r\n")
    header, rows = lines[0], [line for line in lines[1:] if line]
    columns = len(header.split(","))
    short = '"usmf","US-V0000901"'
    bad_date = rows[0].replace("US-V0000001", "US-V0000902").replace("3/1/2025", "2/30/2025")
    assert bad_date != rows[0].replace("US-V0000001", "US-V0000902")
    undecodable = rows[0].replace("US-V0000001", "US-V0000903").encode("utf-16-le")
    undecodable = undecodable.replace("Vendor 1".encode("utf-16-le"), b"V\x00\x00\xd8!\x00")
    body = "\r\n".join([header, *rows[:2], short, bad_date]).encode("utf-16-le")
    body += b"\r\x00\n\x00" + undecodable + b"\r\x00\n\x00"
    body += ("\r\n".join(rows[2:]) + "\r\n").encode("utf-16-le")
    members[VENDORS] = b"\xff\xfe" + body
    path = tmp_path / "usmf_vendors.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    assert columns > 2
    return path


def test_malformed_rows_are_quarantined_exactly(
    con: duckdb.DuckDBPyConnection, package: Path
) -> None:
    report = land_package_file(con, package, run_id="r1", legal_entity="USMF")
    (result,) = report.results
    assert (result.entity, result.legal_entity, result.status) == ("VendorsV2", "usmf", "succeeded")
    assert (result.extracted, result.landed, result.quarantined) == (8, 5, 3)
    quarantined = con.execute(
        "SELECT row_number, reason, source_file, batch_id FROM ops.quarantine ORDER BY row_number"
    ).fetchall()
    assert [q[0] for q in quarantined] == [3, 4, 5]
    assert quarantined[0][1].startswith("expected ")
    assert "VendorHoldReleaseDate" in quarantined[1][1]
    assert "2/30/2025" in quarantined[1][1]
    assert "not valid in the file's encoding" in quarantined[2][1]
    assert {q[2] for q in quarantined} == {VENDORS}
    assert {q[3] for q in quarantined} == {result.batch_id}
    assert str(result.batch_id).startswith("file-sha256:")
    current = con.execute(
        'SELECT "VendorAccountNumber", _row_number FROM current_scm.vendors ORDER BY 1'
    ).fetchall()
    assert current == [
        (f"US-V{n:07d}", r) for n, r in zip(range(1, 6), (1, 2, 6, 7, 8), strict=True)
    ]
    # No watermark: a file is not part of change tracking.
    assert con.execute("SELECT count(*) FROM ops.extract_state").fetchall() == [(0,)]


def test_landing_the_same_file_again_changes_nothing(
    con: duckdb.DuckDBPyConnection, package: Path, tmp_path: Path
) -> None:
    land_package_file(con, package, run_id="r1", legal_entity="usmf")
    copy = tmp_path / "renamed.zip"
    shutil.copyfile(package, copy)
    again = land_package_file(con, copy, run_id="r2", legal_entity="usmf")
    (result,) = again.results
    assert (result.status, result.extracted, result.landed, result.quarantined) == (
        "unchanged", 8, 5, 3,
    )  # fmt: skip
    counts = con.execute(
        "SELECT (SELECT count(*) FROM raw_scm.vendors), (SELECT count(*) FROM ops.quarantine)"
    ).fetchall()
    assert counts == [(5, 3)]


def test_an_entity_clmsync_does_not_know_fails_by_name(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = tmp_path / "mixed.zip"
    with PackageWriter(path, definition_group="MANUAL") as writer:
        writer.add_entity("VendorsV2", [_vendor(1)])
        writer.add_entity("DataManagementDefinitionGroups", [{"Name": "X"}])
    report = land_package_file(con, path, run_id="r1", legal_entity="usmf")
    assert [(r.entity, r.status) for r in report.results] == [
        ("VendorsV2", "succeeded"),
        ("Definition Groups", "failed"),
    ]
    assert "'Definition Groups' is not one clmsync lands" in str(report.results[1].error)
    with pytest.raises(Exception, match="Definition Groups"):
        report.raise_for_failures()
