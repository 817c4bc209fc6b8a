"""What a push may change in the emulator, checked against the deltas it was given."""

from __future__ import annotations

import json
from typing import Any

import duckdb

from connectors.catalog import canonical_key_value
from emulator.server import EmulatorInfo
from tests.integration.loader import world_deltas
from tests.integration.loader.conftest import column_names

L = "CLMIntegrationPurchaseAgreementLines"
NATURAL = {
    "CLMIntegrationContracts": ("LegalEntityId", "ExternalContractId"),
    "CLMIntegrationPurchaseAgreements": ("BuyingLegalEntityId", "ExternalContractId"),
    L: ("PurchaseAgreementLegalEntityId", "ExternalContractLineId"),
}


def _text(value: object) -> str:
    """Key text as the record key convention writes it (``3``, not ``3.000000``)."""
    return canonical_key_value(value).lower()


def read_deltas(con: duckdb.DuckDBPyConnection) -> dict[str, list[dict[str, Any]]]:
    """The warehouse's ``deltas.*`` as rows (JSON columns as text), as the fixture writes them."""
    out: dict[str, list[dict[str, Any]]] = {}
    for relation in (*world_deltas.RELATIONS.values(), world_deltas.CLM_RELATION):
        cur = con.execute(f"SELECT * FROM {relation}")
        names = [d[0] for d in cur.description or ()]
        out[relation] = [
            {k: (str(v) if k in ("keys", "payload", "before") and v is not None else v)
             for k, v in zip(names, row, strict=True)}
            for row in cur.fetchall()
        ]  # fmt: skip
    return out


def assert_only_planned_changes(
    info: EmulatorInfo,
    before: dict[str, set[tuple[Any, ...]]],
    after: dict[str, set[tuple[Any, ...]]],
    deltas: dict[str, list[dict[str, Any]]],
    refused: frozenset[str] = frozenset(),
) -> None:
    """The records that differ are exactly those the deltas name (but the ``refused`` creates,
    by CLM id), an updated record differs only in the fields its delta sets, and no master data
    changed in SCM; in the CLM only the fed counterparties changed."""
    for entity, relation in world_deltas.RELATIONS.items():
        columns = column_names(info, entity)
        natural, keys = NATURAL[entity], world_deltas.KEYS[entity]

        def by(
            fields: tuple[str, ...], rows: set[tuple[Any, ...]], names: list[str] = columns
        ) -> dict[tuple[str, ...], dict[str, Any]]:
            out = {}
            for row in rows:
                record = dict(zip(names, row, strict=True))
                out[tuple(_text(record[f]) for f in fields)] = record
            return out

        old, new = by(natural, before[entity]), by(natural, after[entity])
        old_by_key = by(keys, before[entity])
        changed = {k for k in old.keys() | new.keys() if old.get(k) != new.get(k)}
        named: set[tuple[str, ...]] = set()
        for delta in deltas[relation]:
            delta_keys = json.loads(delta["keys"])
            if delta["action"] == "create":
                if delta["record_key"] not in refused:
                    named.add(tuple(_text(delta_keys[f]) for f in natural))
                continue
            record = old_by_key[tuple(_text(delta_keys[f]) for f in keys)]
            nk = tuple(_text(record[f]) for f in natural)
            named.add(nk)
            if nk in new:
                differs = {c for c in columns if record[c] != new[nk][c]}
                assert differs <= set(json.loads(delta["payload"])), (entity, nk, differs)
        assert changed == named, entity
    for entity in ("VendorsV2", "ContactPersons", "CLMIntegrationReleasedProducts"):
        assert before[entity] == after[entity]
    fed = {r["clm_id"] for r in deltas[world_deltas.CLM_RELATION]}
    cp_before, cp_after = before["clm.counterparties"], after["clm.counterparties"]
    assert {r[0] for r in (cp_before - cp_after) | (cp_after - cp_before)} == fed
