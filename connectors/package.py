"""Data packages (the zip files SCM exports and imports): a secure reader.

The reader refuses what a hostile or broken zip could do to the machine (absolute or ``..`` entry
names, duplicates, too many entries, zip-bomb sizes and ratios) before anything is extracted. It
parses ``Manifest.xml`` and ``PackageHeader.xml`` (UTF-16 or UTF-8) with defusedxml, finds each
entity's data file through its ``InputFilePath`` and hands ``CSV-Unicode``/``CSV`` data on as a
stream of Arrow record batches (:mod:`connectors.package_csv`). The writer is in
:mod:`connectors.package_writer`.
"""

from __future__ import annotations

import logging
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
import pyarrow as pa
from defusedxml import DefusedXmlException

from connectors import catalog
from connectors.blob import decode_text
from connectors.errors import PackageFormatError
from connectors.package_csv import RowError, open_csv_stream

__all__ = [
    "FieldMap",
    "Manifest",
    "ManifestEntity",
    "PackageEntity",
    "PackageHeader",
    "PackageReader",
    "RowError",
    "ZipLimits",
]

log = logging.getLogger(__name__)

NS = "http://schemas.microsoft.com/dynamics/2015/01/DataManagement"
MANIFEST = "Manifest.xml"
HEADER = "PackageHeader.xml"
CSV_FORMATS = ("CSV-UNICODE", "CSV")


@dataclass(frozen=True)
class ZipLimits:
    """What a package may hold before it is treated as hostile or broken."""

    max_entries: int = 1000
    max_total_size: int = 32 << 30  # uncompressed bytes across all entries
    max_ratio: float = 400.0  # uncompressed / compressed, for entries above ratio_min_size
    ratio_min_size: int = 1 << 20
    max_xml_size: int = 32 << 20


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


@dataclass(frozen=True)
class PackageEntity:
    """An entity of the package with its data file and what clmsync knows of it."""

    label: str
    file: str
    source_format: str
    size: int
    entity: catalog.Entity | None
    manifest: ManifestEntity

    @property
    def supported(self) -> bool:
        return self.source_format.upper() in CSV_FORMATS


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


_DRIVE = re.compile(r"^[A-Za-z]:")


def _unsafe_name(name: str) -> str | None:
    if not name or "\x00" in name:
        return "an empty or NUL-bearing name"
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        return "an absolute path"
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if ".." in parts:
        return "a '..' component"
    return None


class PackageReader:
    """A data package opened for reading; use as a context manager or call :meth:`close`."""

    def __init__(self, path: Path, *, limits: ZipLimits | None = None) -> None:
        self.path = Path(path)
        self.limits = limits or ZipLimits()
        self._name = self.path.name
        try:
            self._zip = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise PackageFormatError(self._name, f"not a readable zip file ({exc})") from None
        try:
            self._members = self._check_entries()
            self.header = parse_header(self._read_small(HEADER))
            self.manifest = parse_manifest(self._read_small(MANIFEST))
        except ValueError as exc:
            self._zip.close()
            raise PackageFormatError(self._name, str(exc)) from None
        except PackageFormatError:
            self._zip.close()
            raise

    def __enter__(self) -> PackageReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._zip.close()

    def _check_entries(self) -> dict[str, zipfile.ZipInfo]:
        infos = self._zip.infolist()
        limits = self.limits
        if len(infos) > limits.max_entries:
            raise PackageFormatError(
                self._name, f"{len(infos)} entries; at most {limits.max_entries} are accepted"
            )
        members: dict[str, zipfile.ZipInfo] = {}
        total = 0
        for info in infos:
            problem = _unsafe_name(info.filename)
            if problem:
                raise PackageFormatError(
                    self._name, f"entry name is {problem}", entry=info.filename
                )
            key = info.filename.lower()
            if key in members:
                raise PackageFormatError(self._name, "duplicate entry name", entry=info.filename)
            members[key] = info
            total += info.file_size
            if total > limits.max_total_size:
                raise PackageFormatError(
                    self._name,
                    f"uncompressed size passes {limits.max_total_size} bytes (a zip bomb?)",
                    entry=info.filename,
                )
            if info.file_size >= limits.ratio_min_size:
                ratio = info.file_size / max(1, info.compress_size)
                if ratio > limits.max_ratio:
                    raise PackageFormatError(
                        self._name,
                        f"compression ratio {ratio:.0f}:1 is above {limits.max_ratio:.0f}:1 "
                        "(a zip bomb?)",
                        entry=info.filename,
                    )
        return members

    def _info(self, name: str) -> zipfile.ZipInfo | None:
        return self._members.get(name.lower())

    def _read_small(self, name: str) -> bytes:
        info = self._info(name)
        if info is None:
            raise PackageFormatError(self._name, f"{name} is missing: not a data package")
        if info.file_size > self.limits.max_xml_size:
            raise PackageFormatError(self._name, "too large for a package file", entry=name)
        try:
            return self._zip.read(info)
        except (zipfile.BadZipFile, OSError) as exc:
            raise PackageFormatError(self._name, f"unreadable ({exc})", entry=name) from None

    def entities(self) -> list[PackageEntity]:
        """The manifest's entities in sequence order, each with its data file."""
        found: list[PackageEntity] = []
        ordered = sorted(
            self.manifest.entities, key=lambda e: (e.execution_unit, e.level, e.sequence)
        )
        for item in ordered:
            info = self._info(item.input_file_path) if item.input_file_path else None
            if info is None:
                raise PackageFormatError(
                    self._name,
                    f"entity '{item.name}' names InputFilePath {item.input_file_path!r}, "
                    "which is not in the package",
                )
            try:
                known: catalog.Entity | None = catalog.entity_by_label(item.name)
            except KeyError:
                known = None
            found.append(
                PackageEntity(
                    label=item.name,
                    file=info.filename,
                    source_format=item.source_format,
                    size=info.file_size,
                    entity=known,
                    manifest=item,
                )
            )
        return found

    def entity(self, label: str) -> PackageEntity:
        """The package entity with data management name ``label`` (case-insensitive)."""
        for item in self.entities():
            if item.label.lower() == label.lower():
                return item
        names = ", ".join(repr(e.name) for e in self.manifest.entities) or "none"
        raise PackageFormatError(self._name, f"no entity {label!r} in the package (it has {names})")

    def open_csv(
        self,
        entity_label: str,
        *,
        on_error: Callable[[RowError], None] | None = None,
        csv_encoding: str = "utf-8",
        block_size: int = 4 << 20,
    ) -> pa.RecordBatchReader:
        """Stream an entity's CSV data as Arrow record batches of strings, plus ``_row_number``.

        Columns are the catalog's field names in catalog order (a catalog field the file lacks
        comes as nulls; a file column the catalog lacks is left out, with a warning). Rows that do
        not parse go to ``on_error`` with their data row number, the reason and their text; with
        no ``on_error`` the first such row raises :class:`PackageFormatError`. Excel and XML data
        files raise :class:`PackageFormatError` naming the entity and format.
        """
        item = self.entity(entity_label)
        if not item.supported:
            raise PackageFormatError(
                self._name,
                f"entity '{item.label}' is in format {item.source_format or 'unknown'!r}; "
                "clmsync reads CSV-Unicode (and CSV) data files only: set the data project's "
                "source format to CSV-Unicode",
                entry=item.file,
            )
        info = self._info(item.file)
        assert info is not None  # entities() found it
        columns = _column_names(item)
        unicode = item.source_format.upper() == "CSV-UNICODE"
        return open_csv_stream(
            lambda: self._zip.open(info),
            package=self._name,
            entry=info.filename,
            label=item.label,
            columns=columns,
            order=list(item.entity.field_names) if item.entity else None,
            encoding="utf-16" if unicode else csv_encoding,
            on_error=on_error,
            block_size=block_size,
        )


def _column_names(item: PackageEntity) -> Callable[[str], str | None]:
    """Map a data file column to its output name (None: not in the catalog)."""
    by_xml = {m.xml_field.upper(): m.entity_field.upper() for m in item.manifest.field_maps}
    by_column = item.entity.by_column() if item.entity else None

    def name(column: str) -> str | None:
        entity_field = by_xml.get(column.upper(), column.upper())
        if by_column is None:
            return column
        found = by_column.get(entity_field)
        return found.name if found is not None else None

    return name


def describe(reader: PackageReader) -> dict[str, Any]:
    """A plain summary of a package (for logs and the CLI)."""
    return {
        "package": reader.path.name,
        "definition_group": reader.manifest.definition_group,
        "version": reader.header.version,
        "entities": [
            {"label": e.label, "file": e.file, "format": e.source_format, "size": e.size}
            for e in reader.entities()
        ],
    }
