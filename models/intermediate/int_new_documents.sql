-- clmsync: materialized=incremental strategy=delete_insert unique_key=object,clm_id
--
-- What happens to each CLM contract, agreement and active line SCM does not have yet: one row
-- per such CLM object, with its outcome.
--
-- outcome:
--   create           everything maps: the object is created in SCM (deltas);
--   blocked          its counterparty is unlinked, in review, of a deleted vendor or of a vendor
--                    on hold for everything: nothing of it is created, nothing listed for it;
--   mapping_failure  a code has no mapping (listed in `mapping_failures`): not created;
--   held             its parent cannot be created (a new agreement of a contract whose type does
--                    not map, a new contract or line of an agreement with a mapping failure):
--                    the parent's failure is the one listed.
-- A mapping failure blocks what it belongs to: an unmapped currency or payment term on a new
-- agreement holds its contract and lines too; an unmapped unit or unreleased product holds
-- that line only. `kind` is the mismatch kind of a create (lines of a new agreement are
-- created with it and report nothing of their own: `is_reported` false).
--
-- Incremental (delete_insert), from the changes of the mapped models. An object's outcome
-- depends on its contract and that contract's agreements, and a line's on its agreement: on
-- its *family*, the contract (or, for an agreement without one, the agreement). So the
-- families of the contracts, agreements and lines the last build of the mapped models mapped
-- again (`changes.*`, as the runner keeps them), with the families those objects had before,
-- are worked out again, and their rows replace the ones they had. The runner rebuilds the
-- table in full when it cannot vouch for those changes, and a build from nothing (an empty
-- table) works out every family.

with

previous as not materialized (

    select * from intermediate.int_new_documents

),

build as (

    select count(*) > 0 as is_incremental from previous

),

changed_objects as (

    -- every object mapped again or gone, with its family as mapped now (NULL when gone)
    select 'contract' as object, contract_id as clm_id, contract_id as family
    from changes.int_contracts_mapped
    union all
    select 'agreement' as object, agreement_id as clm_id, coalesce(contract_id, agreement_id)
    from changes.int_agreements_mapped
    union all
    select 'agreement_line' as object, line_id as clm_id, coalesce(contract_id, agreement_id)
    from changes.int_agreement_lines_mapped

),

changed_families as materialized (

    select family from changed_objects where family is not null
    union
    -- the family it had: its previous row goes, and what depended on it is worked out again
    select coalesce(previous.contract_id, previous.agreement_id) as family
    from previous
    semi join changed_objects
        on changed_objects.object = previous.object
        and changed_objects.clm_id = previous.clm_id

),

contracts as (

    select * from intermediate.int_contracts_mapped
    where not (select is_incremental from build)

    union all

    select contracts.* from intermediate.int_contracts_mapped as contracts
    semi join changed_families
        on changed_families.family = contracts.contract_id
    where (select is_incremental from build)

),

agreements as (

    select * from intermediate.int_agreements_mapped
    where not (select is_incremental from build)

    union all

    select agreements.* from intermediate.int_agreements_mapped as agreements
    semi join changed_families
        on changed_families.family = coalesce(agreements.contract_id, agreements.agreement_id)
    where (select is_incremental from build)

),

lines as (

    select * from intermediate.int_agreement_lines_mapped
    where not (select is_incremental from build)

    union all

    select lines.* from intermediate.int_agreement_lines_mapped as lines
    semi join changed_families
        on changed_families.family = coalesce(lines.contract_id, lines.agreement_id)
    where (select is_incremental from build)

),

new_contracts as (

    select
        *,
        list_filter([
            case when scm_contract_type is null then {
                failure: 'unmapped_contract_type',
                field: 'ContractType',
                clm_value: contract_type
            } end,
            case when scm_contract_status is null then {
                failure: 'unmapped_contract_status',
                field: 'ContractStatus',
                clm_value: status
            } end
        ], lambda failure: failure is not null) as mapping_failures
    from contracts
    where scm_contract_id is null

),

new_agreements as (

    select
        agreements.*,
        new_contracts.contract_id is not null as is_contract_new,
        coalesce(len(new_contracts.mapping_failures) > 0, false) as is_contract_unmappable,
        list_filter([
            case when agreements.scm_currency is null then {
                failure: 'unmapped_currency',
                field: 'CurrencyCode',
                clm_value: agreements.currency
            } end,
            case when agreements.scm_payment_terms is null then {
                failure: 'unmapped_payment_terms',
                field: 'PaymentTermsName',
                clm_value: agreements.payment_terms
            } end,
            case when agreements.scm_agreement_status is null then {
                failure: 'unmapped_agreement_status',
                field: 'AgreementStatus',
                clm_value: agreements.status
            } end
        ], lambda failure: failure is not null) as mapping_failures
    from agreements
    left join new_contracts
        on new_contracts.contract_id = agreements.contract_id
    where agreements.scm_purchase_agreement_id is null

),

agreement_outcomes as (

    select
        *,
        case
            when is_blocked then 'blocked'
            when is_contract_unmappable then 'held'
            when len(mapping_failures) > 0 then 'mapping_failure'
            else 'create'
        end as outcome
    from new_agreements

),

new_lines as (

    select
        lines.*,
        agreement_outcomes.agreement_id is not null as is_agreement_new,
        agreement_outcomes.outcome as agreement_outcome,
        -- One failure per line: a unit that does not map hides whether the product is released.
        case
            when lines.scm_unit is null then [{
                failure: 'unmapped_unit',
                field: 'UnitSymbol',
                clm_value: lines.unit
            }]
            when not lines.is_product_released then [{
                failure: 'product_not_released',
                field: 'ItemNumber',
                clm_value: lines.product_code
            }]
            else []
        end as mapping_failures
    from lines
    left join agreement_outcomes
        on agreement_outcomes.agreement_id = lines.agreement_id
    where lines.scm_record_key is null
        and lines.status = 'active'
        -- lines of a new agreement, or new lines of an agreement SCM has
        and (agreement_outcomes.agreement_id is not null
            or lines.agreement_scm_purchase_agreement_id is not null)

),

held_contracts as (

    -- new contracts with a new agreement that cannot be created (one row per contract, however
    -- many agreements it has)
    select distinct contract_id
    from agreement_outcomes
    where outcome <> 'create'

),

contract_rows as (

    select
        'contract' as object,
        new_contracts.contract_id as clm_id,
        new_contracts.legal_entity,
        new_contracts.contract_id,
        null as agreement_id,
        new_contracts.vendor_account,
        case
            when new_contracts.is_blocked then 'blocked'
            when len(new_contracts.mapping_failures) > 0 then 'mapping_failure'
            when held_contracts.contract_id is not null then 'held'
            else 'create'
        end as outcome,
        'new_contract' as create_kind,
        true as is_reported,
        new_contracts.blocked_reason,
        new_contracts.mapping_failures
    from new_contracts
    left join held_contracts
        on held_contracts.contract_id = new_contracts.contract_id

),

agreement_rows as (

    select
        'agreement' as object,
        agreement_id as clm_id,
        legal_entity,
        contract_id,
        agreement_id,
        vendor_account,
        outcome,
        'new_agreement' as create_kind,
        true as is_reported,
        blocked_reason,
        mapping_failures
    from agreement_outcomes

),

line_rows as (

    select
        'agreement_line' as object,
        line_id as clm_id,
        legal_entity,
        contract_id,
        agreement_id,
        null as vendor_account,
        case
            when is_blocked then 'blocked'
            when is_agreement_new and agreement_outcome <> 'create' then 'held'
            when not is_agreement_new and agreement_scm_ownership = 'SCM' then 'ownership_conflict'
            when len(mapping_failures) > 0 then 'mapping_failure'
            else 'create'
        end as outcome,
        case when is_agreement_new then 'new_agreement' else 'line_added' end as create_kind,
        not is_agreement_new as is_reported,
        blocked_reason,
        mapping_failures
    from new_lines

),

worked_out as materialized (

    -- read twice below: written once
    select
        object,
        clm_id,
        legal_entity,
        contract_id,
        agreement_id,
        vendor_account,
        outcome,
        case when outcome = 'create' then create_kind end as kind,
        is_reported,
        blocked_reason,
        case when outcome = 'mapping_failure' then mapping_failures else [] end
            as mapping_failures
    from (
        select * from contract_rows
        union all
        select * from agreement_rows
        union all
        select * from line_rows
    )

),

final as (

    select
        *,
        false as _deleted
    from worked_out

    union all by name

    -- an object of a family worked out again that is no longer new (or gone)
    select
        previous.object,
        previous.clm_id,
        true as _deleted
    from previous
    semi join changed_families
        on changed_families.family = coalesce(previous.contract_id, previous.agreement_id)
    anti join worked_out
        on worked_out.object = previous.object
        and worked_out.clm_id = previous.clm_id

)

select * from final
