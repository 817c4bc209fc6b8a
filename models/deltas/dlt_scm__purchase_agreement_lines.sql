-- What SCM must receive for purchase agreement lines: one row per change (create, update or
-- close of one line), read by the loader.
--
-- create: a CLM line SCM lacks, on a new agreement created in the same push (kind
--   new_agreement) or on a CLM-owned agreement SCM has (kind line_added), with a unit that maps
--   and a product released to the legal entity. LineNumber and PurchaseAgreementId are left
--   out: SCM numbers the line and finds its agreement by ExternalContractId in that legal
--   entity; `keys` is the natural key (legal entity + ExternalContractLineId = the CLM id).
-- update: dates and price the CLM changed, only those, with SCM's values in `before`.
-- close: a line the CLM removed: SCM deletes it (`payload` {}; `before` what it held).

with

new_documents as (

    select * from intermediate.int_new_documents

),

lines as not materialized (

    -- Not materialised: creates and updates each need a few lines of the biggest table, and
    -- reading it in place lets each join filter the scan, instead of copying every line first.
    select * from intermediate.int_agreement_lines_mapped

),

changes as (

    select * from intermediate.int_document_changes

),

creates as (

    select
        'create' as action,
        lines.legal_entity,
        lines.line_id as record_key,
        lines.line_id as clm_id,
        new_documents.kind,
        json_object(
            'PurchaseAgreementLegalEntityId', lines.legal_entity,
            'ExternalContractLineId', lines.line_id
        ) as keys,
        -- merge-patching {} leaves out the fields that have no value (JSON null)
        json_merge_patch('{}', json_object(
            'PurchaseAgreementLegalEntityId', lines.legal_entity,
            'ExternalContractId', lines.contract_id,
            'ExternalContractLineId', lines.line_id,
            'CommitmentType', 'ProductQuantity',
            'CommittedQuantity', rtrim(rtrim(cast(lines.quantity as varchar), '0'), '.'),
            'EffectiveDate', strftime(lines.effective_date, '%Y-%m-%d'),
            'ExpirationDate', strftime(lines.expiration_date, '%Y-%m-%d'),
            'ItemNumber', lines.item_number,
            'ProcurementProductCategoryName', lines.procurement_category,
            'Price', rtrim(rtrim(cast(lines.unit_price as varchar), '0'), '.'),
            'PriceQuantity', '1',
            'UnitSymbol', lines.scm_unit
        )) as payload,
        cast(null as json) as before
    from new_documents
    inner join lines
        on lines.line_id = new_documents.clm_id
    where new_documents.object = 'agreement_line'
        and new_documents.outcome = 'create'

),

updates as (

    select
        changes.action,
        changes.legal_entity,
        changes.record_key,
        changes.clm_id,
        changes.kind,
        json_object(
            'PurchaseAgreementLegalEntityId', changes.legal_entity,
            'PurchaseAgreementId', any_value(lines.scm_purchase_agreement_id),
            'LineNumber', split_part(changes.record_key, '|', 2)
        ) as keys,
        case
            when changes.action = 'close' then json_object()
            else to_json(map_from_entries(
                list({k: changes.field, v: changes.new_value} order by changes.field)
            ))
        end as payload,
        case
            when changes.action = 'close' then json_object(
                'EffectiveDate', strftime(any_value(lines.scm_effective_date), '%Y-%m-%d'),
                'ExpirationDate', strftime(any_value(lines.scm_expiration_date), '%Y-%m-%d'),
                'ItemNumber', any_value(lines.scm_item_number),
                'Price', rtrim(rtrim(cast(any_value(lines.scm_price) as varchar), '0'), '.')
            )
            else to_json(map_from_entries(
                list({k: changes.field, v: changes.scm_value} order by changes.field)
            ))
        end as before
    from changes
    inner join lines
        on lines.line_id = changes.clm_id
    where changes.entity = 'CLMIntegrationPurchaseAgreementLines'
        and changes.action in ('update', 'close')
        and not changes.is_blocked
    group by changes.action, changes.legal_entity, changes.record_key, changes.clm_id, changes.kind

),

final as (

    select
        md5(concat_ws('|', 'CLMIntegrationPurchaseAgreementLines', legal_entity, record_key,
                      action, payload::varchar)) as delta_id,
        action,
        'CLMIntegrationPurchaseAgreementLines' as entity,
        legal_entity,
        record_key,
        clm_id,
        kind,
        keys,
        payload,
        before
    from (
        select * from creates
        union all
        select * from updates
    )

)

select * from final
