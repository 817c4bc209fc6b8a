"""``Manifest.xml`` and ``PackageHeader.xml`` of a data package: the model and a safe parser.

Both files are parsed with defusedxml (no DTDs, no entities), in UTF-16 (SCM's own) or UTF-8
(what third-party tools write), with or without an XML declaration. Elements are read by local
name, so the DataManagement namespace may be present or not.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from connectors.blob import decode_text

NS = "http://schemas.microsoft.com/dynamics/2015/01/DataManagement"
MANIFEST = "Manifest.xml"
HEADER = "PackageHeader.xml"


@dataclass(frozen=True)
class FieldMap:
    """One ``EntityMap``: the data file column (``XMLField``) feeding an entity field."""

    entity_field: str
    xml_field: str
    array_index: int = 0


@dataclass(frozen=True)
class ManifestEntity:
    """One ``DataManagementPackageEntityData`` of the manifest."""

    name: str  # the data management entity name (label), e.g. "Vendors V2"
    input_file_path: str
    source_format: str
    execution_unit: int = 1
    level: int = 1
    sequence: int = 1
    field_maps: tuple[FieldMap, ...] = ()
    target_entity: str | None = None
    refresh_type: str | None = None


@dataclass(frozen=True)
class Manifest:
    definition_group: str
    description: str
    entities: tuple[ManifestEntity, ...]


@dataclass(frozen=True)
class PackageHeader:
    description: str
    manifest_type: str
    package_type: str
    version: int


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(node: Element, name: str) -> Element | None:
    for child in node:
        if _local(child.tag) == name:
            return child
    return None


def _text(node: Element, name: str, default: str = "") -> str:
    child = _child(node, name)
    return (child.text or "").strip() if child is not None else default


def _int(node: Element, name: str, default: int, where: str) -> int:
    raw = _text(node, name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{where}: {name} is {raw!r}, not a number") from None


def parse_xml(data: bytes, what: str) -> Element:
    """Parse package XML safely (no DTDs or entities), UTF-16 or UTF-8."""
    try:
        text = decode_text(data)
    except UnicodeDecodeError:
        try:
            text = data.decode("utf-16-le")
        except UnicodeDecodeError as exc:
            raise ValueError(f"{what} is neither UTF-8 nor UTF-16 text") from exc
    try:
        root: Element = SafeET.fromstring(text)
    except DefusedXmlException as exc:
        raise ValueError(f"{what} uses forbidden XML constructs ({type(exc).__name__})") from exc
    except ParseError as exc:
        raise ValueError(f"{what} is not well-formed XML ({exc})") from exc
    return root


def parse_manifest(data: bytes) -> Manifest:
    root = parse_xml(data, MANIFEST)
    if _local(root.tag) != "DataManagementPackageManifest":
        raise ValueError(f"{MANIFEST}: root element is {_local(root.tag)}")
    entities: list[ManifestEntity] = []
    listing = _child(root, "PackageEntityList")
    for node in list(listing) if listing is not None else []:
        name = _text(node, "EntityName")
        where = f"{MANIFEST} entity {name or '?'}"
        if not name:
            raise ValueError(f"{MANIFEST}: an entity has no EntityName")
        maps: list[FieldMap] = []
        map_list = _child(node, "EntityMapList")
        for item in list(map_list) if map_list is not None else []:
            entity_field = _text(item, "EntityField")
            if entity_field:
                xml_field = _text(item, "XMLField") or entity_field
                maps.append(FieldMap(entity_field, xml_field, _int(item, "ArrayIndex", 0, where)))
        entities.append(
            ManifestEntity(
                name=name,
                input_file_path=_text(node, "InputFilePath"),
                source_format=_text(node, "SourceFormat"),
                execution_unit=_int(node, "ExecutionUnit", 1, where),
                level=_int(node, "LevelInExecutionUnit", 1, where),
                sequence=_int(node, "SequenceInLevel", 1, where),
                field_maps=tuple(maps),
                target_entity=_text(node, "TargetEntity") or None,
                refresh_type=_text(node, "DefaultRefreshType") or None,
            )
        )
    return Manifest(
        definition_group=_text(root, "DefinitionGroupName"),
        description=_text(root, "Description"),
        entities=tuple(entities),
    )


def parse_header(data: bytes) -> PackageHeader:
    root = parse_xml(data, HEADER)
    if _local(root.tag) != "DataManagementPackageHeader":
        raise ValueError(f"{HEADER}: root element is {_local(root.tag)}")
    version = _int(root, "PackageVersion", 0, HEADER)
    if version not in (1, 2):
        raise ValueError(f"{HEADER}: PackageVersion {version} is not 1 or 2")
    return PackageHeader(
        description=_text(root, "Description"),
        manifest_type=_text(root, "ManifestType"),
        package_type=_text(root, "PackageType"),
        version=version,
    )
