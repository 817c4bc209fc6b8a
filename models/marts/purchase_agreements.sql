-- clmsync: materialized=view
--
-- Purchase agreements as both systems hold them, side by side: one row per agreement in the
-- CLM, SCM or both (matched on buying legal entity + external contract id), with who owns it
-- in SCM and the state of the pair (in_sync, differs, conflict, new_in_clm, only_in_scm).
-- A view: a wide row-level join analysts filter, cheaper to compute when queried than to copy
-- on every run.

with

clm_agreements as (

    select * from intermediate.int_agreements_mapped

),

scm_agreements as (

    select * from staging.stg_scm__purchase_agreements

),

changes as (

    select * from intermediate.int_document_changes

),

new_documents as (

    select * from intermediate.int_new_documents

),

changed_agreements as (

    select
        legal_entity,
        record_key as purchase_agreement_id,
        list(field order by field) as changed_fields,
        bool_or(kind = 'ownership_conflict') as is_conflict
    from changes
    where entity = 'CLMIntegrationPurchaseAgreements'
    group by legal_entity, record_key

),

final as (

    select
        coalesce(clm_agreements.legal_entity, scm_agreements.legal_entity) as legal_entity,
        clm_agreements.agreement_id as clm_agreement_id,
        coalesce(clm_agreements.contract_id, scm_agreements.external_contract_id)
            as clm_contract_id,
        scm_agreements.purchase_agreement_id as scm_purchase_agreement_id,
        scm_agreements.ownership,
        coalesce(scm_agreements.vendor_account, clm_agreements.vendor_account) as vendor_account,
        clm_agreements.status as clm_status,
        clm_agreements.scm_agreement_status as clm_status_in_scm_codes,
        scm_agreements.agreement_status as scm_status,
        clm_agreements.effective_date as clm_effective_date,
        scm_agreements.effective_date as scm_effective_date,
        clm_agreements.expiration_date as clm_expiration_date,
        scm_agreements.expiration_date as scm_expiration_date,
        clm_agreements.currency as clm_currency,
        clm_agreements.scm_currency as clm_currency_in_scm_codes,
        scm_agreements.currency_code as scm_currency,
        clm_agreements.payment_terms as clm_payment_terms,
        clm_agreements.scm_payment_terms as clm_payment_terms_in_scm_codes,
        scm_agreements.payment_terms as scm_payment_terms,
        changed_agreements.changed_fields,
        new_documents.outcome as new_document_outcome,
        clm_agreements.blocked_reason,
        case
            when clm_agreements.agreement_id is null then 'only_in_scm'
            when scm_agreements.purchase_agreement_id is null then 'new_in_clm'
            when changed_agreements.is_conflict then 'conflict'
            when changed_agreements.purchase_agreement_id is not null then 'differs'
            else 'in_sync'
        end as sync_state
    from clm_agreements
    full outer join scm_agreements
        on scm_agreements.legal_entity = clm_agreements.legal_entity
        and scm_agreements.purchase_agreement_id = clm_agreements.scm_purchase_agreement_id
    left join changed_agreements
        on changed_agreements.legal_entity = scm_agreements.legal_entity
        and changed_agreements.purchase_agreement_id = scm_agreements.purchase_agreement_id
    left join new_documents
        on new_documents.object = 'agreement'
        and new_documents.clm_id = clm_agreements.agreement_id

)

select * from final
