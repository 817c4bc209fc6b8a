"""Byte-level tools for writing data packages by hand, broken ones included.

:class:`connectors.package_writer.PackageWriter` only writes valid packages; the corpus needs
packages that are wrong in one precise way (a row with a column too many, a file in the wrong
encoding, a manifest with a DTD), so the pieces are written here from plain strings. Every zip
member gets the same fixed time stamp, so a package built twice is the same bytes.
"""

from __future__ import annotations

import codecs
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from connectors import catalog

STAMP = (2025, 1, 1, 0, 0, 0)
NS = "http://schemas.microsoft.com/dynamics/2015/01/DataManagement"
NS_I = "http://www.w3.org/2001/XMLSchema-instance"
MANIFEST_TYPE = (
    "Microsoft.Dynamics.AX.Framework.Tools.DataManagement.Serialization."
    "DataManagementPackageManifest"
)

Row = Sequence[str]


def quoted(values: Iterable[str]) -> str:
    """One CSV line: every field quoted, quotes doubled, CRLF (SCM's CSV-Unicode layout)."""
    return ",".join('"' + v.replace('"', '""') + '"' for v in values) + "\r\n"


def csv_text(header: Sequence[str], rows: Iterable[Row | str]) -> str:
    """A CSV file as text; a ``str`` row is written as it is (for deliberately broken lines)."""
    lines = [quoted(header)]
    lines += [r if isinstance(r, str) else quoted(r) for r in rows]
    return "".join(lines)


def unicode_bytes(text: str) -> bytes:
    """CSV-Unicode: UTF-16 LE with a byte order mark."""
    return codecs.BOM_UTF16_LE + text.encode("utf-16-le")


def columns_of(entity: catalog.Entity) -> list[str]:
    """The entity's package header: upper-case field names in catalog order."""
    return [f.column for f in entity.fields]


def entity_xml(label: str, file: str, columns: Sequence[str], fmt: str, sequence: int) -> str:
    maps = "".join(
        "<EntityMap><ArrayIndex>0</ArrayIndex>"
        f"<EntityField>{c}</EntityField><XMLField>{c}</XMLField></EntityMap>"
        for c in columns
    )
    return (
        "<DataManagementPackageEntityData>"
        f"<EntityMapList>{maps}</EntityMapList>"
        f"<EntityName>{label}</EntityName>"
        "<ExecutionUnit>1</ExecutionUnit>"
        f"<InputFilePath>{file}</InputFilePath>"
        "<LevelInExecutionUnit>1</LevelInExecutionUnit>"
        f"<SequenceInLevel>{sequence}</SequenceInLevel>"
        f"<SourceFormat>{fmt}</SourceFormat>"
        "</DataManagementPackageEntityData>"
    )


def manifest_xml(entities: Sequence[str], *, prolog: str = "") -> str:
    """``Manifest.xml`` around already written entity elements; ``prolog`` goes before the root
    element (a DTD, for the hostile cases)."""
    return (
        f'{prolog}<DataManagementPackageManifest xmlns:i="{NS_I}" xmlns="{NS}">'
        "<DefinitionGroupName>CORPUS</DefinitionGroupName><Description>corpus</Description>"
        f"<PackageEntityList>{''.join(entities)}</PackageEntityList>"
        "</DataManagementPackageManifest>"
    )


def header_xml(*, prolog: str = "", description: str = "corpus") -> str:
    return (
        f'{prolog}<DataManagementPackageHeader xmlns:i="{NS_I}" xmlns="{NS}">'
        f"<Description>{description}</Description><ManifestType>{MANIFEST_TYPE}</ManifestType>"
        "<PackageType>DefinitionGroup</PackageType><PackageVersion>2</PackageVersion>"
        "</DataManagementPackageHeader>"
    )


def xml_bytes(text: str) -> bytes:
    return codecs.BOM_UTF16_LE + text.encode("utf-16-le")


def write_zip(
    path: Path,
    members: Iterable[tuple[str, bytes]],
    *,
    method: int = zipfile.ZIP_DEFLATED,
) -> Path:
    """A zip of ``members`` with fixed time stamps (reproducible bytes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=STAMP)
            info.compress_type = method
            info.external_attr = 0o644 << 16
            archive.writestr(
                info, data, compresslevel=6 if method == zipfile.ZIP_DEFLATED else None
            )
    return path


def package(
    path: Path,
    files: Mapping[str, tuple[catalog.Entity | str, bytes]],
    *,
    fmt: str = "CSV-Unicode",
    columns: Mapping[str, Sequence[str]] | None = None,
    manifest: str | None = None,
    header: str | None = None,
) -> Path:
    """A package: ``files`` maps a data file name to (entity or label, its bytes). The manifest
    maps the entity's catalog columns unless ``columns`` says otherwise for a file."""
    entities = []
    for sequence, (file, (entity, _)) in enumerate(files.items(), 1):
        label = entity.label if isinstance(entity, catalog.Entity) else entity
        mapped = (columns or {}).get(file)
        if mapped is None:
            mapped = columns_of(entity) if isinstance(entity, catalog.Entity) else []
        entities.append(entity_xml(label, file, mapped, fmt, sequence))
    members = [(file, data) for file, (_, data) in files.items()]
    members.append(("Manifest.xml", xml_bytes(manifest or manifest_xml(entities))))
    members.append(("PackageHeader.xml", xml_bytes(header or header_xml())))
    return write_zip(path, members)
