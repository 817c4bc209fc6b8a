-- clmsync: materialized=view
--
-- Agreement lines as both systems hold them, side by side: one row per line in the CLM, SCM or
-- both (matched on legal entity + external contract line id), with the state of the pair
-- (in_sync, differs, removed_in_clm, new_in_clm, only_in_scm).
-- A view: a wide row-level join analysts filter, cheaper to compute when queried than to copy
-- on every run.

with

clm_lines as (

    select * from intermediate.int_agreement_lines_mapped

),

scm_lines as (

    select * from staging.stg_scm__purchase_agreement_lines

),

changes as (

    select * from intermediate.int_document_changes

),

new_documents as (

    select * from intermediate.int_new_documents

),

changed_lines as (

    select
        legal_entity,
        record_key,
        list(field order by field) filter (where field is not null) as changed_fields
    from changes
    where entity = 'CLMIntegrationPurchaseAgreementLines'
    group by legal_entity, record_key

),

final as (

    select
        coalesce(clm_lines.legal_entity, scm_lines.legal_entity) as legal_entity,
        clm_lines.line_id as clm_line_id,
        clm_lines.agreement_id as clm_agreement_id,
        scm_lines.purchase_agreement_id || '|' || scm_lines.line_number_text as scm_record_key,
        scm_lines.purchase_agreement_id as scm_purchase_agreement_id,
        scm_lines.line_number as scm_line_number,
        clm_lines.status as clm_status,
        clm_lines.product_code as clm_product_code,
        scm_lines.item_number as scm_item_number,
        clm_lines.unit as clm_unit,
        clm_lines.scm_unit as clm_unit_in_scm_codes,
        scm_lines.unit_symbol as scm_unit,
        clm_lines.quantity as clm_quantity,
        scm_lines.committed_quantity as scm_quantity,
        clm_lines.unit_price as clm_price,
        scm_lines.price as scm_price,
        clm_lines.effective_date as clm_effective_date,
        scm_lines.effective_date as scm_effective_date,
        clm_lines.expiration_date as clm_expiration_date,
        scm_lines.expiration_date as scm_expiration_date,
        changed_lines.changed_fields,
        new_documents.outcome as new_document_outcome,
        clm_lines.blocked_reason,
        case
            when clm_lines.line_id is null then 'only_in_scm'
            when scm_lines.purchase_agreement_id is null then 'new_in_clm'
            when clm_lines.status = 'removed' then 'removed_in_clm'
            when changed_lines.record_key is not null then 'differs'
            else 'in_sync'
        end as sync_state
    from clm_lines
    full outer join scm_lines
        on scm_lines.legal_entity = clm_lines.legal_entity
        and scm_lines.purchase_agreement_id = clm_lines.scm_purchase_agreement_id
        and scm_lines.line_number = clm_lines.scm_line_number
    left join changed_lines
        on changed_lines.legal_entity = scm_lines.legal_entity
        and changed_lines.record_key
            = scm_lines.purchase_agreement_id || '|' || scm_lines.line_number_text
    left join new_documents
        on new_documents.object = 'agreement_line'
        and new_documents.clm_id = clm_lines.line_id

)

select * from final
