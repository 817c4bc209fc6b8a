"""Hostile files: zip slip, zip bombs, XML entities. Refused with a clear error, and nothing
written anywhere but where clmsync keeps its own files (checked on the filesystem)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.corpus import hostile_build
from tests.reliability.clikit import offline_settings, run_cli
from tests.reliability.tally import TALLY

HOSTILE = Path(__file__).parents[1] / "corpus" / "packages" / "hostile"
CASES = json.loads((HOSTILE / "expected.json").read_text(encoding="utf-8"))
# Where the entries of the zip-slip packages would end up if anything extracted them.
ESCAPES = ("escaped.csv", "escaped.txt", "clmsync-escaped.txt")


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def _escaped(root: Path) -> list[Path]:
    """Files named like a zip-slip entry anywhere a '..' or absolute entry could reach."""
    found: list[Path] = []
    for folder in {root, *root.parents[:4], Path("/tmp"), Path.cwd()}:
        found += [folder / name for name in ESCAPES if (folder / name).exists()]
    return found


def refused_by_cli(
    package: Path, case: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Land ``package`` with ``clmsync land-package``: exit 1, an error naming the package and
    the reason, and the sandbox holds only the input, the settings and the warehouse."""
    sandbox = tmp_path / "sandbox"
    (sandbox / "in").mkdir(parents=True)
    local = sandbox / "in" / package.name
    shutil.copyfile(package, local)
    config = offline_settings(sandbox)
    before = _tree(sandbox)
    code, out = run_cli(["land-package", str(local), "-c", str(config)], capsys)
    assert code == 1, out
    assert package.name in out, out
    assert case["error"] in out, out
    written = _tree(sandbox) - before
    assert {w for w in written if not w.startswith("wh/warehouse.duckdb")} == set(), written
    assert _escaped(sandbox) == []
    TALLY.bad_input(f"hostile/{package.name}", refused=True)


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_a_hostile_package_is_refused_and_writes_nothing(
    case: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    refused_by_cli(HOSTILE / case["file"], case, tmp_path, capsys)


def test_a_package_with_thousands_of_entries_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (case,) = hostile_build.build_large(tmp_path / "large")
    refused_by_cli(tmp_path / "large" / case["file"], case, tmp_path, capsys)


def test_a_member_inflating_past_its_declared_size_is_stopped_early(tmp_path: Path) -> None:
    """512 MB of zeros declared as 200 bytes: refused, and the reader stops near the declared
    size instead of inflating it all (the process's memory grows by far less than that)."""
    import resource
    import zlib

    from connectors.errors import PackageFormatError
    from connectors.package import PackageReader

    path = tmp_path / "bomb.zip"
    hostile_build._with(path, hostile_build.DATA_FILE)
    zeros = zlib.compressobj(1, zlib.DEFLATED, -15)
    block = bytes(8 << 20)
    deflated = b"".join(zeros.compress(block) for _ in range(64)) + zeros.flush()
    raw = bytearray(path.read_bytes())
    hostile_build._replace_member(raw, hostile_build.DATA_FILE, deflated, 0, declared=200)
    path.write_bytes(bytes(raw))
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with PackageReader(path) as reader, pytest.raises(PackageFormatError, match=r"bomb\.zip"):
        reader.open_csv("CLM integration contract", on_error=lambda e: None).read_all()
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
    assert grown_mb < 100, f"peak memory grew by {grown_mb:.0f} MB"
    assert os.path.getsize(path) * 100 < 512 << 20, "a bomb: it inflates 100 times or more"


def test_a_clm_export_naming_a_file_outside_its_folder_is_refused(tmp_path: Path) -> None:
    """The manifest's ``../../etc/passwd`` is refused before anything is read or written."""
    from tests.reliability.test_corpus import EXPORTS, extract_and_check

    (case,) = [c for c in EXPORTS if c["case"] == "manifest_unsafe_path"]
    corpus = Path(__file__).parents[1] / "corpus" / "clm" / case["case"]
    extract_and_check(corpus, case, tmp_path)
    assert _tree(tmp_path) <= {"warehouse.duckdb", "warehouse.duckdb.wal"}
