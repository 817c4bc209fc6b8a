"""OData keys, literals and filters, formatted the way SCM reads them.

Text literals are single-quoted with quotes doubled (``'O''HARA'``). Keys go into the URL path,
so their values are also percent-encoded (a space is ``%20``, ``&`` is ``%26``); filters are
percent-encoded when the URL is built. SCM does not support ``in``, so a list of keys becomes
``eq`` terms joined with ``or``, split into several filters under a URL length budget.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from urllib.parse import quote

from connectors import catalog
from connectors.catalog import Entity, Field, FieldType

# Characters left readable in a key inside the path: RFC 3986 unreserved plus the quote itself.
_PATH_SAFE = "'"
# What the query string keeps readable (matches the client's URL builder).
QUERY_SAFE = "$',()*:/@"
DEFAULT_FILTER_LENGTH = 1800  # leaves room in a 2,048-character URL for the rest of it


def _text(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _number(value: object, kind: str) -> str:
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a {kind}")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a {kind}") from None
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite {kind}")
    if kind == "int":
        if number != number.to_integral_value():
            raise ValueError(f"{value!r} is not an integer")
        return str(int(number))
    return catalog.canonical_key_value(number)


def _iso_datetime(value: object, *, date_only: bool) -> str:
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        moment = moment.astimezone(dt.UTC)
        if date_only:
            return moment.strftime("%Y-%m-%dT12:00:00Z")
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dt.date):
        suffix = "12:00:00" if date_only else "00:00:00"
        return f"{value.isoformat()}T{suffix}Z"
    text = str(value).strip()
    try:
        if len(text) == 10:
            return _iso_datetime(dt.date.fromisoformat(text), date_only=date_only)
        return _iso_datetime(
            dt.datetime.fromisoformat(text.replace("Z", "+00:00")), date_only=date_only
        )
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 date or date-time") from None


def literal(value: object, type: Field | FieldType = "string") -> str:
    """An OData literal for ``value`` of the given field or field type (``null`` for None).

    Dates are SCM's date-only convention (``T12:00:00Z``); enums need a :class:`Field` (its enum
    name makes the ``Microsoft.Dynamics.DataEntities.<Enum>'<Member>'`` literal).
    """
    if value is None:
        return "null"
    kind = type.type if isinstance(type, Field) else type
    if kind == "string":
        return _text(value)
    if kind in ("int", "decimal"):
        return _number(value, kind)
    if kind == "date":
        return _iso_datetime(value, date_only=True)
    if kind == "datetime":
        return _iso_datetime(value, date_only=False)
    if kind == "enum":
        if not isinstance(type, Field) or not type.enum:
            raise ValueError("an enum literal needs the catalog Field (for its enum name)")
        member = str(value)
        if type.members and member not in type.members:
            raise ValueError(f"{member!r} is not a member of {type.enum}: {type.members}")
        return catalog.enum_literal(type.enum, member)
    raise ValueError(f"unknown field type {kind!r}")


def catalog_entity(entity: Entity | str) -> Entity | None:
    """The catalog entity for a set name (or the entity itself); None for sets outside it."""
    if isinstance(entity, Entity):
        return entity
    try:
        return catalog.entity(entity)
    except KeyError:
        return None


def format_key(entity: Entity | str, values: Mapping[str, object]) -> str:
    """The key segment ``(k1='v1',k2=3)`` for a record, percent-encoded for the URL path.

    For a catalog entity all its key fields are required (in catalog order, other entries of
    ``values`` are ignored). For a set outside the catalog, every entry is a key part; numbers
    are written bare and everything else as text.
    """
    found = catalog_entity(entity)
    parts: list[tuple[str, str]] = []
    if found is not None:
        missing = [k for k in found.keys if values.get(k) in (None, "")]
        if missing:
            raise ValueError(f"{found.name}: key field(s) {missing} missing or empty")
        for key in found.keys:
            parts.append((key, literal(values[key], found.field(key))))
    else:
        if not values:
            raise ValueError(f"{entity}: no key values")
        for key, value in values.items():
            is_number = isinstance(value, int | float | Decimal) and not isinstance(value, bool)
            parts.append((key, literal(value, "decimal" if is_number else "string")))
    inner = ",".join(f"{k}={quote(v, safe=_PATH_SAFE)}" for k, v in parts)
    return f"({inner})"


def encoded_length(text: str) -> int:
    """How long ``text`` is once percent-encoded into a query string."""
    return len(quote(text, safe=QUERY_SAFE))


def _field(field: Field | str) -> Field:
    return field if isinstance(field, Field) else Field(field)


def _split(terms: Iterable[str], max_length: int, what: str) -> list[str]:
    filters: list[str] = []
    current: list[str] = []
    length = 2  # the surrounding parentheses
    separator = encoded_length(" or ")
    for term in terms:
        size = encoded_length(term)
        if size + 2 > max_length:
            raise ValueError(f"{what}: one term alone is longer than {max_length}: {term[:80]}")
        extra = size + (separator if current else 0)
        if current and length + extra > max_length:
            filters.append("(" + " or ".join(current) + ")")
            current, length = [], 2
            extra = size
        current.append(term)
        length += extra
    if current:
        filters.append("(" + " or ".join(current) + ")")
    return filters


def filter_in(
    field: Field | str,
    values: Iterable[object],
    max_length: int = DEFAULT_FILTER_LENGTH,
) -> list[str]:
    """``field`` equal to any of ``values``, as one or more filters (SCM has no ``in``).

    Each filter stays under ``max_length`` characters once percent-encoded; run one request
    per filter. Duplicates are sent once; no values gives no filters.
    """
    spec = _field(field)
    seen: dict[str, None] = {}
    for value in values:
        seen.setdefault(f"{spec.name} eq {literal(value, spec)}", None)
    return _split(seen, max_length, spec.name)


def filter_keys(
    fields: Sequence[Field | str],
    keys: Iterable[Sequence[object]],
    max_length: int = DEFAULT_FILTER_LENGTH,
) -> list[str]:
    """Composite keys as ``(A eq 'x' and B eq 1) or (...)`` filters under ``max_length``."""
    specs = [_field(f) for f in fields]
    seen: dict[str, None] = {}
    for key in keys:
        if len(key) != len(specs):
            raise ValueError(f"key {tuple(key)!r} does not have {len(specs)} parts")
        parts = [f"{s.name} eq {literal(v, s)}" for s, v in zip(specs, key, strict=True)]
        term = parts[0] if len(parts) == 1 else "(" + " and ".join(parts) + ")"
        seen.setdefault(term, None)
    return _split(seen, max_length, ",".join(s.name for s in specs))
