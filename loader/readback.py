"""Reading records back from SCM by key or natural key, for recovery and verification.

SCM has no ``in``, so a list of keys becomes ``eq`` terms joined by ``or`` under the URL budget
(``connectors.odata_query.filter_keys``), one request per chunk, each and-ed with the legal
entity. When many records of one legal entity are asked for (more than ``SCAN_ABOVE``), reading
the legal entity's whole set page by page costs fewer requests than thousands of chunks, and is
what is done instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from connectors.catalog import Entity
from connectors.odata import ODataClient, filter_keys, literal
from connectors.odata_query import DEFAULT_FILTER_LENGTH, encoded_length
from loader import values

SCAN_ABOVE = 2000  # records of one entity and legal entity read back by a full read instead

Identity = tuple[str, ...]


def identity(entity: Entity, fields: Sequence[str], record: Mapping[str, Any]) -> Identity:
    """A record's identity over ``fields``: normalised, case-insensitive key text."""
    return tuple(values.key_text(entity.field(f), record.get(f)) for f in fields)


def read(
    odata: ODataClient,
    entity: Entity,
    legal_entity: str | None,
    fields: Sequence[str],
    wanted: Iterable[Mapping[str, Any]],
    *,
    select: Sequence[str] | None = None,
    scan_above: int = SCAN_ABOVE,
) -> dict[Identity, dict[str, Any]]:
    """SCM's records of ``entity`` in ``legal_entity`` whose ``fields`` match one of ``wanted``
    (each a mapping holding those fields), by identity."""
    company = entity.company_field
    own = [f for f in fields if f != company]
    targets: dict[Identity, tuple[Any, ...]] = {}
    for item in wanted:
        targets.setdefault(identity(entity, fields, item), tuple(item.get(f) for f in own))
    if not targets:
        return {}
    scope = (
        f"{company} eq {literal(legal_entity, entity.field(company))}"
        if company and legal_entity
        else None
    )
    columns = list(dict.fromkeys([*entity.keys, *(select or entity.field_names)]))
    found: dict[Identity, dict[str, Any]] = {}

    def keep(rows: Iterable[dict[str, Any]]) -> None:
        for row in rows:
            ident = identity(entity, fields, row)
            if ident in targets:
                found[ident] = row

    if len(targets) > scan_above:
        for page in odata.pages(entity.name, filter=scope, select=columns, cross_company=True):
            keep(page)
        return found
    budget = DEFAULT_FILTER_LENGTH
    if scope:
        budget -= encoded_length(scope) + encoded_length("() and ")
    specs = [entity.field(f) for f in own]
    for terms in filter_keys(specs, list(targets.values()), budget):
        combined = f"({scope}) and {terms}" if scope else terms
        for page in odata.pages(entity.name, filter=combined, select=columns, cross_company=True):
            keep(page)
    return found
