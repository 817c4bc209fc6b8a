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

with

contracts as (

    select * from intermediate.int_contracts_mapped

),

agreements as (

    select * from intermediate.int_agreements_mapped

),

lines as (

    select * from intermediate.int_agreement_lines_mapped

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
            when agreement_outcomes.outcome is not null and agreement_outcomes.outcome <> 'create'
                then 'held'
            else 'create'
        end as outcome,
        'new_contract' as create_kind,
        true as is_reported,
        new_contracts.blocked_reason,
        new_contracts.mapping_failures
    from new_contracts
    left join agreement_outcomes
        on agreement_outcomes.contract_id = new_contracts.contract_id

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

final as (

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

)

select * from final
