-- clmsync: materialized=view
--
-- SCM vendors with their CLM counterparties: one row per vendor and legal entity, with how its
-- counterparties were linked and how many mismatches are open on it.
-- A view: a wide row-level join analysts filter, cheaper to compute when queried than to copy
-- on every run.

with

vendors as (

    select * from staging.stg_scm__vendors

),

links as (

    select * from intermediate.int_counterparty_links

),

mismatches as (

    select * from intermediate.int_mismatches

),

counterparties_per_vendor as (

    select
        legal_entity,
        vendor_account,
        count(*) as counterparties,
        list(counterparty_id order by counterparty_id) as counterparty_ids,
        list(distinct link_method order by link_method) as link_methods,
        min(confidence) as lowest_link_confidence
    from links
    where link_status = 'linked'
    group by legal_entity, vendor_account

),

mismatches_per_vendor as (

    select
        legal_entity,
        record_key as vendor_account,
        count(*) as open_mismatches,
        list(distinct kind order by kind) as mismatch_kinds
    from mismatches
    where entity = 'VendorsV2'
    group by legal_entity, record_key

),

final as (

    select
        vendors.legal_entity,
        vendors.vendor_account,
        vendors.vendor_name,
        vendors.vendor_group,
        vendors.country_code,
        vendors.currency_code,
        vendors.payment_terms,
        vendors.on_hold_status,
        vendors.tax_id,
        coalesce(counterparties_per_vendor.counterparties, 0) as counterparties,
        counterparties_per_vendor.counterparty_ids,
        counterparties_per_vendor.link_methods,
        counterparties_per_vendor.lowest_link_confidence,
        coalesce(mismatches_per_vendor.open_mismatches, 0) as open_mismatches,
        mismatches_per_vendor.mismatch_kinds
    from vendors
    left join counterparties_per_vendor
        on counterparties_per_vendor.legal_entity = vendors.legal_entity
        and counterparties_per_vendor.vendor_account = vendors.vendor_account
    left join mismatches_per_vendor
        on mismatches_per_vendor.legal_entity = vendors.legal_entity
        and mismatches_per_vendor.vendor_account = vendors.vendor_account

)

select * from final
