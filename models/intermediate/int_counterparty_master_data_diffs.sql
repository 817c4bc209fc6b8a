-- Where the CLM's copy of vendor master data differs from SCM: one row per counterparty and
-- compared field. Only counterparties that carry their vendor's account are compared (a
-- counterparty linked by tax id or name differs by construction, that is how it was found).
--
-- Text (name, street, city, postcode) compares in its comparison form (case, spacing and
-- Unicode normalisation do not count); codes (country, currency, payment terms) compare after
-- mapping the CLM's code to SCM's through the seeds, so "UK" equals GBR and "EURO" equals EUR.
-- `value_to_send` is SCM's value as the CLM holds it: text as SCM has it, codes translated to
-- the CLM's preferred code (NULL when the seeds have none: then nothing can be sent).

with

links as (

    select * from intermediate.int_counterparty_links

),

counterparties as (

    select * from intermediate.int_counterparties where is_current

),

vendors as (

    select * from intermediate.int_vendors where is_current

),

code_lookup as (

    select * from intermediate.int_code_lookup

),

preferred_codes as (

    select * from intermediate.int_clm_preferred_codes

),

account_linked as (

    select
        links.counterparty_id,
        links.legal_entity,
        links.vendor_account,
        counterparties.counterparty_name,
        counterparties.counterparty_name_cmp,
        counterparties.street,
        counterparties.street_cmp,
        counterparties.city,
        counterparties.city_cmp,
        counterparties.zip_code,
        counterparties.zip_code_cmp,
        counterparties.country,
        counterparties.currency,
        counterparties.payment_terms,
        countries.scm_code as country_mapped,
        currencies.scm_code as currency_mapped,
        payment_terms.scm_code as payment_terms_mapped
    from links
    inner join counterparties
        on counterparties.counterparty_id = links.counterparty_id
    left join code_lookup as countries
        on countries.domain = 'country'
        and countries.clm_code_cmp = counterparties.country_cmp
    left join code_lookup as currencies
        on currencies.domain = 'currency'
        and currencies.clm_code_cmp = counterparties.currency_cmp
    left join code_lookup as payment_terms
        on payment_terms.domain = 'payment_terms'
        and payment_terms.clm_code_cmp = counterparties.payment_terms_cmp
    where links.link_status = 'linked'
        and links.link_method = 'vendor_account'

),

compared as (

    select
        account_linked.counterparty_id,
        account_linked.legal_entity,
        account_linked.vendor_account,
        unnest([
            {
                field: 'VendorOrganizationName',
                clm_field: 'name',
                scm_value: vendors.vendor_name,
                clm_value: account_linked.counterparty_name,
                is_different: account_linked.counterparty_name_cmp
                    is distinct from vendors.vendor_name_cmp,
                value_to_send: vendors.vendor_name
            },
            {
                field: 'AddressStreet',
                clm_field: 'address.street',
                scm_value: vendors.street,
                clm_value: account_linked.street,
                is_different: account_linked.street_cmp is distinct from vendors.street_cmp,
                value_to_send: vendors.street
            },
            {
                field: 'AddressCity',
                clm_field: 'address.city',
                scm_value: vendors.city,
                clm_value: account_linked.city,
                is_different: account_linked.city_cmp is distinct from vendors.city_cmp,
                value_to_send: vendors.city
            },
            {
                field: 'AddressZipCode',
                clm_field: 'address.zip',
                scm_value: vendors.zip_code,
                clm_value: account_linked.zip_code,
                is_different: account_linked.zip_code_cmp is distinct from vendors.zip_code_cmp,
                value_to_send: vendors.zip_code
            },
            {
                field: 'AddressCountryRegionId',
                clm_field: 'country',
                scm_value: vendors.country_code,
                clm_value: account_linked.country,
                is_different: lower(account_linked.country_mapped)
                    is distinct from lower(vendors.country_code),
                value_to_send: preferred_countries.clm_code
            },
            {
                field: 'CurrencyCode',
                clm_field: 'currency',
                scm_value: vendors.currency_code,
                clm_value: account_linked.currency,
                is_different: lower(account_linked.currency_mapped)
                    is distinct from lower(vendors.currency_code),
                value_to_send: preferred_currencies.clm_code
            },
            {
                field: 'DefaultPaymentTermsName',
                clm_field: 'payment_terms',
                scm_value: vendors.payment_terms,
                clm_value: account_linked.payment_terms,
                is_different: lower(account_linked.payment_terms_mapped)
                    is distinct from lower(vendors.payment_terms),
                value_to_send: preferred_payment_terms.clm_code
            }
        ], recursive := true)
    from account_linked
    inner join vendors
        on vendors.legal_entity = account_linked.legal_entity
        and vendors.vendor_account = account_linked.vendor_account
    left join preferred_codes as preferred_countries
        on preferred_countries.domain = 'country'
        and preferred_countries.scm_code_cmp = lower(vendors.country_code)
    left join preferred_codes as preferred_currencies
        on preferred_currencies.domain = 'currency'
        and preferred_currencies.scm_code_cmp = lower(vendors.currency_code)
    left join preferred_codes as preferred_payment_terms
        on preferred_payment_terms.domain = 'payment_terms'
        and preferred_payment_terms.scm_code_cmp = lower(vendors.payment_terms)

),

final as (

    select
        counterparty_id,
        legal_entity,
        vendor_account,
        field,
        clm_field,
        scm_value,
        clm_value,
        value_to_send
    from compared
    where is_different

)

select * from final
