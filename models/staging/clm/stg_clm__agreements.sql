-- One row per CLM agreement: the purchase agreement of a purchase-agreement contract.

with

source as (

    select * from current_clm.agreements

),

renamed as (

    select
        id as agreement_id,
        contract_id,
        lower(trim(contract_id)) as contract_id_cmp,
        title as agreement_title,
        counterparty_id,
        business_unit,
        currency,
        nullif(lower(trim(regexp_replace(nfc_normalize(currency), '\s+', ' ', 'g'))), '')
            as currency_cmp,
        payment_terms,
        nullif(lower(trim(regexp_replace(nfc_normalize(payment_terms), '\s+', ' ', 'g'))), '')
            as payment_terms_cmp,
        try_cast(left(trim(effective_date), 10) as date) as effective_date,
        effective_date as effective_date_raw,
        try_cast(left(trim(expiration_date), 10) as date) as expiration_date,
        expiration_date as expiration_date_raw,
        status,
        nullif(lower(trim(regexp_replace(nfc_normalize(status), '\s+', ' ', 'g'))), '')
            as status_cmp,
        classification,
        owner_email,
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
