"""The typed parameters of clmsync's flows, shared by the Prefect flows and the command line.

Each model becomes a form in the Prefect UI (descriptions and defaults come from the ``Field``s),
and the command line fills the same models from its options, so a run started from a terminal and
one started from the UI mean exactly the same thing. Secrets never appear here: a flow gets the
path of the settings file, and the settings file (or the environment) holds the secrets.
"""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

# The SCM entity sets clmsync extracts, spelled out so the UI offers them as choices
# (tests check that this list matches connectors.catalog.synced_entities()).
EntityName = Literal[
    "LegalEntities",
    "Currencies",
    "UnitsOfMeasure",
    "PaymentTerms",
    "DeliveryTerms",
    "OperationalSitesV2",
    "Warehouses",
    "ProcurementProductCategories",
    "CLMIntegrationContractTypes",
    "VendorsV2",
    "ContactPersons",
    "CLMIntegrationReleasedProducts",
    "CLMIntegrationContracts",
    "CLMIntegrationPurchaseAgreements",
    "CLMIntegrationPurchaseAgreementLines",
]
ENTITY_NAMES: tuple[str, ...] = get_args(EntityName)

# The CLM object types (catalog.CLM_OBJECTS).
ClmObjectName = Literal["counterparty", "contract", "agreement", "agreement_line"]
CLM_OBJECT_NAMES: tuple[str, ...] = get_args(ClmObjectName)


class _Parameters(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReconcileParameters(_Parameters):
    """The scheduled reconciliation: everything in scope, incremental unless asked otherwise."""

    full: bool = Field(
        False,
        description="Export everything again instead of only what changed since the last run.",
    )
    push: bool = Field(
        True, description="Push the planned changes to SCM and the CLM after the checks pass."
    )
    dry_run: bool = Field(
        False,
        description="Plan the push and show it, but change nothing in SCM or the CLM.",
    )
    approval_timeout_minutes: int = Field(
        60,
        ge=1,
        le=7 * 24 * 60,
        description="How long a plan above the approval threshold waits for approval in the UI "
        "before the run gives up (nothing is pushed then).",
    )


class ReloadParameters(_Parameters):
    """An ad hoc reload of chosen entities and legal entities."""

    entities: list[EntityName] = Field(
        default_factory=list,
        description="SCM entity sets to extract again (empty: every entity in the settings).",
    )
    legal_entities: list[str] = Field(
        default_factory=list,
        description="Legal entities (dataAreaId, e.g. usmf) to extract (empty: all in scope).",
    )
    clm: bool = Field(True, description="Read the CLM's contracts and counterparties too.")
    full: bool = Field(
        True,
        description="Export the chosen entities in full (off: only what changed since last time).",
    )
    push: bool = Field(False, description="Plan and push the resulting changes to SCM and the CLM.")
    dry_run: bool = Field(
        False, description="With push: plan and show the push, but change nothing outside."
    )
    approval_timeout_minutes: int = Field(
        60,
        ge=1,
        le=7 * 24 * 60,
        description="How long a large plan waits for approval in the UI.",
    )

    @field_validator("legal_entities")
    @classmethod
    def _lowercase(cls, values: list[str]) -> list[str]:
        cleaned = [v.strip().lower() for v in values]
        if any(not v for v in cleaned):
            raise ValueError("a legal entity id cannot be empty")
        return cleaned


class PushParameters(_Parameters):
    """Push a plan that an earlier run wrote and did not push (it waited for approval, or was a
    dry run)."""

    run_id: str | None = Field(
        None, description="The run whose plan to push (empty: the latest run with a plan)."
    )
    entities: list[EntityName | ClmObjectName] = Field(
        default_factory=list,
        description="Push only these entities of the plan (empty: all of it).",
    )
    approved: bool = Field(
        False,
        description="The plan is approved as it is: do not wait for approval even when it is "
        "above the approval threshold.",
    )
    approval_timeout_minutes: int = Field(
        60, ge=1, le=7 * 24 * 60, description="How long a large plan waits for approval."
    )


class Approval(BaseModel):
    """What a person answers when a plan waits for approval (the form in the Prefect UI)."""

    model_config = ConfigDict(extra="forbid")

    approve: bool = Field(False, description="Push the plan (off: push nothing).")
    entities: list[str] = Field(
        default_factory=list,
        description="Push only these entities of the plan (empty: every entity in it).",
    )
    comment: str = Field("", description="Why; recorded with the run.")


Mode = Literal["reconcile", "reload", "push"]
