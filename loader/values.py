"""Field values between the deltas, SCM's OData JSON, data packages and the read-back.

Deltas carry text (spec §5): dates ``YYYY-MM-DD``, decimals as canonical strings (``12.5``),
enums as member names. OData wants dates as ``YYYY-MM-DDT12:00:00Z`` and decimals as JSON
numbers; packages take the text as it is (the package writer formats it). The read-back compares
what SCM holds with what was intended after normalising both sides the same way, so ``12.50`` and
``12.5``, or ``2025-03-01`` and ``2025-03-01T12:00:00Z``, are the same value.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors import catalog
from connectors.catalog import Field

BLANK_DAY = "1900-01-01"
_MAX_EXACT_DIGITS = 15  # a JSON number through a float keeps this many digits exactly


def _decimal(value: object) -> Decimal:
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    return number


def _day(value: object) -> str:
    """``YYYY-MM-DD`` of a date, or of an ISO 8601 date-time (its UTC day)."""
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return moment.astimezone(dt.UTC).date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    if len(text) == 10:
        return dt.date.fromisoformat(text).isoformat()
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        return moment.date().isoformat()
    # SCM writes a date as noon UTC: the day part is the date whatever the zone.
    return text[:10] if text[4] == "-" else moment.astimezone(dt.UTC).date().isoformat()


def _moment(value: object) -> str:
    """A date-time as ``YYYY-MM-DDTHH:MM:SSZ`` (UTC)."""
    if isinstance(value, dt.datetime):
        moment = value
    else:
        text = str(value).strip()
        if len(text) == 10:
            text += "T00:00:00"
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def check(spec: Field, value: object) -> str | None:
    """Why ``value`` cannot be sent as ``spec``'s type, or None when it can."""
    if value is None or value == "":
        return None
    try:
        to_odata(spec, value)
    except ValueError as exc:
        return f"{spec.name}: {exc}"
    return None


def to_odata(spec: Field, value: object) -> Any:
    """A delta's value as SCM's OData JSON wants it for ``spec``.

    A missing value clears the field: blank text, SCM's blank date, or null for numbers.
    """
    kind = spec.type
    if value is None or (value == "" and kind not in ("string", "enum")):
        if kind == "date":
            return catalog.BLANK_DATE
        if kind == "datetime":
            return catalog.BLANK_DATETIME
        return "" if kind in ("string", "enum") else None
    if kind in ("string",):
        return str(value)
    if kind == "enum":
        member = str(value)
        if spec.members and member not in spec.members:
            raise ValueError(f"{member!r} is not a member of {spec.enum}")
        return member
    if kind == "int":
        number = _decimal(value)
        if number != number.to_integral_value():
            raise ValueError(f"{value!r} is not an integer")
        return int(number)
    if kind == "decimal":
        number = _decimal(value)
        if number == number.to_integral_value() and abs(number) < 10**15:
            return int(number)
        digits = len(number.normalize().as_tuple().digits)
        if digits > _MAX_EXACT_DIGITS:
            raise ValueError(f"{value!r} has more than {_MAX_EXACT_DIGITS} significant digits")
        return float(number)
    try:
        if kind == "date":
            return f"{_day(value)}T12:00:00Z"
        if kind == "datetime":
            return _moment(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 date") from None
    raise ValueError(f"unknown field type {kind!r}")


def normalise(spec: Field | None, value: object) -> str:
    """A value as text that compares equal for equal meanings (blank is ``""``)."""
    if value is None:
        return ""
    kind = spec.type if spec is not None else "string"
    try:
        if kind == "date":
            day = _day(value) if str(value).strip() else ""
            return "" if day == BLANK_DAY else day
        if kind == "datetime":
            moment = _moment(value) if str(value).strip() else ""
            return "" if moment.startswith(BLANK_DAY) else moment
        if kind in ("int", "decimal"):
            return catalog.canonical_key_value(_decimal(value)) if str(value).strip() else ""
    except ValueError:
        return str(value)
    return str(value)


def same(spec: Field | None, intended: object, actual: object) -> bool:
    """Whether SCM's ``actual`` value is the ``intended`` one."""
    return normalise(spec, intended) == normalise(spec, actual)


def key_text(spec: Field | None, value: object) -> str:
    """A key value for matching records across systems: normalised, case-insensitive (SCM's keys
    compare without case)."""
    return normalise(spec, value).lower()
