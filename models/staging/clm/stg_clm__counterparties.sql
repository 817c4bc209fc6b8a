-- One row per CLM counterparty: the CLM's party record, which may carry the SCM vendor account
-- and a copy of the vendor's master data in the CLM's own codes.
--
-- A `*_cmp` column is the value as reconciliation compares it (and looks codes up in the
-- seeds): Unicode NFC, whitespace runs collapsed to one space, trimmed, lower case.

with

source as (

    select * from current_clm.counterparties

),

renamed as (

    select
        id as counterparty_id,
        name as counterparty_name,
        nullif(trim(tax_id), '') as tax_id,
        nullif(trim(vendor_account), '') as vendor_account,
        nullif(lower(trim(vendor_account)), '') as vendor_account_cmp,
        business_unit,
        country,
        json_extract_string(address, '$.street') as street,
        json_extract_string(address, '$.city') as city,
        json_extract_string(address, '$.zip') as zip_code,
        nullif(json_extract_string(address, '$.state'), '') as state,
        currency,
        payment_terms,
        email,
        phone,
        lower(trim(status)) as status,
        timezone('UTC', try_cast(created_at as timestamptz)) as created_at,
        timezone('UTC', try_cast(updated_at as timestamptz)) as updated_at,
        _extracted_at,
        _load_id
    from source

),

compared as (

    select
        *,
        nullif(lower(
            case
                when regexp_matches(counterparty_name, '\s\s|[\t\n\r\f\v\x{00A0}\x{3000}]')
                    then trim(regexp_replace(nfc_normalize(counterparty_name), '[\s\x{00A0}\x{3000}]+', ' ', 'g'))
                else trim(nfc_normalize(counterparty_name))
            end
        ), '') as counterparty_name_cmp,
        nullif(lower(
            case
                when regexp_matches(street, '\s\s|[\t\n\r\f\v\x{00A0}\x{3000}]')
                    then trim(regexp_replace(nfc_normalize(street), '[\s\x{00A0}\x{3000}]+', ' ', 'g'))
                else trim(nfc_normalize(street))
            end
        ), '') as street_cmp,
        nullif(lower(
            case
                when regexp_matches(city, '\s\s|[\t\n\r\f\v\x{00A0}\x{3000}]')
                    then trim(regexp_replace(nfc_normalize(city), '[\s\x{00A0}\x{3000}]+', ' ', 'g'))
                else trim(nfc_normalize(city))
            end
        ), '') as city_cmp,
        nullif(lower(
            case
                when regexp_matches(zip_code, '\s\s|[\t\n\r\f\v\x{00A0}\x{3000}]')
                    then trim(regexp_replace(nfc_normalize(zip_code), '[\s\x{00A0}\x{3000}]+', ' ', 'g'))
                else trim(nfc_normalize(zip_code))
            end
        ), '') as zip_code_cmp,
        nullif(lower(trim(regexp_replace(business_unit, '\s+', ' ', 'g'))), '') as business_unit_cmp,
        nullif(lower(trim(regexp_replace(country, '\s+', ' ', 'g'))), '') as country_cmp,
        nullif(lower(trim(regexp_replace(currency, '\s+', ' ', 'g'))), '') as currency_cmp,
        nullif(lower(trim(regexp_replace(payment_terms, '\s+', ' ', 'g'))), '') as payment_terms_cmp,
        -- Tax ids compare on letters and digits only: "DE 123.456" is "DE123456".
        nullif(upper(regexp_replace(tax_id, '[^0-9A-Za-z]', '', 'g')), '') as tax_id_cmp
    from renamed

),

final as (

    select * from compared

)

select * from final
