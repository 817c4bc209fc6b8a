"""The taxonomy of mismatch kinds, written down once.

The world generator plants discrepancies of these kinds and lists them in its ground truth; the
report models emit rows with the same ``kind`` names; the loader pushes the actions. The same list
is documented, with an example per kind, in ``models/README.md`` and loaded into
``seeds.mismatch_kinds`` by the model runner so reports can be tested against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Action = Literal["create", "update", "close"]
Owner = Literal["SCM", "CLM"]
Matching = Literal["deterministic", "fuzzy"]


@dataclass(frozen=True)
class Kind:
    """One kind of mismatch.

    ``action`` is what clmsync does about it when nothing blocks it (None: report only).
    ``owner`` is the system that owns the data in question and must be believed.
    ``report`` is the specialised report the kind also appears in, besides ``rpt_mismatches``.
    """

    name: str
    description: str
    owner: Owner
    action: Action | None
    matching: Matching = "deterministic"
    report: str | None = None


KINDS: tuple[Kind, ...] = (
    Kind("new_contract", "A contract exists in the CLM and not in SCM.", "CLM", "create"),
    Kind(
        "new_agreement", "A purchase agreement exists in the CLM and not in SCM.", "CLM", "create"
    ),
    Kind(
        "amended_dates",
        "The CLM changed an effective or expiration date SCM still holds.",
        "CLM",
        "update",
    ),
    Kind(
        "amended_status",
        "The CLM changed a contract's or an agreement's status (closing it is a close).",
        "CLM",
        "update",
    ),
    Kind("amended_price", "The CLM changed an agreement line's price.", "CLM", "update"),
    Kind("line_added", "An agreement line exists in the CLM and not in SCM.", "CLM", "create"),
    Kind("line_removed", "The CLM removed an agreement line SCM still holds.", "CLM", "close"),
    Kind(
        "counterparty_linked_by_tax_id",
        "A counterparty carries no vendor account; it was linked to its vendor by tax id.",
        "CLM",
        None,
        report="rpt_unlinked_counterparties",
    ),
    Kind(
        "counterparty_linked_by_name",
        "A counterparty carries neither vendor account nor tax id; linked by name and country.",
        "CLM",
        None,
        matching="fuzzy",
        report="rpt_unlinked_counterparties",
    ),
    Kind(
        "counterparty_unlinked",
        "No vendor could be found for a counterparty; nothing of it is pushed.",
        "CLM",
        None,
        report="rpt_unlinked_counterparties",
    ),
    Kind(
        "duplicate_counterparty",
        "Two CLM counterparties link to the same SCM vendor.",
        "CLM",
        None,
        report="rpt_unlinked_counterparties",
    ),
    Kind(
        "unmapped_payment_terms",
        "The CLM's payment terms have no mapping to SCM terms of payment.",
        "CLM",
        None,
        report="rpt_mapping_failures",
    ),
    Kind(
        "unmapped_unit",
        "The CLM's unit has no mapping to an SCM unit of measure.",
        "CLM",
        None,
        report="rpt_mapping_failures",
    ),
    Kind(
        "unmapped_currency",
        "The CLM's currency has no mapping to an SCM currency.",
        "CLM",
        None,
        report="rpt_mapping_failures",
    ),
    Kind(
        "unmapped_contract_type",
        "The CLM's contract type has no mapping to an SCM CLM contract type.",
        "CLM",
        None,
        report="rpt_mapping_failures",
    ),
    Kind(
        "product_not_released",
        "An agreement line's product is not released in the agreement's legal entity.",
        "CLM",
        None,
        report="rpt_mapping_failures",
    ),
    Kind(
        "vendor_blocked",
        "The CLM uses a vendor that is on hold for everything in SCM.",
        "SCM",
        None,
    ),
    Kind(
        "vendor_deleted",
        "The CLM uses a vendor account that no longer exists in SCM.",
        "SCM",
        None,
    ),
    Kind(
        "vendor_stale_in_clm",
        "The CLM's copy of vendor master data differs from SCM; SCM's value is sent to the CLM.",
        "SCM",
        "update",
    ),
    Kind(
        "ownership_conflict",
        "The CLM changed an agreement SCM owns (AgreementOwnership = SCM); never pushed.",
        "SCM",
        None,
        report="rpt_conflicts",
    ),
)

NOISE_KINDS: tuple[str, ...] = (
    "noise_case",
    "noise_whitespace",
    "noise_unicode_normalization",
    "noise_decimal_scale",
    "noise_midnight_datetime",
)
"""Differences that are not mismatches and must never be reported."""

_BY_NAME = {k.name: k for k in KINDS}


def kind(name: str) -> Kind:
    """The kind called ``name``."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown mismatch kind {name!r}") from None


def kind_names() -> tuple[str, ...]:
    return tuple(k.name for k in KINDS)
