"""Checks a delta must pass before it is planned for sending.

A delta that fails one is still planned (so it shows in ``clmsync plan`` and gets a ledger row)
but marked with its problem and never sent: its ledger row ends ``failed`` with the reason. The
checks are what SCM would refuse anyway (unknown fields, missing keys, values of the wrong type)
plus what the loader cannot do (change a key, delete a contract).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors import catalog
from connectors.catalog import Entity
from loader import values

ACTIONS = ("create", "update", "close")
# What a close sets on entities that are closed by a status rather than deleted.
CLOSE_FIELDS: dict[str, str] = {
    "CLMIntegrationContracts": "ContractStatus",
    "CLMIntegrationPurchaseAgreements": "AgreementStatus",
}
DELETE_ON_CLOSE = frozenset({"CLMIntegrationPurchaseAgreementLines"})
CLM_FIELDS = frozenset(
    {"name", "tax_id", "vendor_account", "business_unit", "country", "currency"}
    | {"payment_terms", "email", "phone", "status"}
    | {"address.street", "address.city", "address.zip", "address.state"}
)


def scm_entity(name: str) -> Entity | None:
    """The catalog entity a delta may target (CLM → SCM entities only), or None."""
    try:
        found = catalog.entity(name)
    except KeyError:
        return None
    return found if found.direction == "clm_to_scm" else None


def complete_keys(entity: Entity, keys: dict[str, Any], legal_entity: str | None) -> None:
    """Fill in the company key field from the row's legal entity when the keys leave it out."""
    company = entity.company_field
    if company and keys.get(company) in (None, "") and legal_entity:
        keys[company] = legal_entity


def scm_problem(
    entity_name: str,
    action: str,
    legal_entity: str | None,
    keys: Mapping[str, Any],
    payload: Mapping[str, Any],
) -> str | None:
    """Why an SCM delta cannot be sent, or None."""
    entity = scm_entity(entity_name)
    if entity is None:
        return f"unknown entity {entity_name!r} (not a CLM-to-SCM entity of the catalog)"
    if action not in ACTIONS:
        return f"unknown action {action!r}; expected one of {', '.join(ACTIONS)}"
    if entity.company_specific and not legal_entity:
        return "no legal entity"
    company = entity.company_field
    if company and str(keys.get(company, "")).lower() != str(legal_entity or "").lower():
        return (
            f"keys name {company}={keys.get(company)!r}, the row's legal entity is {legal_entity!r}"
        )
    needed = entity.natural_key if action == "create" else entity.keys
    given = {**payload, **keys} if action == "create" else keys
    missing = [k for k in needed if given.get(k) in (None, "")]
    if missing:
        what = "natural key" if action == "create" else "key"
        return f"{what} field(s) {', '.join(missing)} missing from keys"
    unknown = sorted(set(payload) - set(entity.field_names))
    if unknown:
        return f"{entity.name} has no field(s) {', '.join(unknown)}"
    if action == "update" and not payload:
        return "an update with nothing to change"
    if action != "create":
        changed = [
            k
            for k in entity.keys
            if k in payload
            and values.key_text(entity.field(k), payload[k])
            != values.key_text(entity.field(k), keys.get(k))
        ]
        if changed:
            return f"key field(s) {', '.join(changed)} cannot be changed"
    if action == "close":
        status = CLOSE_FIELDS.get(entity.name)
        if status is not None and payload.get(status) in (None, ""):
            return f"a close of {entity.name} must set {status}"
        if status is None and entity.name not in DELETE_ON_CLOSE:
            return f"{entity.name} cannot be closed"
        if entity.name in DELETE_ON_CLOSE and payload:
            return "a line close deletes the line: its payload must be empty"
    for name in (*payload, *keys):
        if name not in entity.field_names:
            if name in keys:
                return f"{entity.name} has no key field {name}"
            continue
        source = payload if name in payload else keys
        problem = values.check(entity.field(name), source[name])
        if problem:
            return f"bad value {problem}"
    return None


def clm_problem(
    obj: str, action: str, clm_id: str | None, payload: Mapping[str, Any]
) -> str | None:
    """Why a CLM master-data delta cannot be sent, or None."""
    if obj != "counterparty":
        return f"unknown CLM object {obj!r}; the master-data feed updates counterparties"
    if action != "update":
        return f"the master-data feed only updates (got {action!r})"
    if not clm_id:
        return "no CLM id"
    if not payload:
        return "an update with nothing to change"
    unknown = sorted(set(payload) - CLM_FIELDS)
    if unknown:
        return f"counterparties have no field(s) {', '.join(unknown)}"
    bad = [k for k, v in payload.items() if v is not None and not isinstance(v, str)]
    if bad:
        return f"CLM values must be text: {', '.join(bad)}"
    return None


def operation(entity_name: str, action: str) -> str:
    """The HTTP verb a change becomes in SCM (UPSERT for the CLM feed)."""
    if action == "create":
        return "POST"
    if action == "close" and entity_name in DELETE_ON_CLOSE:
        return "DELETE"
    return "PATCH"
