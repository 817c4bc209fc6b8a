"""Resource paths under ``/data/``: entity set, key predicate, trailing segments.

Paths are split on the *raw* request path, so a key value holding an encoded ``/`` (``%2F``)
stays inside its key; each segment is then percent-decoded and the key predicate is read with
its quotes (``''`` inside a string literal is one quote). Keys are matched case-insensitively
through the store's hidden ``_key`` column.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote, unquote

from connectors import catalog
from connectors.catalog import Entity
from emulator import sql

_NAME = re.compile(r"\s*([A-Za-z_]\w*)\s*=\s*")
_NUMBER = re.compile(r"\s*([+-]?\d+(?:\.\d+)?)[mMdD]?\s*")


class PathError(ValueError):
    """The path does not match any route (answered with ASP.NET's 'No HTTP resource' 404)."""


@dataclass
class ODataPath:
    """A parsed resource path: ``Set``, ``Set(keys)``, ``Set/$count``, ``Set/Namespace.Action``."""

    segment: str  # the first segment as written, e.g. VendorsV2 or $batch
    key_text: str | None = None  # the raw predicate inside the parentheses (decoded)
    tail: list[str] = field(default_factory=list)


def parse_path(raw: str) -> ODataPath:
    """Parse the part of the raw (still percent-encoded) path after ``/data/``."""
    pieces = [unquote(p, errors="strict") for p in raw.split("/")]
    while pieces and pieces[-1] == "":
        pieces.pop()
    if not pieces:
        return ODataPath("")
    first = pieces[0]
    key_text = None
    if "(" in first:
        if not first.endswith(")"):
            raise PathError(first)
        first, key_text = first[: first.index("(")], first[first.index("(") + 1 : -1]
    if any(p == "" for p in pieces[1:]):
        raise PathError(raw)
    return ODataPath(first, key_text, pieces[1:])


def _literal(text: str, pos: int) -> tuple[str | Decimal, int]:
    if pos < len(text) and text[pos] == "'":
        out = []
        pos += 1
        while pos < len(text):
            if text[pos] == "'":
                if pos + 1 < len(text) and text[pos + 1] == "'":
                    out.append("'")
                    pos += 2
                    continue
                return "".join(out), pos + 1
            out.append(text[pos])
            pos += 1
        raise PathError(text)
    match = _NUMBER.match(text, pos)
    if not match:
        raise PathError(text)
    try:
        return Decimal(match.group(1)), match.end()
    except InvalidOperation:
        raise PathError(text) from None


def parse_keys(entity: Entity, text: str) -> dict[str, str | Decimal]:
    """Read ``'USD'`` or ``k1='v1',k2=3`` into field → value for every key of ``entity``."""
    values: dict[str, str | Decimal] = {}
    positional: list[str | Decimal] = []
    pos = 0
    while pos < len(text):
        name_match = _NAME.match(text, pos)
        name = None
        if name_match:
            name, pos = name_match.group(1), name_match.end()
        value, pos = _literal(text, pos)
        while pos < len(text) and text[pos] == " ":
            pos += 1
        if name is None:
            positional.append(value)
        elif name in values:
            raise PathError(text)
        else:
            values[name] = value
        if pos < len(text):
            if text[pos] != ",":
                raise PathError(text)
            pos += 1
    if positional:
        if values or len(positional) != 1 or len(entity.keys) != 1:
            raise PathError(text)
        values = {entity.keys[0]: positional[0]}
    if set(values) != set(entity.keys):
        raise PathError(text)
    for name, value in values.items():
        numeric = entity.field(name).type in ("int", "decimal")
        if numeric != isinstance(value, Decimal):
            raise PathError(text)
    return values


def key_match(entity: Entity, values: Mapping[str, Any], alias: str = "") -> tuple[str, list[Any]]:
    """SQL matching the row whose key equals ``values`` (case-insensitive), with parameters."""
    parts = []
    for name in entity.keys:
        f = entity.field(name)
        parts.append(f"coalesce(CAST(CAST(? AS {sql.SQL_TYPES[f.type]}) AS VARCHAR), '')")
    column = f"{alias}._key" if alias else "_key"
    return (
        f"{column} = lower(concat_ws(chr(31), {', '.join(parts)}))",
        [values[k] if not isinstance(values[k], Decimal) else str(values[k]) for k in entity.keys],
    )


def format_literal(value: Any, numeric: bool) -> str:
    """A key literal: text quoted with quotes doubled, numbers without trailing zeros."""
    if numeric:
        return catalog.canonical_key_value(Decimal(str(value)))
    return "'" + str(value).replace("'", "''") + "'"


def format_key(entity: Entity, row: Mapping[str, Any], encode: bool = True) -> str:
    """``Set(k1='v1',k2=3)`` for a row, percent-encoded for use in a URL when ``encode``."""
    names: Sequence[str] = entity.keys
    parts = []
    for name in names:
        literal = format_literal(row[name], entity.field(name).type in ("int", "decimal"))
        parts.append(literal if len(names) == 1 else f"{name}={literal}")
    inner = ",".join(parts)
    return f"{entity.name}({quote(inner, safe=chr(39) + '=,') if encode else inner})"
