-- clmsync: materialized=incremental unique_key=legal_entity,vendor_account
--
-- SCM vendors as matching and comparing use them: keys, the comparison forms of the master data
-- the CLM keeps a copy of, tax id and hold status. One row per vendor and legal entity ever
-- seen; `is_current` is false once SCM no longer has the vendor (models read `where is_current`).
--
-- Incremental: only vendors landed since the last build (`_load_id` above the highest one
-- here) go through staging's Unicode and whitespace rules again. Those rules are the costly
-- part on a million vendors; a run whose extract brought 1% of them pays for 1%. A vendor that
-- is gone, or back, only has its `is_current` flipped; one back that a --full-refresh forgot
-- while it was gone goes through staging again.

with

vendors as not materialized (

    select * from staging.stg_scm__vendors

),

current_keys as (

    -- only the keys: what is gone or back is found without running staging's rules
    select
        legal_entity,
        vendor_account,
        _load_id
    from staging.stg_scm__vendors

),

previous as not materialized (

    select * from intermediate.int_vendors

),

watermark as (

    select coalesce(max(_load_id), -1) as last_load_id from previous

),

forgotten as (

    -- landed before the last build yet not here: back after a delete a full rebuild forgot
    select
        legal_entity,
        vendor_account
    from current_keys
    anti join previous
        on previous.legal_entity = current_keys.legal_entity
        and previous.vendor_account = current_keys.vendor_account
    where current_keys._load_id <= (select last_load_id from watermark)

),

changed as (

    -- Staging's rules run only on these rows: the filter on `_load_id` reaches the scan.
    select vendors.*
    from vendors
    where vendors._load_id > (select last_load_id from watermark)

    union all

    select vendors.*
    from vendors
    semi join forgotten
        on forgotten.legal_entity = vendors.legal_entity
        and forgotten.vendor_account = vendors.vendor_account
    where vendors._load_id <= (select last_load_id from watermark)

),

gone as (

    select previous.* replace (false as is_current)
    from previous
    anti join current_keys
        on current_keys.legal_entity = previous.legal_entity
        and current_keys.vendor_account = previous.vendor_account
    where previous.is_current

),

revived as (

    -- Back after a delete (a key snapshot found it again) with the row it had: its
    -- normalised values are still here, only `is_current` flips back.

    select previous.* replace (true as is_current)
    from previous
    semi join current_keys
        on current_keys.legal_entity = previous.legal_entity
        and current_keys.vendor_account = previous.vendor_account
        and current_keys._load_id <= (select last_load_id from watermark)
    where not previous.is_current

),

final as (

    select
        legal_entity,
        vendor_account,
        vendor_account_cmp,
        vendor_name,
        vendor_name_cmp,
        street,
        street_cmp,
        city,
        city_cmp,
        zip_code,
        zip_code_cmp,
        country_code,
        currency_code,
        payment_terms,
        on_hold_status,
        tax_id,
        tax_id_cmp,
        party_number,
        primary_contact_id,
        -- the name blocks int_counterparty_name_candidates compares a counterparty within
        -- (its placed_blocks spells the same rules for counterparties): worked out here, once
        -- per vendor version, rather than for every vendor on every build
        case
            when vendor_name_cmp like '% %'
                then split_part(vendor_name_cmp, ' ', 1) || ' ' || split_part(vendor_name_cmp, ' ', 2)
        end as leading_words,
        zip_code_cmp || ' ' || left(vendor_name_cmp, 2) as postcode_and_initials,
        true as is_current,
        _load_id
    from changed

    union all by name

    select * from gone

    union all by name

    select * from revived

)

select * from final
