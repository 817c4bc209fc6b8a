"""Bulk upsert of counterparty master data, as the CLM API's ``bulk-upsert`` endpoint does it.

Items are validated one by one (each gets its own result); the valid ones are applied in two
set-based statements (one UPDATE, one INSERT) inside the caller's write transaction, all with the
same new ``updated_at``. An existing counterparty gets only the fields an item carries; a new one
needs ``name`` and a ``business_unit`` the CLM knows, and gets the next ``CPTY-`` id when the item
has none.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa

from emulator.world import clm_store

MAX_ITEMS = 1000
FIELDS = (
    "name", "tax_id", "vendor_account", "business_unit", "country", "currency",
    "payment_terms", "email", "phone", "status",
)  # fmt: skip
ADDRESS = ("street", "city", "zip", "state")
COUNTERPARTIES = "clm.counterparties"


def _validate(item: Any, known_bus: set[str]) -> tuple[dict[str, Any] | None, str | None]:
    """(normalised changes, error): changes maps field → value and ``address.<part>`` → value."""
    if not isinstance(item, dict):
        return None, "an item must be a JSON object"
    changes: dict[str, Any] = {}
    for key, value in item.items():
        if key == "id":
            if value is not None and (not isinstance(value, str) or not value.strip()):
                return None, "id must be a non-empty string"
            continue
        if key == "address":
            if value is None:
                changes.update({f"address.{p}": None for p in ADDRESS})
                continue
            if not isinstance(value, dict):
                return None, "address must be an object"
            bad = sorted(set(value) - set(ADDRESS))
            if bad:
                return None, f"unknown address field(s) {bad}; known: {list(ADDRESS)}"
            for part, text in value.items():
                if text is not None and not isinstance(text, str):
                    return None, f"address.{part} must be a string or null"
                changes[f"address.{part}"] = text
            continue
        name = key.removeprefix("address.") if key.startswith("address.") else key
        if key.startswith("address.") and name not in ADDRESS:
            return None, f"unknown field {key!r}"
        if not key.startswith("address.") and key not in FIELDS:
            if key in ("created_at", "updated_at"):
                return None, f"{key} is set by the CLM and cannot be written"
            return None, f"unknown field {key!r}"
        if value is not None and not isinstance(value, str):
            return None, f"{key} must be a string or null"
        changes[key] = value
    bu = changes.get("business_unit")
    if "business_unit" in changes and (bu is None or bu.strip().lower() not in known_bus):
        return None, f"unknown business unit {bu!r}"
    return changes, None


def upsert(con: duckdb.DuckDBPyConnection, items: list[Any]) -> list[dict[str, Any]]:
    """Apply ``items``; returns ``[{"id", "status": updated|created|error, "error"}]``."""
    known_bus = {
        r[0].strip().lower()
        for r in con.execute(
            "SELECT clm_business_unit FROM world.seed_clm_business_units"
        ).fetchall()
    }
    wanted = [i.get("id") for i in items if isinstance(i, dict) and isinstance(i.get("id"), str)]
    existing = {
        r[0]
        for r in con.execute(
            f"SELECT id FROM {COUNTERPARTIES} WHERE id IN (SELECT unnest(?::VARCHAR[]))", [wanted]
        ).fetchall()
    }
    row = con.execute(
        f"SELECT max(TRY_CAST(substr(id, 6) AS BIGINT)) FROM {COUNTERPARTIES} "
        "WHERE id LIKE 'CPTY-%'"
    ).fetchall()
    next_number = int(row[0][0] or 0) + 1
    results: list[dict[str, Any]] = []
    accepted: list[tuple[str, str, dict[str, Any]]] = []
    seen: set[str] = set()
    for item in items:
        changes, error = _validate(item, known_bus)
        item_id = item.get("id") if isinstance(item, dict) else None
        if error is None and isinstance(item_id, str) and item_id in seen:
            error = "the same id appears twice in this request"
        op = "updated" if item_id in existing else "created"
        if error is None and op == "created":
            missing = [f for f in ("name", "business_unit") if not (changes or {}).get(f)]
            if missing:
                error = f"a new counterparty needs {' and '.join(missing)}"
        if error is not None or changes is None:
            results.append({"id": item_id, "status": "error", "error": error})
            continue
        if item_id is None:
            item_id = f"CPTY-{next_number:07d}"
            next_number += 1
        seen.add(item_id)
        accepted.append((item_id, op, changes))
        results.append({"id": item_id, "status": op, "error": None})
    if accepted:
        _apply(con, accepted)
    return results


def _apply(con: duckdb.DuckDBPyConnection, accepted: list[tuple[str, str, dict[str, Any]]]) -> None:
    columns: dict[str, list[Any]] = {"id": [a[0] for a in accepted], "op": [a[1] for a in accepted]}
    names = list(FIELDS) + [f"address.{p}" for p in ADDRESS]
    for name in names:
        col = name.replace(".", "_")
        columns[col] = [a[2].get(name) for a in accepted]
        columns[f"{col}_set"] = [name in a[2] for a in accepted]
    source = pa.table(
        {
            k: pa.array(v, pa.bool_() if k.endswith("_set") else pa.string())
            for k, v in columns.items()
        }
    )
    ts = clm_store.stamp(con)
    con.register("_upsert_items", source)
    try:
        sets = ", ".join(f"{f} = CASE WHEN i.{f}_set THEN i.{f} ELSE c.{f} END" for f in FIELDS)
        address = ", ".join(
            f"{p} := CASE WHEN i.address_{p}_set THEN i.address_{p} ELSE c.address.{p} END"
            for p in ADDRESS
        )
        con.execute(
            f"UPDATE {COUNTERPARTIES} c SET {sets}, address = struct_pack({address}), "
            "updated_at = ? FROM _upsert_items i WHERE c.id = i.id AND i.op = 'updated'",
            [ts],
        )
        new_address = ", ".join(f"{p} := i.address_{p}" for p in ADDRESS)
        con.execute(
            f"INSERT INTO {COUNTERPARTIES} (id, {', '.join(FIELDS)}, address, created_at, "
            f"updated_at) SELECT i.id, {', '.join('i.' + f for f in FIELDS[:-1])}, "
            f"coalesce(i.status, 'active'), struct_pack({new_address}), ?, ? "
            "FROM _upsert_items i WHERE i.op = 'created'",
            [ts, ts],
        )
    finally:
        con.unregister("_upsert_items")
