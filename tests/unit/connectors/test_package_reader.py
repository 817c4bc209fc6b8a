from __future__ import annotations

import zipfile
from pathlib import Path

import pyarrow as pa
import pytest

from connectors.errors import PackageFormatError
from connectors.package import PackageReader, RowError, ZipLimits

CORPUS = Path(__file__).parents[2] / "corpus" / "dmf"
NS = 'xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://schemas.microsoft.com/dynamics/2015/01/DataManagement"'
HEADER = (
    f"<DataManagementPackageHeader {NS}><Description>T</Description><ManifestType>M</ManifestType>"
    "<PackageType>DefinitionGroup</PackageType><PackageVersion>2</PackageVersion>"
    "</DataManagementPackageHeader>"
)


def manifest(entities: str) -> str:
    return (
        f"<DataManagementPackageManifest {NS}><DefinitionGroupName>CLMSYNC-EXPORT-USMF"
        f"</DefinitionGroupName><Description>d</Description><PackageEntityList>{entities}"
        "</PackageEntityList></DataManagementPackageManifest>"
    )


def entity_xml(label: str, file: str, fmt: str = "CSV-Unicode", maps: str = "") -> str:
    return (
        "<DataManagementPackageEntityData>"
        f"<EntityMapList>{maps}</EntityMapList><EntityName>{label}</EntityName>"
        f"<InputFilePath>{file}</InputFilePath><SourceFormat>{fmt}</SourceFormat>"
        "</DataManagementPackageEntityData>"
    )


def utf16(text: str) -> bytes:
    return b"\xff\xfe" + text.encode("utf-16-le")


def build(tmp_path: Path, files: dict[str, bytes], name: str = "p.zip") -> Path:
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry, data in files.items():
            archive.writestr(entry, data)
    return path


def vendors_package(tmp_path: Path, csv_text: str, *, raw: bytes | None = None) -> Path:
    return build(
        tmp_path,
        {
            "Manifest.xml": utf16(manifest(entity_xml("Vendors V2", "Vendors V2.csv"))),
            "PackageHeader.xml": utf16(HEADER),
            "Vendors V2.csv": raw if raw is not None else utf16(csv_text),
        },
    )


def read(path: Path) -> tuple[pa.Table, list[RowError]]:
    errors: list[RowError] = []
    with PackageReader(path) as reader:
        table = reader.open_csv("vendors v2", on_error=errors.append).read_all()
    return table, errors


def test_microsofts_sample_package_is_parsed_and_its_excel_file_refused() -> None:
    with PackageReader(CORPUS / "usmf_asset-major-types-01.zip") as reader:
        assert reader.header.version == 1
        assert reader.header.package_type == "DefinitionGroup"
        assert reader.manifest.definition_group == "Asset-Major-Types"
        (entity,) = reader.entities()
        assert entity.label == "Fixed asset major type"
        assert entity.file == "Fixed asset major type.xlsx"
        assert [m.entity_field for m in entity.manifest.field_maps] == [
            "DESCRIPTION",
            "MAJORTYPEID",
        ]
        assert not entity.supported
        with pytest.raises(PackageFormatError) as caught:
            reader.open_csv("Fixed asset major type")
    message = str(caught.value)
    assert "'Fixed asset major type'" in message
    assert "'EXCEL'" in message
    assert "CSV-Unicode" in message


HEAD = '"DATAAREAID","VENDORACCOUNTNUMBER","VENDORORGANIZATIONNAME","ONHOLDSTATUS"\r\n'


def test_csv_unicode_rows_stream_as_strings_named_by_the_catalog(tmp_path: Path) -> None:
    text = HEAD + (
        '"usmf","US-V0000001","Contoso ""East""","No"\r\n'
        '"usmf","US-O\'HARA-000123","Multi\r\nline name","All"\r\n'
        '"demf","DE-V 0001234","Müller & Söhne","No"\r\n'
    )
    table, errors = read(vendors_package(tmp_path, text))
    assert errors == []
    assert table.column("VendorAccountNumber").to_pylist() == [
        "US-V0000001",
        "US-O'HARA-000123",
        "DE-V 0001234",
    ]
    assert table.column("VendorOrganizationName").to_pylist()[0] == 'Contoso "East"'
    assert table.column("VendorOrganizationName").to_pylist()[1] == "Multi\r\nline name"
    assert table.column("_row_number").to_pylist() == [1, 2, 3]
    assert table.schema.names[:3] == ["dataAreaId", "VendorAccountNumber", "VendorOrganizationName"]
    assert all(pa.types.is_string(t) for t in table.schema.types[:-1])
    assert table.column("CurrencyCode").null_count == 3  # not in the file


def test_bad_rows_go_to_the_error_channel_with_their_row_numbers(tmp_path: Path) -> None:
    text = HEAD + (
        '"usmf","V1","A","No"\r\n'
        '"usmf","V2","too few"\r\n'
        '"usmf","V3","C","No"\r\n'
        '"usmf","V4","D","No","extra"\r\n'
        '"usmf","V5","E","No"\r\n'
    )
    table, errors = read(vendors_package(tmp_path, text))
    assert table.column("VendorAccountNumber").to_pylist() == ["V1", "V3", "V5"]
    assert table.column("_row_number").to_pylist() == [1, 3, 5]
    assert [(e.row_number, e.reason) for e in errors] == [
        (2, "expected 4 columns, found 3"),
        (4, "expected 4 columns, found 5"),
    ]
    assert errors[0].raw_text == '"usmf","V2","too few"'
    assert errors[0].entity == "Vendors V2"
    assert errors[0].file == "Vendors V2.csv"
    assert table.num_rows + len(errors) == 5


def test_undecodable_text_is_quarantined_not_dropped(tmp_path: Path) -> None:
    good = HEAD + '"usmf","V1","A","No"\r\n'
    broken = '"usmf","V2","B\udcff","No"\r\n'  # placeholder for a lone surrogate
    raw = (
        utf16(good)
        + broken.replace("\udcff", "X")
        .encode("utf-16-le")
        .replace(
            "X".encode("utf-16-le"),
            b"\x00\xd8",  # a high surrogate with no low one after it
        )
        + '"usmf","V3","C","No"\r\n'.encode("utf-16-le")
    )
    table, errors = read(vendors_package(tmp_path, "", raw=raw))
    assert table.column("VendorAccountNumber").to_pylist() == ["V1", "V3"]
    assert [(e.row_number, e.reason) for e in errors] == [
        (2, "text not valid in the file's encoding")
    ]
    assert "V2" in errors[0].raw_text


def test_without_an_error_channel_a_bad_row_stops_the_read(tmp_path: Path) -> None:
    path = vendors_package(tmp_path, HEAD + '"usmf","V1"\r\n')
    with PackageReader(path) as reader, pytest.raises(PackageFormatError, match="row 1"):
        reader.open_csv("Vendors V2").read_all()


def test_field_maps_and_utf8_manifest_with_declaration(tmp_path: Path) -> None:
    maps = (
        "<EntityMap><EntityField>VENDORACCOUNTNUMBER</EntityField><XMLField>ACCOUNT</XMLField></EntityMap>"
        "<EntityMap><EntityField>DATAAREAID</EntityField><XMLField>COMPANY</XMLField></EntityMap>"
    )
    xml = '<?xml version="1.0" encoding="utf-8"?>' + manifest(
        entity_xml("Vendors V2", "v.csv", "CSV", maps)
    )
    path = build(
        tmp_path,
        {
            "Manifest.xml": xml.encode("utf-8"),
            "PackageHeader.xml": HEADER.encode("utf-8"),
            "v.csv": b"COMPANY,ACCOUNT,UNKNOWNCOL\r\nusmf,V1,x\r\n",
        },
    )
    table, errors = read(path)
    assert errors == []
    assert table.column("dataAreaId").to_pylist() == ["usmf"]
    assert table.column("VendorAccountNumber").to_pylist() == ["V1"]
    assert "UNKNOWNCOL" not in table.schema.names


def test_header_only_file_gives_no_rows(tmp_path: Path) -> None:
    table, errors = read(vendors_package(tmp_path, HEAD))
    assert table.num_rows == 0
    assert errors == []


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ("/etc/passwd", "absolute path"),
        ("../evil.csv", "'..' component"),
        ("C:\\evil.csv", "absolute path"),
        ("a/../../evil.csv", "'..' component"),
    ],
)
def test_unsafe_entry_names_are_refused(tmp_path: Path, entry: str, reason: str) -> None:
    path = build(tmp_path, {"Manifest.xml": b"x", "PackageHeader.xml": b"x", entry: b"x"})
    with pytest.raises(PackageFormatError, match=reason):
        PackageReader(path)


def test_duplicates_counts_sizes_and_ratios_are_limited(tmp_path: Path) -> None:
    dup = tmp_path / "dup.zip"
    with zipfile.ZipFile(dup, "w") as archive:
        archive.writestr("a.csv", b"1")
        archive.writestr("A.CSV", b"2")
    with pytest.raises(PackageFormatError, match="duplicate"):
        PackageReader(dup)
    many = build(tmp_path, {f"f{i}.csv": b"x" for i in range(20)}, "many.zip")
    with pytest.raises(PackageFormatError, match="20 entries"):
        PackageReader(many, limits=ZipLimits(max_entries=10))
    bomb = build(tmp_path, {"zeros.csv": b"\0" * (4 << 20)}, "bomb.zip")
    with pytest.raises(PackageFormatError, match="compression ratio"):
        PackageReader(bomb)
    with pytest.raises(PackageFormatError, match="uncompressed size"):
        PackageReader(bomb, limits=ZipLimits(max_total_size=1 << 20, max_ratio=1e9))


def test_hostile_or_broken_xml_is_refused(tmp_path: Path) -> None:
    bomb = (
        '<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]>'
        "<DataManagementPackageHeader>&b;</DataManagementPackageHeader>"
    )
    path = build(tmp_path, {"Manifest.xml": b"<x/>", "PackageHeader.xml": bomb.encode()})
    with pytest.raises(PackageFormatError, match="forbidden XML"):
        PackageReader(path)
    path = build(tmp_path, {"Manifest.xml": b"<x/>", "PackageHeader.xml": b"<unclosed>"}, "b.zip")
    with pytest.raises(PackageFormatError, match="not well-formed"):
        PackageReader(path)
    path = build(tmp_path, {"PackageHeader.xml": utf16(HEADER)}, "c.zip")
    with pytest.raises(PackageFormatError, match=r"Manifest\.xml is missing"):
        PackageReader(path)
    with pytest.raises(PackageFormatError, match="not a readable zip"):
        PackageReader(CORPUS.parent.parent / "conftest.py")


def test_missing_data_file_and_unknown_entity(tmp_path: Path) -> None:
    path = build(
        tmp_path,
        {
            "Manifest.xml": utf16(manifest(entity_xml("Vendors V2", "missing.csv"))),
            "PackageHeader.xml": utf16(HEADER),
        },
    )
    with (
        PackageReader(path) as reader,
        pytest.raises(PackageFormatError, match=r"'missing\.csv', which is not in the package"),
    ):
        reader.entities()
    (tmp_path / "ok").mkdir()
    ok = vendors_package(tmp_path / "ok", HEAD)
    with PackageReader(ok) as reader, pytest.raises(PackageFormatError, match="no entity 'Nope'"):
        reader.open_csv("Nope")


def test_damaged_data_is_detected_by_its_crc(tmp_path: Path) -> None:
    path = vendors_package(tmp_path, HEAD + '"usmf","V1","A","No"\r\n' * 2000)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("Vendors V2.csv")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + info.compress_size // 2] ^= 0x55
    path.write_bytes(bytes(data))
    with PackageReader(path) as reader, pytest.raises(PackageFormatError):
        reader.open_csv("Vendors V2", on_error=lambda e: None).read_all()


def test_row_numbers_stay_exact_across_many_batches(tmp_path: Path) -> None:
    lines = []
    bad = set()
    for n in range(1, 3001):
        if n % 97 == 0 or n == 1:
            lines.append(f'"usmf","V{n}","broken"\r\n')
            bad.add(n)
        elif n % 89 == 0:
            lines.append(f'"usmf","V{n}","two\r\nlines","No"\r\n')
        else:
            lines.append(f'"usmf","V{n}","Name {n}","No"\r\n')
    path = vendors_package(tmp_path, HEAD + "".join(lines))
    errors: list[RowError] = []
    with PackageReader(path) as reader:
        stream = reader.open_csv("Vendors V2", on_error=errors.append, block_size=4096)
        batches = list(stream)
    assert len(batches) > 10
    table = pa.Table.from_batches(batches)
    numbers = table.column("_row_number").to_pylist()
    assert numbers == [n for n in range(1, 3001) if n not in bad]
    assert table.column("VendorAccountNumber").to_pylist() == [f"V{n}" for n in numbers]
    assert [e.row_number for e in errors] == sorted(bad)
    assert table.num_rows + len(errors) == 3000


def test_a_stream_left_unfinished_stops_its_threads(tmp_path: Path) -> None:
    import threading
    import time

    path = vendors_package(tmp_path, HEAD + '"usmf","V1","A","No"\r\n' * 200_000)
    with PackageReader(path) as reader:
        stream = reader.open_csv("Vendors V2", block_size=1 << 16)
        first = stream.read_next_batch()
        assert first.num_rows > 0
        stream.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        alive = [t for t in threading.enumerate() if t.name.startswith("package-")]
        if not alive:
            break
        time.sleep(0.05)
    assert not alive
