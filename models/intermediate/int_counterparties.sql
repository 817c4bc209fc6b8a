-- clmsync: materialized=incremental unique_key=counterparty_id
--
-- CLM counterparties as matching and comparing use them: ids, the vendor account and tax id
-- they may carry, the comparison forms of their copy of the vendor's master data and of their
-- codes. One row per counterparty ever seen; `is_current` is false once the CLM no longer has
-- it (models read `where is_current`).
--
-- Incremental like int_vendors: only counterparties landed since the last build go through
-- staging's Unicode and whitespace rules again.

with

counterparties as not materialized (

    select * from staging.stg_clm__counterparties

),

current_keys as (

    -- only the keys: what is gone or back is found without running staging's rules
    select
        counterparty_id,
        _load_id
    from staging.stg_clm__counterparties

),

previous as not materialized (

    select * from intermediate.int_counterparties

),

watermark as (

    select coalesce(max(_load_id), -1) as last_load_id from previous

),

forgotten as (

    -- landed before the last build yet not here: back after a delete a full rebuild forgot
    select counterparty_id
    from current_keys
    anti join previous
        on previous.counterparty_id = current_keys.counterparty_id
    where current_keys._load_id <= (select last_load_id from watermark)

),

changed as (

    -- Staging's rules run only on these rows: the filter on `_load_id` reaches the scan.
    select counterparties.*
    from counterparties
    where counterparties._load_id > (select last_load_id from watermark)

    union all

    select counterparties.*
    from counterparties
    semi join forgotten
        on forgotten.counterparty_id = counterparties.counterparty_id
    where counterparties._load_id <= (select last_load_id from watermark)

),

gone as (

    select previous.* replace (false as is_current)
    from previous
    anti join current_keys
        on current_keys.counterparty_id = previous.counterparty_id
    where previous.is_current

),

revived as (

    -- Back after a delete (a key snapshot found it again) with the row it had: its
    -- normalised values are still here, only `is_current` flips back.

    select previous.* replace (true as is_current)
    from previous
    semi join current_keys
        on current_keys.counterparty_id = previous.counterparty_id
        and current_keys._load_id <= (select last_load_id from watermark)
    where not previous.is_current

),

final as (

    select
        counterparty_id,
        counterparty_name,
        counterparty_name_cmp,
        vendor_account,
        vendor_account_cmp,
        tax_id,
        tax_id_cmp,
        business_unit,
        business_unit_cmp,
        country,
        country_cmp,
        street,
        street_cmp,
        city,
        city_cmp,
        zip_code,
        zip_code_cmp,
        currency,
        currency_cmp,
        payment_terms,
        payment_terms_cmp,
        true as is_current,
        _load_id
    from changed

    union all by name

    select * from gone

    union all by name

    select * from revived

)

select * from final
