"""How often each discrepancy kind is planted, and on which objects it may be.

A rate is the share of the kind's *eligible objects* that get it:

* vendor-level kinds (``counterparty_linked_by_tax_id``, ``counterparty_linked_by_name``,
  ``duplicate_counterparty``, ``vendor_stale_in_clm``, ``vendor_blocked``, ``vendor_deleted``):
  vendors that have a counterparty in the CLM;
* ``counterparty_unlinked``: extra counterparties, as a share of all counterparties;
* document-level kinds: contracts of clean counterparties ("bundles": a contract, and for a
  purchase-agreement contract its agreement and lines). ``new_contract``, ``amended_dates`` and
  ``amended_status`` apply to every bundle, ``unmapped_contract_type`` to other contracts, the
  agreement and line kinds to CLM-owned purchase-agreement bundles, ``ownership_conflict`` to
  SCM-owned ones;
* ``noise``: clean counterparties and clean bundles that carry one harmless difference.

Kinds are exclusive per object: one uniform draw per vendor and per bundle picks at most one
kind, so the rates of the kinds that share eligible objects must add up to at most 1.
"""

from __future__ import annotations

from collections.abc import Mapping

from warehouse import taxonomy

VENDOR_KINDS = (
    "counterparty_linked_by_tax_id",
    "counterparty_linked_by_name",
    "duplicate_counterparty",
    "vendor_stale_in_clm",
    "vendor_blocked",
    "vendor_deleted",
)
OTHER_CONTRACT_KINDS = (
    "new_contract",
    "unmapped_contract_type",
    "amended_dates",
    "amended_status",
    "noise",
)
CLM_OWNED_PA_KINDS = (
    "new_contract",
    "new_agreement",
    "unmapped_payment_terms",
    "unmapped_currency",
    "amended_dates",
    "amended_status",
    "amended_price",
    "line_added",
    "line_removed",
    "unmapped_unit",
    "product_not_released",
    "noise",
)
SCM_OWNED_PA_KINDS = ("ownership_conflict",)

DEFAULT_RATES: dict[str, float] = {
    "new_contract": 0.02,
    "new_agreement": 0.02,
    "amended_dates": 0.02,
    "amended_status": 0.02,
    "amended_price": 0.02,
    "line_added": 0.02,
    "line_removed": 0.02,
    "counterparty_linked_by_tax_id": 0.03,
    "counterparty_linked_by_name": 0.03,
    "counterparty_unlinked": 0.015,
    "duplicate_counterparty": 0.015,
    "unmapped_payment_terms": 0.02,
    "unmapped_unit": 0.02,
    "unmapped_currency": 0.02,
    "unmapped_contract_type": 0.04,
    "product_not_released": 0.02,
    "vendor_blocked": 0.015,
    "vendor_deleted": 0.015,
    "vendor_stale_in_clm": 0.02,
    "ownership_conflict": 0.15,
    "noise": 0.05,
}

# Fixed shape of the world (not discrepancies): shares and averages the generator uses.
COUNTERPARTY_SHARE = 0.70  # vendors with a counterparty in the CLM
AGREEMENTS_PER_VENDOR = 0.5  # purchase-agreement contracts per vendor
OTHER_CONTRACTS_PER_VENDOR = 0.25  # NDAs, MSAs, SOWs... per vendor
SCM_OWNED_SHARE = 0.15  # purchase agreements whose ownership moved to SCM
BLOCKED_NEW_SHARE = 0.5  # a blocked vendor's contracts the CLM added after the block


def resolve_rates(rates: Mapping[str, float] | None) -> dict[str, float]:
    """The default rates overridden by ``rates``; unknown kinds and impossible rates fail."""
    known = set(taxonomy.kind_names()) | {"noise"}
    if set(DEFAULT_RATES) != known:
        raise AssertionError("DEFAULT_RATES and warehouse.taxonomy disagree")
    resolved = dict(DEFAULT_RATES)
    for name, value in (rates or {}).items():
        if name not in known:
            raise ValueError(f"unknown discrepancy kind {name!r} in rates; known: {sorted(known)}")
        rate = float(value)
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"rate of {name} must be between 0 and 1, got {value!r}")
        resolved[name] = rate
    for group, kinds in (
        ("vendor-level", VENDOR_KINDS),
        ("other-contract", OTHER_CONTRACT_KINDS),
        ("CLM-owned purchase agreement", CLM_OWNED_PA_KINDS),
    ):
        total = sum(resolved[k] for k in kinds)
        if total > 1.0:
            raise ValueError(f"{group} rates add up to {total:.3f}; they must not exceed 1")
    return resolved


def intervals(rates: Mapping[str, float], kinds: tuple[str, ...]) -> list[tuple[str, float]]:
    """Cumulative upper bounds of each kind's slice of [0, 1), in order."""
    acc, out = 0.0, []
    for k in kinds:
        acc += rates[k]
        out.append((k, acc))
    return out
