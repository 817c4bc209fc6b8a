-- clmsync: materialized=view
--
-- Contracts as both systems hold them, side by side: one row per contract in the CLM, SCM or
-- both (matched on legal entity + external contract id), with the state of the pair.
--
-- sync_state: in_sync; differs (the CLM changed dates or status); new_in_clm (SCM does not
-- have it yet: see new_document_outcome); only_in_scm (no CLM contract has its external id).
-- A view: a wide row-level join analysts filter, cheaper to compute when queried than to copy
-- on every run.

with

clm_contracts as (

    select * from intermediate.int_contracts_mapped

),

scm_contracts as (

    select * from staging.stg_scm__contracts

),

clm_details as (

    select * from staging.stg_clm__contracts

),

changes as (

    select * from intermediate.int_document_changes

),

new_documents as (

    select * from intermediate.int_new_documents

),

changed_contracts as (

    select
        legal_entity,
        record_key as contract_id,
        list(field order by field) as changed_fields
    from changes
    where entity = 'CLMIntegrationContracts'
    group by legal_entity, record_key

),

final as (

    select
        coalesce(clm_contracts.legal_entity, scm_contracts.legal_entity) as legal_entity,
        clm_contracts.contract_id as clm_contract_id,
        scm_contracts.contract_id as scm_contract_id,
        clm_details.counterparty_id,
        coalesce(scm_contracts.vendor_account, clm_contracts.vendor_account) as vendor_account,
        clm_details.contract_title as clm_title,
        scm_contracts.contract_name as scm_name,
        clm_contracts.contract_type as clm_contract_type,
        clm_contracts.scm_contract_type as clm_contract_type_in_scm_codes,
        scm_contracts.contract_type as scm_contract_type,
        clm_contracts.status as clm_status,
        clm_contracts.scm_contract_status as clm_status_in_scm_codes,
        scm_contracts.contract_status as scm_status,
        clm_contracts.effective_date as clm_effective_date,
        scm_contracts.effective_date as scm_effective_date,
        clm_contracts.expiration_date as clm_expiration_date,
        scm_contracts.expiration_date as scm_expiration_date,
        changed_contracts.changed_fields,
        new_documents.outcome as new_document_outcome,
        clm_contracts.blocked_reason,
        case
            when clm_contracts.contract_id is null then 'only_in_scm'
            when scm_contracts.contract_id is null then 'new_in_clm'
            when changed_contracts.contract_id is not null then 'differs'
            else 'in_sync'
        end as sync_state
    from clm_contracts
    full outer join scm_contracts
        on scm_contracts.legal_entity = clm_contracts.legal_entity
        and scm_contracts.contract_id = clm_contracts.scm_contract_id
    left join clm_details
        on clm_details.contract_id = clm_contracts.contract_id
    left join changed_contracts
        on changed_contracts.legal_entity = scm_contracts.legal_entity
        and changed_contracts.contract_id = scm_contracts.contract_id
    left join new_documents
        on new_documents.object = 'contract'
        and new_documents.clm_id = clm_contracts.contract_id

)

select * from final
