-- What the CLM must receive: SCM's vendor master data where the CLM's copy is stale. One row per
-- counterparty (only counterparties that carry their vendor's account), read by the loader and
-- sent through the CLM's bulk upsert.
--
-- `payload` maps CLM fields to SCM's values in the CLM's codes (text as SCM holds it; country,
-- currency and payment terms as the preferred CLM code); address fields are `address.street`,
-- `address.city`, `address.zip`. `before` is what the CLM holds now. A field whose SCM value has
-- no CLM code is left out (reports.rpt_mapping_failures lists it).

with

master_data_diffs as (

    select * from intermediate.int_counterparty_master_data_diffs

),

sendable as (

    select * from master_data_diffs
    where value_to_send is not null

),

grouped as (

    select
        counterparty_id as clm_id,
        legal_entity,
        vendor_account,
        to_json(map_from_entries(list({k: clm_field, v: value_to_send} order by clm_field)))
            as payload,
        to_json(map_from_entries(list({k: clm_field, v: clm_value} order by clm_field)))
            as before
    from sendable
    group by counterparty_id, legal_entity, vendor_account

),

final as (

    select
        md5(concat_ws('|', 'counterparty', clm_id, payload::varchar)) as delta_id,
        'update' as action,
        'counterparty' as object,
        clm_id,
        legal_entity,
        vendor_account,
        'vendor_stale_in_clm' as kind,
        payload,
        before
    from grouped

)

select * from final
