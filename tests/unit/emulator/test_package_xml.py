"""Package XML: alphabetical elements, UTF-16 with BOM, and reading UTF-8 or UTF-16 manifests."""

from __future__ import annotations

import io
import zipfile

from defusedxml import ElementTree

from connectors import catalog
from emulator.package import ExportEntity, decode_xml, header_xml, manifest_xml, read_manifest

NS = "{http://schemas.microsoft.com/dynamics/2015/01/DataManagement}"


def _manifest() -> bytes:
    entity = catalog.entity("CLMIntegrationContracts")
    return manifest_xml(
        "PROJ", "PROJ & co", [ExportEntity(entity, 1, 3, 2, "IncrementalPush", "TRUE")]
    )


def test_manifest_is_utf16_with_sorted_children_and_escaped_text() -> None:
    data = _manifest()
    assert data.startswith(b"\xff\xfe<\x00D\x00")
    root = ElementTree.fromstring(decode_xml(data))
    assert root.find(f"{NS}Description").text == "PROJ & co"
    for node in root.iter():
        tags = [c.tag for c in node]
        assert tags == sorted(tags), node.tag


def test_read_manifest_round_trip_and_utf8() -> None:
    for data in (
        _manifest(),
        b'<?xml version="1.0" encoding="utf-8"?>' + decode_xml(_manifest()).encode(),
    ):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("Manifest.xml", data)
        project, entities = read_manifest(zipfile.ZipFile(buffer))
        assert project == "PROJ"
        (entry,) = entities
        assert entry.label == "CLM integration contract"
        assert entry.file == "CLM integration contract.csv"
        assert (entry.unit, entry.level, entry.sequence) == (1, 3, 2)
        assert entry.mapping is not None
        assert entry.mapping["CONTRACTID"] == "CONTRACTID"


def test_header_names_the_manifest_type() -> None:
    text = decode_xml(header_xml("X"))
    assert "<PackageType>DefinitionGroup</PackageType><PackageVersion>2</PackageVersion>" in text


def test_utf16_big_endian_is_read() -> None:
    assert decode_xml("\ufeff<a/>".encode("utf-16-be")) == "<a/>"
