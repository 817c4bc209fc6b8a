from __future__ import annotations

import re
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from defusedxml import ElementTree

from connectors.package import PackageReader
from connectors.package_writer import PackageWriter

NS = "{http://schemas.microsoft.com/dynamics/2015/01/DataManagement}"


def _contracts() -> list[dict[str, object]]:
    return [
        {
            "LegalEntityId": "usmf",
            "ExternalContractId": "K-0000001",
            "ContractType": "Purchase",
            "ContractStatus": "Executed",
            "ContractName": 'Frame "A", with comma\r\nand a line',
            "EffectiveDate": "2025-03-01",
            "ExpirationDate": date(2026, 12, 31),
        },
        {
            "LegalEntityId": "usmf",
            "ExternalContractId": "K-0000002",
            "ContractType": "Purchase",
            "ContractStatus": "Draft",
            "ContractName": None,
            "EffectiveDate": "1900-01-01T12:00:00Z",
            "ExpirationDate": None,
        },
    ]


def test_data_file_is_csv_unicode_as_scm_expects(tmp_path: Path) -> None:
    path = tmp_path / "import.zip"
    with PackageWriter(path, definition_group="CLMSYNC-IMPORT-USMF") as writer:
        assert writer.add_entity("CLMIntegrationContracts", _contracts()) == 2
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == [
            "CLM integration contract.csv",
            "Manifest.xml",
            "PackageHeader.xml",
        ]
        raw = archive.read("CLM integration contract.csv")
    assert raw.startswith(b"\xff\xfe")
    text = raw[2:].decode("utf-16-le")
    lines = text.split("\r\n")
    assert lines[0] == (
        '"LEGALENTITYID","EXTERNALCONTRACTID","CONTRACTTYPE","CONTRACTSTATUS","CONTRACTNAME",'
        '"EFFECTIVEDATE","EXPIRATIONDATE"'
    )
    assert lines[1].startswith('"usmf","K-0000001","Purchase","Executed","Frame ""A"", with comma')
    assert text.endswith('"usmf","K-0000002","Purchase","Draft","","1/1/1900 12:00:00 AM",""\r\n')
    assert '"3/1/2025 12:00:00 AM","12/31/2026 12:00:00 AM"' in text
    assert "\n" not in text.replace("\r\n", "")


def test_manifest_has_field_maps_alphabetical_elements_and_utf16(tmp_path: Path) -> None:
    path = tmp_path / "import.zip"
    with PackageWriter(path, definition_group="G") as writer:
        writer.add_entity("CLMIntegrationContracts", _contracts())
        writer.add_entity(
            "CLMIntegrationPurchaseAgreementLines",
            [
                {
                    "PurchaseAgreementLegalEntityId": "usmf",
                    "ExternalContractLineId": "AGL-1",
                    "Price": Decimal("12.50"),
                    "LineNumber": 1,
                }
            ],
        )
    with zipfile.ZipFile(path) as archive:
        manifest_raw = archive.read("Manifest.xml")
        header_raw = archive.read("PackageHeader.xml")
    assert manifest_raw.startswith(b"\xff\xfe")
    assert header_raw.startswith(b"\xff\xfe")
    assert not manifest_raw[2:].decode("utf-16-le").startswith("<?xml")
    root = ElementTree.fromstring(manifest_raw[2:].decode("utf-16-le"))
    assert root.tag == f"{NS}DataManagementPackageManifest"
    entities = root.find(f"{NS}PackageEntityList")
    assert entities is not None
    for entity in entities:
        names = [child.tag.removeprefix(NS) for child in entity]
        assert names == sorted(names)
        maps = entity.find(f"{NS}EntityMapList")
        assert maps is not None
        assert len(maps) > 0
        for item in maps:
            fields = [child.tag.removeprefix(NS) for child in item]
            assert fields == sorted(fields)
            assert item.findtext(f"{NS}EntityField") == item.findtext(f"{NS}XMLField")
    first, second = list(entities)
    assert first.findtext(f"{NS}SourceFormat") == "CSV-Unicode"
    assert first.findtext(f"{NS}LevelInExecutionUnit") == "3"  # contracts load before lines
    assert second.findtext(f"{NS}LevelInExecutionUnit") == "5"
    assert second.findtext(f"{NS}InputFilePath") == "CLM integration purchase agreement lines.csv"
    header = header_raw[2:].decode("utf-16-le")
    assert re.search(r"<PackageVersion>2</PackageVersion>", header)
    assert 'xmlns:i="http://www.w3.org/2001/XMLSchema-instance"' in header


def test_written_package_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "import.zip"
    table = pa.table(
        {
            "dataAreaId": ["usmf", "demf"],
            "VendorAccountNumber": ["US-O'HARA-000123", "DE-V 0001234"],
            "VendorOrganizationName": ["O'Hara & Sons", 'Müller, "GmbH"'],
            "VendorHoldReleaseDate": pa.array(
                [datetime(2025, 3, 1, 13, 5, 9), datetime(2025, 3, 1, 0, 0, 0)], pa.timestamp("s")
            ),
            "CreditLimit": pa.array([Decimal("1000.5"), None], pa.decimal128(12, 2)),
        }
    )
    with PackageWriter(path, definition_group="G") as writer:
        writer.add_entity("VendorsV2", table)
    with PackageReader(path) as reader:
        (entity,) = reader.entities()
        assert entity.entity is not None
        assert entity.entity.name == "VendorsV2"
        back = reader.open_csv("Vendors V2").read_all()
    assert back.column("VendorAccountNumber").to_pylist() == ["US-O'HARA-000123", "DE-V 0001234"]
    assert back.column("VendorOrganizationName").to_pylist() == ["O'Hara & Sons", 'Müller, "GmbH"']
    assert back.column("VendorHoldReleaseDate").to_pylist() == [
        "3/1/2025 1:05:09 PM",
        "3/1/2025 12:00:00 AM",
    ]
    assert back.column("CreditLimit").to_pylist() == ["1000.50", ""]


def test_unknown_fields_and_bad_values_are_refused(tmp_path: Path) -> None:
    with PackageWriter(tmp_path / "a.zip", definition_group="G") as writer:
        with pytest.raises(ValueError, match="no field"):
            writer.add_entity("VendorsV2", [{"dataAreaId": "usmf", "Nope": 1}])
        writer.add_entity("VendorsV2", [{"dataAreaId": "usmf"}])
        with pytest.raises(ValueError, match="already in the package"):
            writer.add_entity("VendorsV2", [{"dataAreaId": "usmf"}])
    broken = PackageWriter(tmp_path / "c.zip", definition_group="G")
    with pytest.raises(ValueError, match="cannot be written"):
        broken.add_entity("CLMIntegrationContracts", [{"EffectiveDate": "31/12/2025"}])
    with pytest.raises(ValueError, match="incomplete"):
        broken.close()
    assert not (tmp_path / "c.zip").exists()
    with pytest.raises(ValueError, match="at least one entity"):
        PackageWriter(tmp_path / "b.zip", definition_group="G").close()
    assert not (tmp_path / "b.zip").exists()
