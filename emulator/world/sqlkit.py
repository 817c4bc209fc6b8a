"""Small helpers that render SQL text for the generator.

Every random choice of the world is ``hash(seed, stream, key...)`` in DuckDB, mapped to [0, 1):
the same seed, stream and key give the same number on every run, and no choice depends on row
order, thread scheduling or the wall clock. Streams are short names, one per decision, so adding a
decision never shifts the others.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence

from connectors import catalog

TWO_64 = "18446744073709551616.0"

SQL_TYPES = {
    "string": "VARCHAR",
    "enum": "VARCHAR",
    "int": "BIGINT",
    "decimal": "DECIMAL(32,6)",
    "date": "DATE",
    "datetime": "TIMESTAMP",
}


def q(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def ident(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def lst(values: Iterable[object]) -> str:
    """A SQL list literal of strings or numbers."""
    items = [q(v) if isinstance(v, str) else repr(v) for v in values]
    return "[" + ", ".join(items) + "]"


class Rand:
    """Seeded pseudo-random expressions."""

    def __init__(self, seed: int) -> None:
        if not 0 <= seed < 2**62:
            raise ValueError(f"seed must be between 0 and 2**62, got {seed}")
        self.seed = seed

    def offset(self, stream: str) -> int:
        """The 64-bit offset of a stream: a digest of the seed and the stream name."""
        digest = hashlib.blake2b(f"{self.seed}:{stream}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big")

    def h(self, stream: str, *keys: str) -> str:
        """A UBIGINT hash of the seed, the stream and the (non-negative integer) keys.

        DuckDB's single-value integer hash mixes well, but its multi-argument hash does not
        (nearby keys share high bits), so keys are folded in one at a time: hash(key XOR h).
        """
        expr = f"{self.offset(stream)}::UBIGINT"
        for key in keys:
            expr = f"hash(xor(CAST({key} AS UBIGINT), {expr}))"
        return expr

    def u(self, stream: str, *keys: str) -> str:
        """A uniform DOUBLE in [0, 1)."""
        return f"({self.h(stream, *keys)} / {TWO_64})"

    def i(self, stream: str, n: str | int, *keys: str) -> str:
        """A uniform BIGINT in [0, n)."""
        return f"CAST(floor({self.u(stream, *keys)} * ({n})) AS BIGINT)"

    def pick(self, values: Sequence[object], stream: str, *keys: str) -> str:
        """One of ``values``, uniformly."""
        return f"({lst(values)})[{self.i(stream, len(values), *keys)} + 1]"

    def weighted(self, choices: Sequence[tuple[str, float]], stream: str, *keys: str) -> str:
        """A CASE choosing among SQL expressions with the given weights."""
        total = sum(w for _, w in choices)
        u = self.u(stream, *keys)
        parts, acc = [], 0.0
        for expr, weight in choices[:-1]:
            acc += weight / total
            parts.append(f"WHEN {u} < {acc!r} THEN {expr}")
        return f"(CASE {' '.join(parts)} ELSE {choices[-1][0]} END)"


def typed_select(entity: catalog.Entity, exprs: Mapping[str, str], source: str) -> str:
    """SELECT every field of ``entity`` in catalog order, typed as the store types it.

    ``exprs`` maps each field to a SQL expression over ``source``; a missing or unknown field is
    a programming error and fails loudly, so no catalog field is ever left out of the world.
    """
    names = entity.field_names
    missing = [n for n in names if n not in exprs]
    unknown = [n for n in exprs if n not in names]
    if missing or unknown:
        raise ValueError(f"{entity.name}: missing fields {missing}, unknown fields {unknown}")
    cols = [
        f"CAST({exprs[f.name]} AS {SQL_TYPES[f.type]}) AS {ident(f.name)}" for f in entity.fields
    ]
    return "SELECT " + ",\n  ".join(cols) + f"\nFROM {source}"


def values_table(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A VALUES list usable as a table: ``(VALUES (...), (...)) t(col, ...)``."""
    body = ", ".join(
        "("
        + ", ".join("NULL" if v is None else q(v) if isinstance(v, str) else repr(v) for v in row)
        + ")"
        for row in rows
    )
    return f"(VALUES {body}) t({', '.join(columns)})"
