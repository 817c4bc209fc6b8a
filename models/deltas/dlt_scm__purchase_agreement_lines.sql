-- clmsync: materialized=incremental strategy=delete_insert unique_key=clm_id,action,kind
--
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
--
-- Incremental (delete_insert), from the changes of the document models: a line's changes
-- come from its row in int_new_documents and its rows in int_document_changes, so only the
-- lines their last build worked out or compared again (`changes.*`) are looked at again, and
-- their rows replace the ones they had. The runner rebuilds the table in full when it cannot
-- vouch for those changes, and a build from nothing (an empty table) looks at every line.

with

previous as not materialized (

    select * from deltas.dlt_scm__purchase_agreement_lines

),

build as (

    select count(*) > 0 as is_incremental from previous

),

changed_lines as materialized (

    select clm_id
    from changes.int_new_documents
    where object = 'agreement_line'

    union

    select clm_id
    from changes.int_document_changes
    where entity = 'CLMIntegrationPurchaseAgreementLines'

),

new_documents as (

    select * from intermediate.int_new_documents
    where object = 'agreement_line'
        and not (select is_incremental from build)

    union all

    select new_documents.* from intermediate.int_new_documents as new_documents
    semi join changed_lines
        on changed_lines.clm_id = new_documents.clm_id
    where new_documents.object = 'agreement_line'
        and (select is_incremental from build)

),

lines as not materialized (

    -- Not materialised: creates and updates each need a few lines of the biggest table, and
    -- reading it in place lets each join filter the scan, instead of copying every line first.
    select * from intermediate.int_agreement_lines_mapped

),

line_changes as (

    select * from intermediate.int_document_changes
    where entity = 'CLMIntegrationPurchaseAgreementLines'
        and not (select is_incremental from build)

    union all

    select line_changes.* from intermediate.int_document_changes as line_changes
    semi join changed_lines
        on changed_lines.clm_id = line_changes.clm_id
    where line_changes.entity = 'CLMIntegrationPurchaseAgreementLines'
        and (select is_incremental from build)

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
        line_changes.action,
        line_changes.legal_entity,
        line_changes.record_key,
        line_changes.clm_id,
        line_changes.kind,
        json_object(
            'PurchaseAgreementLegalEntityId', line_changes.legal_entity,
            'PurchaseAgreementId', any_value(lines.scm_purchase_agreement_id),
            'LineNumber', split_part(line_changes.record_key, '|', 2)
        ) as keys,
        case
            when line_changes.action = 'close' then json_object()
            else to_json(map_from_entries(
                list({k: line_changes.field, v: line_changes.new_value}
                     order by line_changes.field)
            ))
        end as payload,
        case
            when line_changes.action = 'close' then json_object(
                'EffectiveDate', strftime(any_value(lines.scm_effective_date), '%Y-%m-%d'),
                'ExpirationDate', strftime(any_value(lines.scm_expiration_date), '%Y-%m-%d'),
                'ItemNumber', any_value(lines.scm_item_number),
                'Price', rtrim(rtrim(cast(any_value(lines.scm_price) as varchar), '0'), '.')
            )
            else to_json(map_from_entries(
                list({k: line_changes.field, v: line_changes.scm_value}
                     order by line_changes.field)
            ))
        end as before
    from line_changes
    inner join lines
        on lines.line_id = line_changes.clm_id
    where line_changes.entity = 'CLMIntegrationPurchaseAgreementLines'
        and line_changes.action in ('update', 'close')
        and not line_changes.is_blocked
    group by
        line_changes.action,
        line_changes.legal_entity,
        line_changes.record_key,
        line_changes.clm_id,
        line_changes.kind

),

changed as materialized (

    -- read twice below: written once
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

),

final as (

    select
        *,
        false as _deleted
    from changed

    union all by name

    -- a change of a line looked at again that is no longer to be made
    select
        previous.clm_id,
        previous.action,
        previous.kind,
        true as _deleted
    from previous
    semi join changed_lines
        on changed_lines.clm_id = previous.clm_id
    anti join changed
        on changed.clm_id = previous.clm_id
        and changed.action = previous.action
        and changed.kind = previous.kind

)

select * from final
