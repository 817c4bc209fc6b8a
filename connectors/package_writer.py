"""Data packages SCM imports: ``Manifest.xml``, ``PackageHeader.xml`` and ``CSV-Unicode`` files.

What SCM's own exports look like is what is written (reference §2): XML in UTF-16 LE with a BOM,
no declaration, the DataManagement namespaces, child elements in alphabetical order, an explicit
``EntityMapList`` (without it DMF may stage nothing and still report success), ``PackageVersion``
2. Data files are CSV-Unicode: UTF-16 LE + BOM, CRLF, commas, every field quoted, uppercase
header in catalog order, dates in en-US ``M/D/YYYY h:mm:ss AM``. Values are formatted with Arrow
compute over whole columns, never row by row.
"""

from __future__ import annotations

import codecs
import io
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from xml.sax.saxutils import escape

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from connectors import catalog
from connectors.catalog import Entity, Field

NS = "http://schemas.microsoft.com/dynamics/2015/01/DataManagement"
NS_I = "http://www.w3.org/2001/XMLSchema-instance"
MANIFEST_TYPE = (
    "Microsoft.Dynamics.AX.Framework.Tools.DataManagement.Serialization."
    "DataManagementPackageManifest"
)
SOURCE_FORMAT = "CSV-Unicode"
BATCH_ROWS = 65536


@dataclass(frozen=True)
class _Written:
    entity: Entity
    file: str
    columns: tuple[str, ...]
    unit: int
    level: int
    sequence: int
    rows: int


def rows_to_table(rows: Iterable[Mapping[str, object]]) -> pa.Table:
    """Python rows (any of them may lack a field) as a table of text columns."""
    listed = list(rows)
    names: dict[str, None] = {}
    for row in listed:
        names.update(dict.fromkeys(row))
    return pa.table(
        {n: pa.array([catalog.scm_text(r.get(n)) for r in listed], pa.string()) for n in names}
    )


def _us_datetime(moment: pa.Array) -> pa.Array:
    """Timestamps as en-US ``M/D/YYYY h:mm:ss AM|PM`` (no zero padding of month, day, hour)."""
    hour = pc.hour(moment)
    hour12 = pc.if_else(
        pc.equal(hour, 0), 12, pc.if_else(pc.greater(hour, 12), pc.subtract(hour, 12), hour)
    )
    two = [
        pc.utf8_lpad(pc.cast(part(moment), pa.string()), 2, "0") for part in (pc.minute, pc.second)
    ]
    return pc.binary_join_element_wise(
        pc.cast(pc.month(moment), pa.string()),
        "/",
        pc.cast(pc.day(moment), pa.string()),
        "/",
        pc.cast(pc.year(moment), pa.string()),
        " ",
        pc.cast(hour12, pa.string()),
        ":",
        two[0],
        ":",
        two[1],
        " ",
        pc.if_else(pc.less(hour, 12), "AM", "PM"),
        "",
    )


def _as_timestamp(column: pa.Array, spec: Field) -> pa.Array:
    if pa.types.is_timestamp(column.type) or pa.types.is_date(column.type):
        return pc.cast(column, pa.timestamp("us"))
    text = pc.utf8_trim_whitespace(pc.cast(column, pa.string()))
    text = pc.if_else(pc.equal(text, ""), None, text)
    if spec.type == "date":
        return pc.cast(
            pc.cast(pc.utf8_slice_codeunits(text, 0, 10), pa.date32()), pa.timestamp("us")
        )
    text = pc.if_else(
        pc.equal(pc.utf8_length(text), 10), pc.binary_join_element_wise(text, "T00:00:00", ""), text
    )
    zoned = pc.match_substring_regex(text, r"(Z|[+-]\d\d:?\d\d)$")
    text = pc.if_else(zoned, text, pc.binary_join_element_wise(text, "Z", ""))
    moment = pc.cast(text, pa.timestamp("us", "UTC"))
    return pc.cast(pc.cast(moment, pa.timestamp("us", "UTC")), pa.timestamp("us"))


def format_column(column: pa.Array | pa.ChunkedArray, spec: Field) -> pa.Array:
    """One column as package text for a field of ``spec``'s type ('' for nulls)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if spec.type in ("date", "datetime"):
        moment = _as_timestamp(column, spec)
        if spec.type == "date":  # a date is midnight, whatever time came with it
            moment = pc.floor_temporal(moment, unit="day")
        text = _us_datetime(moment)
    elif pa.types.is_boolean(column.type):
        text = pc.if_else(column, "Yes", "No")
    else:
        text = pc.cast(column, pa.string())
    return pc.fill_null(text, "")


class PackageWriter:
    """Builds one import package; call :meth:`add_entity` per entity, then :meth:`close`."""

    def __init__(
        self,
        path: Path,
        *,
        definition_group: str,
        description: str | None = None,
        compresslevel: int = 6,
    ) -> None:
        self.path = Path(path)
        self.definition_group = definition_group
        self.description = description or definition_group
        self._zip = zipfile.ZipFile(
            self.path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=compresslevel
        )
        self._written: list[_Written] = []
        self._closed = False
        self._broken: str | None = None

    def __enter__(self) -> PackageWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self._zip.close()
            self.path.unlink(missing_ok=True)

    def add_entity(
        self,
        entity: Entity | str,
        data: pa.Table | pa.RecordBatchReader | Iterable[Mapping[str, object]],
        *,
        fields: Sequence[str] | None = None,
        level: int | None = None,
        sequence: int | None = None,
        execution_unit: int = 1,
    ) -> int:
        """Write one entity's rows as ``<label>.csv``; returns the number of rows written.

        Columns are ``fields`` (default: the data's columns), written in catalog order; a name
        that is not one of the entity's fields is an error. ``level`` defaults to the entity's
        catalog level (dependencies load first); ``sequence`` to its position in that level.
        """
        spec = entity if isinstance(entity, Entity) else catalog.entity(entity)
        if any(w.entity.name == spec.name for w in self._written):
            raise ValueError(f"{spec.name} is already in the package")
        if not isinstance(data, pa.Table | pa.RecordBatchReader):
            data = rows_to_table(data)
        names = list(fields) if fields is not None else list(data.schema.names)
        unknown = [n for n in names if n not in spec.field_names]
        if unknown:
            raise ValueError(f"{spec.name} has no field(s) {unknown}")
        missing = [n for n in names if n not in data.schema.names]
        if missing:
            raise ValueError(f"the data for {spec.name} has no column(s) {missing}")
        columns = tuple(n for n in spec.field_names if n in names)
        file = f"{spec.label}.csv"
        at_level = level if level is not None else spec.level
        in_level = sum(1 for w in self._written if w.level == at_level and w.unit == execution_unit)
        if self._broken:
            raise ValueError(f"the package is incomplete: writing {self._broken} failed")
        try:
            rows = self._write_csv(file, spec, columns, data)
        except BaseException:
            self._broken = spec.name  # half a data file is in the zip: the package is unusable
            raise
        self._written.append(
            _Written(spec, file, columns, execution_unit, at_level, sequence or in_level + 1, rows)
        )
        return rows

    def _write_csv(
        self,
        file: str,
        spec: Entity,
        columns: tuple[str, ...],
        data: pa.Table | pa.RecordBatchReader,
    ) -> int:
        options = pacsv.WriteOptions(
            include_header=False, quoting_style="all_valid", eol="\r\n", batch_size=8192
        )
        batches = data.to_batches(BATCH_ROWS) if isinstance(data, pa.Table) else data
        rows = 0
        with self._zip.open(file, "w", force_zip64=True) as out:
            out.write(codecs.BOM_UTF16_LE)
            header = ",".join(f'"{spec.field(c).column}"' for c in columns) + "\r\n"
            out.write(header.encode("utf-16-le"))
            for batch in batches:
                if batch.num_rows == 0:
                    continue
                try:
                    arrays = [format_column(batch.column(c), spec.field(c)) for c in columns]
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                    raise ValueError(f"{spec.name}: a value cannot be written: {exc}") from exc
                buffer = io.BytesIO()
                pacsv.write_csv(pa.table(arrays, names=list(columns)), buffer, options)
                out.write(buffer.getvalue().decode("utf-8").encode("utf-16-le"))
                rows += batch.num_rows
        return rows

    def close(self) -> Path:
        """Write the manifest and header and finish the zip."""
        if self._closed:
            return self.path
        if self._broken or not self._written:
            self._zip.close()
            self.path.unlink(missing_ok=True)
            if self._broken:
                raise ValueError(f"the package is incomplete: writing {self._broken} failed")
            raise ValueError("a package needs at least one entity")
        self._zip.writestr("Manifest.xml", _utf16(self._manifest()))
        self._zip.writestr("PackageHeader.xml", _utf16(self._header()))
        self._zip.close()
        self._closed = True
        return self.path

    def _manifest(self) -> str:
        entities = "".join(_entity_xml(w) for w in self._written)
        return (
            f'<DataManagementPackageManifest xmlns:i="{NS_I}" xmlns="{NS}">'
            f"<DefinitionGroupName>{escape(self.definition_group)}</DefinitionGroupName>"
            f"<Description>{escape(self.description)}</Description>"
            f"<PackageEntityList>{entities}</PackageEntityList>"
            "</DataManagementPackageManifest>"
        )

    def _header(self) -> str:
        return (
            f'<DataManagementPackageHeader xmlns:i="{NS_I}" xmlns="{NS}">'
            f"<Description>{escape(self.description)}</Description>"
            f"<ManifestType>{MANIFEST_TYPE}</ManifestType>"
            "<PackageType>DefinitionGroup</PackageType>"
            "<PackageVersion>2</PackageVersion>"
            "</DataManagementPackageHeader>"
        )


def _utf16(xml: str) -> bytes:
    return codecs.BOM_UTF16_LE + xml.encode("utf-16-le")


def _field_map(column: str) -> str:
    # Elements in alphabetical order, as .NET's DataContractSerializer writes and expects them.
    return (
        "<EntityMap><ArrayIndex>0</ArrayIndex>"
        f"<EntityField>{column}</EntityField>"
        '<EntityFieldConversionList i:nil="true"/>'
        "<IsAutoDefault>false</IsAutoDefault><IsAutoGenerated>false</IsAutoGenerated>"
        "<IsDefaultValueEqualNull>false</IsDefaultValueEqualNull>"
        "<UseTextQualifier>false</UseTextQualifier>"
        f"<XMLField>{column}</XMLField></EntityMap>"
    )


def _entity_xml(item: _Written) -> str:
    maps = "".join(_field_map(item.entity.field(c).column) for c in item.columns)
    return (
        "<DataManagementPackageEntityData>"
        f"<EntityMapList>{maps}</EntityMapList>"
        f"<EntityName>{escape(item.entity.label)}</EntityName>"
        '<EntityTransformList i:nil="true"/>'
        "<ExcelSheetName/>"
        f"<ExecutionUnit>{item.unit}</ExecutionUnit>"
        "<FailExecutionUnitOnError>false</FailExecutionUnitOnError>"
        "<FailLevelOnError>false</FailLevelOnError>"
        f"<InputFilePath>{escape(item.file)}</InputFilePath>"
        f"<LevelInExecutionUnit>{item.level}</LevelInExecutionUnit>"
        "<RunBusinessLogic>true</RunBusinessLogic>"
        "<RunBusinessValidation>true</RunBusinessValidation>"
        "<SampleFilePath/>"
        f"<SequenceInLevel>{item.sequence}</SequenceInLevel>"
        f"<SourceFormat>{SOURCE_FORMAT}</SourceFormat>"
        "<ValidationStatus>Yes</ValidationStatus>"
        "</DataManagementPackageEntityData>"
    )
