"""OData query options of SCM's ``/data`` service, parsed into SQL with bound parameters.

``$filter`` supports what SCM documents: ``eq ne gt ge lt le and or not``, parentheses, string
literals with doubled quotes, ``*`` wildcards inside a string ``eq``/``ne`` literal, enum
literals (``Microsoft.Dynamics.DataEntities.NoYes'Yes'``, ``eq``/``ne`` only), numbers, date and
date-time literals, ``null``. Text compares case-insensitively, as SCM's SQL Server collation
does. Every literal becomes a ``?`` parameter: a value can never change the statement.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors import catalog
from connectors.catalog import Entity, Field
from emulator import sql
from emulator.responses import query_invalid

SYSTEM_OPTIONS = {"$filter", "$select", "$top", "$skip", "$count", "$orderby", "$format"}
OPERATORS = {
    "eq": ("=", "Equal"),
    "ne": ("<>", "NotEqual"),
    "gt": (">", "GreaterThan"),
    "ge": (">=", "GreaterThanOrEqual"),
    "lt": ("<", "LessThan"),
    "le": ("<=", "LessThanOrEqual"),
}
_MIRROR = {"eq": "eq", "ne": "ne", "gt": "lt", "ge": "le", "lt": "gt", "le": "ge"}
_UNSUPPORTED = {"has", "in", "add", "sub", "mul", "div", "divby", "mod"}

_TOKEN = re.compile(
    r"""\s*(?:
    (?P<lparen>\()|(?P<rparen>\))|(?P<comma>,)|
    (?P<enum>[A-Za-z_][\w.]*'(?:[^']|'')*')|
    (?P<string>'(?:[^']|'')*')|
    (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))|
    (?P<date>\d{4}-\d{2}-\d{2})|
    (?P<number>[+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[mMdDfFlL]?)|
    (?P<name>[A-Za-z_$][\w]*(?:[./][A-Za-z_]\w*)*)
    )""",
    re.VERBOSE,
)


def edm_type(f: Field) -> str:
    if f.type == "enum":
        return f"{catalog.ENUM_NAMESPACE}.{f.enum}"
    return {
        "string": "Edm.String",
        "int": "Edm.Int32",
        "decimal": "Edm.Decimal",
        "date": "Edm.DateTimeOffset",
        "datetime": "Edm.DateTimeOffset",
    }[f.type]


@dataclass
class Operand:
    """One side of a comparison: a field of the entity or a literal (bound as a parameter)."""

    edm: str
    field: Field | None = None
    value: Any = None
    is_null: bool = False
    enum_member: str | None = None


@dataclass
class Query:
    """The parsed options of one read request."""

    where: str = "TRUE"
    params: list[Any] = field(default_factory=list)
    select: tuple[Field, ...] = ()
    orderby: list[tuple[Field, bool]] = field(default_factory=list)
    top: int | None = None
    skip: int = 0
    count: bool = False
    cross_company: bool = False


def parse_query(entity: Entity, options: Mapping[str, str]) -> Query:
    """Parse the query options of a request on ``entity`` (raises a 400 ServiceError)."""
    for name in options:
        if name.startswith("$") and name not in SYSTEM_OPTIONS:
            raise query_invalid(f"The query parameter '{name}' is not supported.")
    q = Query()
    if options.get("$filter", "").strip():
        q.where, q.params = FilterParser(entity, options["$filter"]).parse()
    q.select = parse_select(entity, options.get("$select"))
    q.orderby = parse_orderby(entity, options.get("$orderby"))
    q.top = _non_negative(options, "$top")
    q.skip = _non_negative(options, "$skip") or 0
    count = options.get("$count", "false").strip().lower()
    if count not in ("true", "false"):
        raise query_invalid(f"'{options['$count']}' is not a valid count option.")
    q.count = count == "true"
    q.cross_company = options.get("cross-company", "").strip().lower() == "true"
    return q


def _non_negative(options: Mapping[str, str], name: str) -> int | None:
    text = options.get(name)
    if text is None:
        return None
    if not text.strip().isdigit():
        raise query_invalid(
            f"Invalid value '{text}' for {name} query option found. "
            f"The {name} query option requires a non-negative integer value."
        )
    return int(text)


def _property(entity: Entity, name: str) -> Field:
    try:
        return entity.field(name)
    except KeyError:
        raise query_invalid(
            f"Could not find a property named '{name}' on type "
            f"'{catalog.ENUM_NAMESPACE}.{entity.public_name}'."
        ) from None


def parse_select(entity: Entity, text: str | None) -> tuple[Field, ...]:
    if text is None or not text.strip() or text.strip() == "*":
        return entity.fields
    names = [n.strip() for n in text.split(",")]
    return tuple(_property(entity, n) for n in names if n)


def parse_orderby(entity: Entity, text: str | None) -> list[tuple[Field, bool]]:
    result: list[tuple[Field, bool]] = []
    if not text or not text.strip():
        return result
    for item in text.split(","):
        parts = item.split()
        if not parts or len(parts) > 2 or (len(parts) == 2 and parts[1] not in ("asc", "desc")):
            raise query_invalid(f"Syntax error in $orderby at '{item.strip()}'.")
        result.append((_property(entity, parts[0]), len(parts) == 2 and parts[1] == "desc"))
    return result


def order_sql(orderby: list[tuple[Field, bool]]) -> str:
    """ORDER BY text; the record id breaks ties so pages never overlap or skip rows."""
    terms = []
    for f, desc in orderby:
        column = sql.ident(f.name)
        expr = f"lower({column})" if f.type == "string" else column
        terms.append(f"{expr} {'DESC' if desc else 'ASC'} NULLS FIRST")
    terms.append("_recid")
    return ", ".join(terms)


def unquote(literal: str) -> str:
    """The text of a quoted OData string literal (``'O''Hara'`` → ``O'Hara``)."""
    return literal[1:-1].replace("''", "'")


def parse_datetime(text: str) -> datetime:
    """An OData date-time literal as a naive UTC datetime."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value.astimezone(UTC).replace(tzinfo=None)


class FilterParser:
    """Recursive descent over the tokens of one ``$filter`` expression."""

    def __init__(self, entity: Entity, text: str) -> None:
        self.entity = entity
        self.text = text
        self.tokens = self._tokenize(text)
        self.pos = 0
        self.params: list[Any] = []

    def _tokenize(self, text: str) -> list[tuple[str, str]]:
        tokens: list[tuple[str, str]] = []
        pos = 0
        while pos < len(text):
            if not text[pos:].strip():
                break
            match = _TOKEN.match(text, pos)
            if not match or match.end() == pos or match.lastgroup is None:
                raise query_invalid(f"Syntax error at position {pos} in '{text}'.")
            tokens.append((match.lastgroup, match.group(match.lastgroup)))
            pos = match.end()
        return tokens

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _next(self) -> tuple[str, str]:
        token = self._peek()
        if token is None:
            raise query_invalid(
                f"Expression expected at position {len(self.text)} in '{self.text}'."
            )
        self.pos += 1
        return token

    def _keyword(self, *words: str) -> str | None:
        token = self._peek()
        if token and token[0] == "name" and token[1] in words:
            self.pos += 1
            return token[1]
        return None

    def parse(self) -> tuple[str, list[Any]]:
        where = self._or()
        token = self._peek()
        if token is not None:
            if token[0] == "name" and token[1] in _UNSUPPORTED:
                raise query_invalid(f"The operator '{token[1]}' is not supported.")
            raise query_invalid(f"Syntax error at '{token[1]}' in '{self.text}'.")
        return where, self.params

    def _or(self) -> str:
        left = self._and()
        while self._keyword("or"):
            left = f"({left} OR {self._and()})"
        return left

    def _and(self) -> str:
        left = self._not()
        while self._keyword("and"):
            left = f"({left} AND {self._not()})"
        return left

    def _not(self) -> str:
        if self._keyword("not"):
            return f"(NOT {self._not()})"
        return self._comparison()

    def _comparison(self) -> str:
        token = self._peek()
        if token and token[0] == "lparen":
            self.pos += 1
            inner = self._or()
            if self._next()[0] != "rparen":
                raise query_invalid(f"')' expected in '{self.text}'.")
            return inner
        left = self._operand()
        op_token = self._peek()
        if op_token and op_token[0] == "name" and op_token[1] in _UNSUPPORTED:
            raise query_invalid(f"The operator '{op_token[1]}' is not supported.")
        op = self._keyword(*OPERATORS)
        if op is None:
            raise query_invalid(f"A comparison operator is expected in '{self.text}'.")
        right = self._operand()
        return self._compare(left, op, right)

    def _operand(self) -> Operand:
        kind, text = self._next()
        if kind == "string":
            return Operand("Edm.String", value=unquote(text))
        if kind == "enum":
            qualified, _, rest = text.partition("'")
            return Operand(qualified, value=unquote("'" + rest), enum_member=unquote("'" + rest))
        if kind == "datetime":
            try:
                return Operand("Edm.DateTimeOffset", value=parse_datetime(text))
            except ValueError:
                raise query_invalid(f"'{text}' is not a valid date-time literal.") from None
        if kind == "date":
            try:
                return Operand("Edm.Date", value=date.fromisoformat(text))
            except ValueError:
                raise query_invalid(f"'{text}' is not a valid date literal.") from None
        if kind == "number":
            digits = text.rstrip("mMdDfFlL")
            try:
                number = Decimal(digits)
            except InvalidOperation:
                raise query_invalid(f"'{text}' is not a valid number.") from None
            edm = (
                "Edm.Int32"
                if number == number.to_integral_value() and "." not in digits
                else "Edm.Decimal"
            )
            return Operand(edm, value=number)
        if kind == "name":
            if text == "null":
                return Operand("null", is_null=True)
            if text in ("true", "false"):
                return Operand("Edm.Boolean", value=text == "true")
            following = self._peek()
            if following and following[0] == "lparen":
                raise query_invalid(
                    f"The function '{text}' is not supported; SCM matches text with a '*' "
                    "wildcard inside an eq literal."
                )
            f = _property(self.entity, text)
            return Operand(edm_type(f), field=f)
        raise query_invalid(f"Syntax error at '{text}' in '{self.text}'.")

    def _incompatible(self, left: Operand, op: str, right: Operand) -> Exception:
        return query_invalid(
            "A binary operator with incompatible types was detected. Found operand types "
            f"'{left.edm}' and '{right.edm}' for operator kind '{OPERATORS[op][1]}'."
        )

    def _compare(self, left: Operand, op: str, right: Operand) -> str:
        if left.field is None and right.field is not None:
            left, right, op = right, left, _MIRROR[op]
        symbol = OPERATORS[op][0]
        if left.field is None:
            raise query_invalid(f"A comparison needs a property on one side in '{self.text}'.")
        f = left.field
        column = sql.ident(f.name)
        if right.is_null:
            if op not in ("eq", "ne"):
                raise self._incompatible(left, op, right)
            return f"({column} IS {'NOT ' if op == 'ne' else ''}NULL)"
        if right.field is not None:
            if edm_type(right.field) != left.edm and {f.type, right.field.type} - {
                "int",
                "decimal",
            }:
                raise self._incompatible(left, op, right)
            return f"({self._column(f)} {symbol} {self._column(right.field)})"
        return self._against_literal(f, left, op, right)

    def _column(self, f: Field) -> str:
        column = sql.ident(f.name)
        if f.type == "string":
            return f"lower({column})"
        if f.type == "date":
            return f"(CAST(coalesce({column}, DATE '1900-01-01') AS TIMESTAMP) + INTERVAL 12 HOUR)"
        if f.type == "datetime":
            return f"coalesce({column}, TIMESTAMP '1900-01-01 00:00:00')"
        return column

    def _against_literal(self, f: Field, left: Operand, op: str, right: Operand) -> str:
        symbol = OPERATORS[op][0]
        column = sql.ident(f.name)
        if f.type == "string":
            if right.edm != "Edm.String":
                raise self._incompatible(left, op, right)
            text = str(right.value)
            if "*" in text and op in ("eq", "ne"):
                pattern = re.sub(r"([\\%_])", r"\\\1", text).replace("*", "%")
                self.params.append(pattern.lower())
                return f"(lower({column}) {'NOT ' if op == 'ne' else ''}LIKE ? ESCAPE '\\')"
            self.params.append(text.lower())
            return f"(lower({column}) {symbol} ?)"
        if f.type == "enum":
            if right.enum_member is None or right.edm != left.edm:
                raise self._incompatible(left, op, right)
            if op not in ("eq", "ne"):
                raise query_invalid(f"Only eq and ne can compare the enum property '{f.name}'.")
            if right.enum_member not in f.members:
                raise query_invalid(
                    f"The string '{right.enum_member}' is not a valid enumerated type constant "
                    f"for '{left.edm}'."
                )
            self.params.append(right.enum_member)
            return f"({column} {symbol} ?)"
        if f.type in ("int", "decimal"):
            if right.edm not in ("Edm.Int32", "Edm.Decimal"):
                raise self._incompatible(left, op, right)
            self.params.append(right.value)
            return f"(coalesce({column}, 0) {symbol} CAST(? AS DECIMAL(38,10)))"
        if right.edm == "Edm.DateTimeOffset":
            self.params.append(right.value)
            return f"({self._column(f)} {symbol} CAST(? AS TIMESTAMP))"
        if right.edm == "Edm.Date":
            self.params.append(right.value)
            blank = "DATE '1900-01-01'" if f.type == "date" else "TIMESTAMP '1900-01-01'"
            return f"(CAST(coalesce({column}, {blank}) AS DATE) {symbol} CAST(? AS DATE))"
        raise self._incompatible(left, op, right)
