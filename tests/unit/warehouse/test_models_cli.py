from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from connectors.errors import ModelTestFailed
from flows.cli import app
from tests.unit.warehouse.helpers import write_project

ROOT = Path(__file__).resolve().parents[3]

FILES = {
    "models/staging/scm/stg_vendors.sql": """
        -- Vendors with business names.
        select "dataAreaId" as legal_entity, "VendorAccountNumber" as vendor_account
        from current_scm.vendors
    """,
    "models/staging/scm/_scm.yml": """
        models:
          - name: stg_vendors
            description: One row per vendor & legal entity <current>.
            columns:
              - name: vendor_account
                description: SCM's vendor account.
                tests: [not_null, unique]
    """,
    "models/reports/rpt_vendor_counts.sql": """
        select legal_entity, count(*) as vendors from staging.stg_vendors group by all
    """,
    "models/reports/_reports.yml": """
        models:
          - name: rpt_vendor_counts
            tests:
              - sql: select * from reports.rpt_vendor_counts where vendors > 1
    """,
}


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    write_project(tmp_path, FILES)
    return tmp_path


def invoke(project_dir: Path, *args: str) -> tuple[int, str, BaseException | None]:
    base = ["--models", str(project_dir / "models"), "--seeds", str(project_dir / "seeds")]
    result = CliRunner().invoke(app, ["models", *args, *base], catch_exceptions=True)
    return result.exit_code, result.output, result.exception


def test_list_prints_the_selection_in_build_order(project_dir: Path) -> None:
    code, out, _ = invoke(project_dir, "list")
    assert code == 0
    assert [line.split("\t")[0] for line in out.splitlines()] == [
        "staging.stg_vendors",
        "reports.rpt_vendor_counts",
    ]
    code, out, _ = invoke(project_dir, "list", "rpt_vendor_counts")
    assert out.split("\t")[0] == "reports.rpt_vendor_counts"


def test_build_then_test_against_a_warehouse_file(project_dir: Path) -> None:
    warehouse = project_dir / "wh.duckdb"
    code, out, exc = invoke(project_dir, "build", "-w", str(warehouse))
    assert code == 0, exc
    assert "reports.rpt_vendor_counts" in out
    assert "success" in out
    code, out, exc = invoke(project_dir, "test", "-w", str(warehouse))
    assert code == 0, exc
    con = duckdb.connect(str(warehouse))
    con.execute(
        'INSERT INTO current_scm.vendors ("dataAreaId", "VendorAccountNumber") '
        "VALUES ('usmf', 'V1'), ('usmf', 'V1')"
    )
    con.close()
    invoke(project_dir, "build", "-w", str(warehouse))
    code, out, exc = invoke(project_dir, "test", "-w", str(warehouse))
    assert isinstance(exc, ModelTestFailed)
    assert "unique__stg_vendors__vendor_account" in str(exc)
    assert "sql__rpt_vendor_counts" in str(exc)


def test_a_failing_test_exits_non_zero_with_one_clear_line(project_dir: Path) -> None:
    warehouse = project_dir / "wh.duckdb"
    invoke(project_dir, "build", "-w", str(warehouse))
    con = duckdb.connect(str(warehouse))
    con.execute("INSERT INTO current_scm.vendors (\"dataAreaId\") VALUES ('usmf')")
    con.close()
    result = subprocess.run(
        [sys.executable, "-m", "flows.cli", "models", "test", "stg_vendors", "-w", str(warehouse),
         "--models", str(project_dir / "models"), "--seeds", str(project_dir / "seeds")],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert "error: 1 error-level model test(s) failed: not_null__stg_vendors__vendor_account" in (
        result.stderr.replace("\n", " ")
    )


def test_docs_write_a_browsable_catalog(project_dir: Path) -> None:
    warehouse = project_dir / "wh.duckdb"
    invoke(project_dir, "build", "-w", str(warehouse))
    out_dir = project_dir / "docs"
    code, _out, exc = invoke(project_dir, "docs", "--out", str(out_dir), "-w", str(warehouse))
    assert code == 0, exc
    index = (out_dir / "index.html").read_text()
    assert "<svg" in index
    assert "href='models/stg_vendors.html'" in index
    assert "One row per vendor &amp; legal entity &lt;current&gt;." in index
    page = (out_dir / "models" / "stg_vendors.html").read_text()
    assert "SCM&#x27;s vendor account." in page  # descriptions, escaped
    assert "not_null, unique" in page  # the column's tests
    assert "VARCHAR" in page  # types from the warehouse
    assert "current_scm.vendors" in page
    assert "rpt_vendor_counts.html" in page
    assert (out_dir / "models" / "rpt_vendor_counts.html").exists()
