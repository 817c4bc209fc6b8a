-- CLM codes and values clmsync could not map to SCM: one row per CLM object and failing field,
-- with what the failure holds back. Fix a failure by adding the code to the seed named in
-- `seed` (data/seeds/<seed>.csv) or by correcting the CLM; the next run picks it up.
--
-- `kind` is the mismatch kind when the failure is one (unmapped_payment_terms, unmapped_unit,
-- unmapped_currency, unmapped_contract_type, product_not_released); failures no kind covers
-- (a status or business unit that does not map, an SCM code with no CLM code to send) have
-- none but are listed all the same.

with

new_documents as (

    select * from intermediate.int_new_documents

),

contracts as (

    select * from intermediate.int_contracts_mapped

),

agreements as (

    select * from intermediate.int_agreements_mapped

),

links as (

    select * from intermediate.int_counterparty_links

),

master_data_diffs as (

    select * from intermediate.int_counterparty_master_data_diffs

),

kinds as (

    select * from seeds.mismatch_kinds

),

new_document_failures as (

    select
        object,
        clm_id,
        legal_entity,
        failure.failure,
        failure.field,
        failure.clm_value,
        case object
            when 'contract' then 'the contract is not created'
            when 'agreement' then 'the agreement, its lines and a new contract are not created'
            else 'the line is not created'
        end as consequence
    from (select *, unnest(mapping_failures) as failure from new_documents)

),

existing_document_failures as (

    select
        'contract' as object,
        contract_id as clm_id,
        legal_entity,
        'unmapped_contract_status' as failure,
        'ContractStatus' as field,
        status as clm_value,
        'the status is not compared with SCM' as consequence
    from contracts
    where scm_contract_id is not null
        and scm_contract_status is null

    union all

    select
        'agreement' as object,
        agreement_id as clm_id,
        legal_entity,
        'unmapped_agreement_status' as failure,
        'AgreementStatus' as field,
        status as clm_value,
        'the status is not compared with SCM' as consequence
    from agreements
    where scm_purchase_agreement_id is not null
        and scm_agreement_status is null

    union all

    select
        'contract' as object,
        contract_id as clm_id,
        null as legal_entity,
        'unmapped_business_unit' as failure,
        'LegalEntityId' as field,
        business_unit as clm_value,
        'the contract is not matched or created' as consequence
    from contracts
    where legal_entity is null

),

counterparty_failures as (

    select
        'counterparty' as object,
        counterparty_id as clm_id,
        null as legal_entity,
        'unmapped_business_unit' as failure,
        'dataAreaId' as field,
        business_unit as clm_value,
        'the counterparty is not linked to a vendor' as consequence
    from links
    where link_status = 'unknown_business_unit'

    union all

    select
        'counterparty' as object,
        counterparty_id as clm_id,
        legal_entity,
        'no_clm_code' as failure,
        field,
        scm_value as clm_value,
        'SCM''s value has no preferred CLM code: the CLM copy is not updated' as consequence
    from master_data_diffs
    where value_to_send is null

),

unioned as (

    select * from new_document_failures
    union all
    select * from existing_document_failures
    union all
    select * from counterparty_failures

),

final as (

    select
        unioned.object,
        unioned.clm_id,
        unioned.legal_entity,
        unioned.failure,
        kinds.name as kind,
        unioned.field,
        unioned.clm_value,
        case unioned.failure
            when 'unmapped_payment_terms' then 'clm_payment_terms'
            when 'unmapped_unit' then 'clm_units'
            when 'unmapped_currency' then 'clm_currencies'
            when 'unmapped_contract_type' then 'clm_contract_types'
            when 'unmapped_contract_status' then 'clm_contract_statuses'
            when 'unmapped_agreement_status' then 'clm_agreement_statuses'
            when 'unmapped_business_unit' then 'clm_business_units'
        end as seed,
        unioned.consequence
    from unioned
    left join kinds
        on kinds.name = unioned.failure

)

select * from final
