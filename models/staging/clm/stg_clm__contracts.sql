-- One row per CLM contract. Dates and codes come as the CLM sends them (text in its own
-- vocabulary); `*_raw` keeps that text, `*_cmp` is the code as the seeds are looked up with.

with

source as (

    select * from current_clm.contracts

),

renamed as (

    select
        id as contract_id,
        lower(trim(id)) as contract_id_cmp,
        title as contract_title,
        contract_type,
        nullif(lower(trim(regexp_replace(nfc_normalize(contract_type), '\s+', ' ', 'g'))), '')
            as contract_type_cmp,
        status,
        nullif(lower(trim(regexp_replace(nfc_normalize(status), '\s+', ' ', 'g'))), '')
            as status_cmp,
        counterparty_id,
        business_unit,
        nullif(lower(trim(regexp_replace(business_unit, '\s+', ' ', 'g'))), '') as business_unit_cmp,
        -- A date may come as a date-time at midnight ("2025-03-01T00:00:00Z"): the day counts.
        try_cast(left(trim(effective_date), 10) as date) as effective_date,
        effective_date as effective_date_raw,
        try_cast(left(trim(expiration_date), 10) as date) as expiration_date,
        expiration_date as expiration_date_raw,
        owner_name,
        owner_email,
        try_cast(amendment_number as bigint) as amendment_number,
        timezone('UTC', try_cast(created_at as timestamptz)) as created_at,
        timezone('UTC', try_cast(updated_at as timestamptz)) as updated_at,
        _extracted_at,
        _load_id,
        _row_number
    from source

),

final as (

    select * from renamed

)

select * from final
