"""How the CLM renders its objects as JSON (API pages and export files alike).

Fields in catalog order; strings, dates (``YYYY-MM-DD``) and decimals (``"12.5"``) as JSON
strings exactly as the CLM holds them; integers as numbers; ``address`` as an object;
date-times as ISO 8601 UTC (``2025-12-03T10:15:00Z``, with microseconds when there are any).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from connectors import catalog


def iso_sql(x: str) -> str:
    """SQL rendering a TIMESTAMP (UTC) as ISO 8601 with ``Z``."""
    return (
        f"CASE WHEN epoch_us({x}) % 1000000 = 0 THEN strftime({x}, '%Y-%m-%dT%H:%M:%SZ') "
        f"ELSE strftime({x}, '%Y-%m-%dT%H:%M:%S.%fZ') END"
    )


def columns_sql(obj: catalog.ClmObject) -> str:
    """A SELECT list of the object's fields as their JSON values (date-times as text)."""
    parts = []
    for field in obj.fields:
        col = f'"{field.name}"'
        value = iso_sql(col) if field.type == "datetime" else col
        parts.append(f"{value} AS {col}")
    return ", ".join(parts)


def row_json_sql(obj: catalog.ClmObject) -> str:
    """SQL for one object's JSON text."""
    members = []
    for field in obj.fields:
        col = f'"{field.name}"'
        value = iso_sql(col) if field.type == "datetime" else col
        members.append(f"{col} := {value}")
    return f"to_json(struct_pack({', '.join(members)}))"


def iso(value: datetime) -> str:
    """Python rendering of a UTC timestamp, identical to :func:`iso_sql`."""
    if value.microsecond:
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_instant(text: str) -> datetime:
    """An ISO 8601 date or date-time as a naive UTC datetime (a date means its midnight UTC).

    Accepts ``Z`` or a numeric offset; a date-time without either is taken as UTC.
    Raises ``ValueError`` with the offending text.
    """
    raw = text.strip()
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            return datetime(day.year, day.month, day.day)
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 date or date-time") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed
