-- One row per vendor and legal entity, typed, with comparison forms of the master data the
-- CLM keeps a copy of.
--
-- A `*_cmp` column is the value as reconciliation compares it: Unicode NFC, whitespace runs
-- collapsed to one space, trimmed, lower case (SCM compares text case-insensitively). The
-- regular expression only runs on values that hold a whitespace run or an unusual space, which
-- keeps the view cheap on a million vendors.

with

source as (

    select * from current_scm.vendors

),

renamed as (

    select
        lower(trim(dataAreaId)) as legal_entity,
        VendorAccountNumber as vendor_account,
        lower(trim(VendorAccountNumber)) as vendor_account_cmp,
        VendorOrganizationName as vendor_name,
        trim(VendorPartyType) as party_type,
        VendorPartyNumber as party_number,
        VendorSearchName as search_name,
        VendorGroupId as vendor_group,
        nullif(trim(CurrencyCode), '') as currency_code,
        nullif(trim(DefaultPaymentTermsName), '') as payment_terms,
        nullif(trim(DefaultDeliveryTermsCode), '') as delivery_terms,
        trim(OnHoldStatus) as on_hold_status,
        nullif(
            case
                when VendorHoldReleaseDate like '____-__-__%'
                    then try_cast(replace(left(VendorHoldReleaseDate, 19), 'T', ' ') as timestamp)
                else try_strptime(trim(VendorHoldReleaseDate), '%m/%d/%Y %I:%M:%S %p')
            end,
            timestamp '1900-01-01 00:00:00'
        ) as hold_release_at,
        nullif(trim(TaxExemptNumber), '') as tax_id,
        nullif(PrimaryEmailAddress, '') as email,
        nullif(PrimaryPhoneNumber, '') as phone,
        nullif(AddressStreet, '') as street,
        nullif(AddressCity, '') as city,
        nullif(AddressZipCode, '') as zip_code,
        nullif(AddressStateId, '') as state,
        nullif(upper(trim(AddressCountryRegionId)), '') as country_code,
        nullif(upper(trim(AddressCountryRegionISOCode)), '') as country_iso2,
        nullif(
            case
                when AddressValidFrom like '____-__-__%'
                    then try_cast(replace(left(AddressValidFrom, 19), 'T', ' ') as timestamp)
                else try_strptime(trim(AddressValidFrom), '%m/%d/%Y %I:%M:%S %p')
            end,
            timestamp '1900-01-01 00:00:00'
        ) as address_valid_from,
        try_cast(trim(CreditLimit) as decimal(32, 6)) as credit_limit,
        LanguageId as language,
        nullif(trim(PrimaryContactPersonId), '') as primary_contact_id,
        BuyerGroupId as buyer_group,
        nullif(trim(InvoiceVendorAccountNumber), '') as invoice_vendor_account,
        _extracted_at,
        _load_id
    from source

),

compared as (

    select
        *,
        nullif(lower(
            case
                when regexp_matches(vendor_name, '\s\s|[\t\n\r\f\v\x{00A0}\x{3000}]')
                    then trim(regexp_replace(nfc_normalize(vendor_name), '[\s\x{00A0}\x{3000}]+', ' ', 'g'))
                else trim(nfc_normalize(vendor_name))
            end
        ), '') as vendor_name_cmp,
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
        -- Tax ids compare on letters and digits only: "DE 123.456" is "DE123456".
        nullif(upper(
            case
                when regexp_matches(tax_id, '[^0-9A-Za-z]')
                    then regexp_replace(tax_id, '[^0-9A-Za-z]', '', 'g')
                else tax_id
            end
        ), '') as tax_id_cmp
    from renamed

),

final as (

    select * from compared

)

select * from final
