-- Every mismatch between SCM and the CLM found in this run, in one shape: one row per mismatch
-- (kind, entity, legal entity, record key, field, CLM object).
--
-- `entity` is the SCM entity set when an SCM record is involved (`record_key` is then that
-- record's key without the legal entity, e.g. "PA0001234|3"), else the CLM object type
-- (`record_key` is then the CLM id). `kind` is one of seeds.mismatch_kinds. `action` is what
-- clmsync does about it (create, update, close, or nothing); `is_blocked` mismatches are listed
-- but never pushed. Noise (case, spacing, Unicode form, 1.50 vs 1.5, a date sent as a midnight
-- date-time) never gets here: every comparison upstream is on normalised values.

with

links as not materialized (

    select * from intermediate.int_counterparty_links

),

master_data_diffs as (

    select * from intermediate.int_counterparty_master_data_diffs

),

new_documents as (

    select * from intermediate.int_new_documents

),

document_changes as (

    select * from intermediate.int_document_changes

),

shared_vendors as (

    -- Vendors more than one counterparty links to: counted first with a plain aggregate, so
    -- the ordered list of counterparty ids is only built for these few.
    select
        legal_entity,
        vendor_account
    from links
    where link_status = 'linked'
    group by legal_entity, vendor_account
    having count(*) > 1

),

link_kinds as (

    select
        case link_method
            when 'tax_id' then 'counterparty_linked_by_tax_id'
            when 'name' then 'counterparty_linked_by_name'
        end as kind,
        'VendorsV2' as entity,
        legal_entity,
        vendor_account as record_key,
        null as field,
        case link_method when 'tax_id' then vendor_tax_id else vendor_name end as scm_value,
        case link_method when 'tax_id' then tax_id else counterparty_name end as clm_value,
        counterparty_id as clm_id,
        null as action,
        false as is_blocked
    from links
    where link_status = 'linked'
        and link_method in ('tax_id', 'name')

    union all

    select
        'counterparty_unlinked' as kind,
        'counterparty' as entity,
        legal_entity,
        counterparty_id as record_key,
        null as field,
        null as scm_value,
        counterparty_name as clm_value,
        counterparty_id as clm_id,
        null as action,
        true as is_blocked
    from links
    where link_status in ('unlinked', 'review', 'unknown_business_unit')

),

vendor_kinds as (

    select
        'vendor_deleted' as kind,
        'VendorsV2' as entity,
        legal_entity,
        clm_vendor_account as record_key,
        null as field,
        null as scm_value,
        clm_vendor_account as clm_value,
        min(counterparty_id) as clm_id,
        null as action,
        true as is_blocked
    from links
    where link_status = 'vendor_missing'
    group by legal_entity, clm_vendor_account

    union all

    select
        'vendor_blocked' as kind,
        'VendorsV2' as entity,
        legal_entity,
        vendor_account as record_key,
        'OnHoldStatus' as field,
        min(vendor_on_hold_status) as scm_value,
        null as clm_value,
        min(counterparty_id) as clm_id,
        null as action,
        true as is_blocked
    from links
    where link_status = 'linked'
        and is_vendor_on_hold
    group by legal_entity, vendor_account

    union all

    select
        'duplicate_counterparty' as kind,
        'VendorsV2' as entity,
        legal_entity,
        vendor_account as record_key,
        null as field,
        null as scm_value,
        string_agg(counterparty_id, ',' order by counterparty_id) as clm_value,
        max(counterparty_id) as clm_id,
        null as action,
        false as is_blocked
    from links
    semi join shared_vendors
        on shared_vendors.legal_entity = links.legal_entity
        and shared_vendors.vendor_account = links.vendor_account
    where link_status = 'linked'
    group by links.legal_entity, links.vendor_account

    union all

    select
        'vendor_stale_in_clm' as kind,
        'VendorsV2' as entity,
        legal_entity,
        vendor_account as record_key,
        field,
        scm_value,
        clm_value,
        counterparty_id as clm_id,
        'update' as action,
        value_to_send is null as is_blocked
    from master_data_diffs

),

document_kinds as (

    select
        kind,
        object as entity,
        legal_entity,
        clm_id as record_key,
        null as field,
        null as scm_value,
        null as clm_value,
        clm_id,
        'create' as action,
        false as is_blocked
    from new_documents
    where outcome = 'create'
        and is_reported

    union all

    select
        'ownership_conflict' as kind,
        object as entity,
        legal_entity,
        clm_id as record_key,
        null as field,
        null as scm_value,
        null as clm_value,
        clm_id,
        null as action,
        true as is_blocked
    from new_documents
    where outcome = 'ownership_conflict'

    union all

    select
        failure.failure as kind,
        object as entity,
        legal_entity,
        clm_id as record_key,
        failure.field,
        null as scm_value,
        failure.clm_value,
        clm_id,
        null as action,
        true as is_blocked
    from (select *, unnest(mapping_failures) as failure from new_documents)
    where failure.failure in (
        'unmapped_contract_type',
        'unmapped_currency',
        'unmapped_payment_terms',
        'unmapped_unit',
        'product_not_released'
    )

    union all

    select
        kind,
        entity,
        legal_entity,
        record_key,
        field,
        scm_value,
        clm_value,
        clm_id,
        action,
        is_blocked or action is null as is_blocked
    from document_changes

),

unioned as (

    select * from link_kinds
    union all
    select * from vendor_kinds
    union all
    select * from document_kinds

),

final as (

    select
        md5(concat_ws(
            '|', kind, entity, coalesce(legal_entity, ''), record_key, coalesce(field, ''),
            coalesce(clm_id, '')
        )) as mismatch_id,
        kind,
        entity,
        legal_entity,
        record_key,
        field,
        scm_value,
        clm_value,
        clm_id,
        action,
        is_blocked
    from unioned

)

select * from final
