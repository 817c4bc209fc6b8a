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

import pyarrow as pa

from connectors import catalog
from connectors.errors import PackageFormatError
from connectors.package_csv import RowError, open_csv_stream
from connectors.package_manifest import (
    HEADER,
    MANIFEST,
    FieldMap,
    Manifest,
    ManifestEntity,
    PackageHeader,
    parse_header,
    parse_manifest,
)
from connectors.package_zip import open_member

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
            lambda: open_member(self.path, self._zip, info),
            package=self._name,
            entry=info.filename,
            label=item.label,
            columns=columns,
            order=list(item.entity.field_names) if item.entity else None,
            encoding="utf-16" if unicode else csv_encoding,
            on_error=on_error,
            block_size=block_size,
            required=_required_columns(item),
        )


def _required_columns(item: PackageEntity) -> dict[str, str]:
    """Output name → header column of the columns a data file must hold: the entity's keys, and
    every column its manifest maps (a mapped column the file lacks means a broken file, not a
    field left out of the data project)."""
    if item.entity is None:
        return {}
    required = {f: item.entity.field(f).column for f in item.entity.keys}
    by_column = item.entity.by_column()
    for field_map in item.manifest.field_maps:
        found = by_column.get(field_map.entity_field.upper())
        if found is not None:
            required.setdefault(found.name, field_map.xml_field.upper())
    return required


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
