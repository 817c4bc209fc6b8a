"""Package reader faults found by the bad-input corpus, each pinned by a small test of its own."""

from __future__ import annotations

import codecs
import hashlib
import json
import random
from pathlib import Path

import pytest

from connectors import catalog
from connectors.clm import read_export
from connectors.errors import ClmExportError, PackageFormatError
from connectors.package import PackageReader, RowError
from connectors.package_writer import PackageWriter
from flows.steps.extract_clm import RowBuilder, _lines
from tests.corpus.pkgkit import columns_of, csv_text, package, unicode_bytes

CONTRACTS = catalog.entity("CLMIntegrationContracts")


def _contract(n: int, name: str) -> dict[str, str]:
    return {"LegalEntityId": "usmf", "ContractId": f"C{n:07d}", "ContractName": name}


def test_a_row_larger_than_the_read_block_is_read_whole(tmp_path: Path) -> None:
    """A 5 MB contract name (the reader parses 4 MB blocks): every row comes through intact and
    in order, none reported as an error."""
    rnd = random.Random(3)
    huge = " ".join(rnd.choice(["supply", "frame", "annex", "rebate"]) for _ in range(700_000))
    path = tmp_path / "huge.zip"
    with PackageWriter(path, definition_group="HUGE") as writer:
        writer.add_entity(
            CONTRACTS, [_contract(1, "one"), _contract(2, huge), _contract(3, "three")]
        )
    errors: list[RowError] = []
    with PackageReader(path) as reader:
        table = reader.open_csv(CONTRACTS.label, on_error=errors.append).read_all()
    assert errors == []
    assert table.column("_row_number").to_pylist() == [1, 2, 3]
    assert table.column("ContractName").to_pylist() == ["one", huge, "three"]


def _package(tmp_path: Path, data: bytes, mapped: list[str]) -> Path:
    return package(
        tmp_path / "p.zip",
        {"c.csv": (CONTRACTS, data)},
        columns={"c.csv": mapped},
    )


def _open(path: Path) -> None:
    with PackageReader(path) as reader:
        reader.open_csv(CONTRACTS.label, on_error=lambda e: None).read_all()


def test_a_header_in_the_wrong_encoding_is_refused_naming_the_file(tmp_path: Path) -> None:
    header = columns_of(CONTRACTS)
    data = csv_text(header, [["usmf", "C0000001"] + [""] * 15]).encode("utf-16-be")
    with pytest.raises(PackageFormatError, match=r"\[c\.csv\]: unreadable header row: .*encoding"):
        _open(_package(tmp_path, data, header))


def test_a_missing_key_column_is_refused_rather_than_every_row_quarantined(
    tmp_path: Path,
) -> None:
    header = [c for c in columns_of(CONTRACTS) if c != "CONTRACTID"]
    data = unicode_bytes(csv_text(header, [["usmf"] + [""] * 15]))
    with pytest.raises(PackageFormatError, match=r"column\(s\) CONTRACTID missing"):
        _open(_package(tmp_path, data, header))


def test_a_column_the_manifest_maps_but_the_file_lacks_is_refused(tmp_path: Path) -> None:
    """A broken file, not a field left out of the data project: landing it would make every
    contract name look empty."""
    full = columns_of(CONTRACTS)
    header = [c for c in full if c != "CONTRACTNAME"]
    data = unicode_bytes(csv_text(header, [["usmf", "C0000001"] + [""] * 14]))
    with pytest.raises(PackageFormatError, match=r"CONTRACTNAME missing from the header"):
        _open(_package(tmp_path, data, full))


def test_a_row_with_a_nul_character_goes_to_the_error_channel(tmp_path: Path) -> None:
    """NUL is never text in a data file (SCM writes none): the row is reported, not landed
    with a NUL inside a key or a name."""
    header = columns_of(CONTRACTS)
    rows = [
        ["usmf", "C0000001", *[""] * 15],
        ["usmf", "C\x000000002", *[""] * 15],
        ["usmf", "C0000003", "", "", "", "a\x00b", *[""] * 11],
        ["usmf", "C0000004", *[""] * 15],
    ]
    path = _package(tmp_path, unicode_bytes(csv_text(header, rows)), header)
    errors: list[RowError] = []
    with PackageReader(path) as reader:
        table = reader.open_csv(CONTRACTS.label, on_error=errors.append).read_all()
    assert table.column("ContractId").to_pylist() == ["C0000001", "C0000004"]
    assert [(e.row_number, e.reason) for e in errors] == [
        (2, "a NUL character in the text"),
        (3, "a NUL character in the text"),
    ]


def test_a_clm_object_with_a_nul_character_is_refused() -> None:
    """JSON may carry ``\\u0000``; no CLM field holds it as text, so the object is quarantined."""
    builder = RowBuilder(catalog.clm_object("contract"))
    item = {
        "id": "K-0000001", "title": "a\x00b", "contract_type": "Purchase", "status": "Draft",
        "counterparty_id": "CPTY-0000001", "business_unit": "NA", "updated_at": "2025-01-01",
    }  # fmt: skip
    builder.add(1, item)
    assert [(b.row_number, b.reason) for b in builder.bad] == [
        (1, "title: a NUL character in the text")
    ]


def _export(folder: Path, data: bytes) -> Path:
    folder.mkdir()
    (folder / "contracts.jsonl").write_bytes(data)
    entry = {"object": "contract", "file": "contracts.jsonl", "rows": 2,
             "sha256": hashlib.sha256(data).hexdigest()}  # fmt: skip
    (folder / "manifest.json").write_text(json.dumps({"export_id": "x", "files": [entry]}))
    return folder


LINES = '{"id": "K-1"}\n{"id": "K-2"}\n'


def test_a_clm_export_file_in_utf16_is_refused_saying_so(tmp_path: Path) -> None:
    """Its line count cannot be checked (it read '3 rows, the manifest says 2' before)."""
    with pytest.raises(ClmExportError, match=r"contracts\.jsonl: is UTF-16 text"):
        read_export(_export(tmp_path / "e", LINES.encode("utf-16")))


def test_a_clm_export_file_with_a_utf8_byte_order_mark_lands_its_first_row(tmp_path: Path) -> None:
    """Windows tools write UTF-8 with a byte order mark; the first object was refused as 'not
    valid JSON' because of it."""
    item = {
        "id": "K-1", "contract_type": "Purchase", "status": "Draft",
        "counterparty_id": "CPTY-1", "business_unit": "NA", "updated_at": "2025-01-01",
    }  # fmt: skip
    text = "".join(json.dumps({**item, "id": f"K-{n}"}) + "\n" for n in (1, 2))
    path = _export(tmp_path / "e", codecs.BOM_UTF8 + text.encode()) / "contracts.jsonl"
    builder = RowBuilder(catalog.clm_object("contract"))
    batches = list(_lines(builder, path))
    assert builder.bad == []
    assert [i for b in batches for i in b.column("id").to_pylist()] == ["K-1", "K-2"]
