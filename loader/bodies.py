"""What one plan row becomes on the wire: an OData operation or a package row."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connectors.batch import Operation
from connectors.catalog import Entity
from loader import values
from loader.model import PlanRow


def merged(row: PlanRow) -> dict[str, Any]:
    """Keys and payload together (the payload wins for non-key fields)."""
    return {**row.payload, **{k: v for k, v in row.keys.items() if v not in (None, "")}}


def identity_fields(entity: Entity, row: PlanRow) -> tuple[str, ...]:
    """The fields that find the row's record: its natural key for a create, else its key."""
    return entity.natural_key if row.action == "create" else entity.keys


def odata_body(entity: Entity, row: PlanRow) -> dict[str, Any]:
    """The JSON body of a POST (keys + payload) or PATCH (payload only)."""
    source = merged(row) if row.operation == "POST" else row.payload
    return {
        name: values.to_odata(entity.field(name), value)
        for name, value in source.items()
        if name in entity.field_names
    }


def operation(entity: Entity, row: PlanRow, etag: str | None = None) -> Operation:
    """The ``$batch`` operation of a plan row."""
    if row.operation == "POST":
        return Operation("POST", entity.name, body=odata_body(entity, row))
    if row.operation == "DELETE":
        return Operation("DELETE", entity.name, keys=dict(row.keys), etag=etag)
    return Operation(
        "PATCH", entity.name, keys=dict(row.keys), body=odata_body(entity, row), etag=etag
    )


def package_columns(entity: Entity, rows: Sequence[PlanRow]) -> list[str]:
    """The columns of one package batch: identity fields, then every field the batch sets."""
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(identity_fields(entity, row)))
        names.update(dict.fromkeys(k for k in row.payload if k in entity.field_names))
        if row.action == "create":
            names.update(dict.fromkeys(k for k in row.keys if k in entity.field_names))
    return [f for f in entity.field_names if f in names]


def package_row(columns: Sequence[str], row: PlanRow) -> dict[str, Any]:
    """One package row as text (blank where the delta has no value)."""
    source: Mapping[str, Any] = merged(row)
    return {c: _text(source.get(c)) for c in columns}


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value)


def generated_keys(entity: Entity, record: Mapping[str, Any]) -> dict[str, Any]:
    """The record's full SCM key as SCM returned it (what a create generated)."""
    return {k: record.get(k) for k in entity.keys}
