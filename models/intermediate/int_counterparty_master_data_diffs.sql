-- clmsync: materialized=incremental strategy=delete_insert unique_key=counterparty_id,field
--
-- Where the CLM's copy of vendor master data differs from SCM: one row per counterparty and
-- compared field. Only counterparties that carry their vendor's account are compared (a
-- counterparty linked by tax id or name differs by construction, that is how it was found).
--
-- Text (name, street, city, postcode) compares in its comparison form (case, spacing and
-- Unicode normalisation do not count); codes (country, currency, payment terms) compare after
-- mapping the CLM's code to SCM's through the seeds, so "UK" equals GBR and "EURO" equals EUR.
-- `value_to_send` is SCM's value as the CLM holds it: text as SCM has it, codes translated to
-- the CLM's preferred code (NULL when the seeds have none: then nothing can be sent).
--
-- Incremental (delete_insert), from the changes of int_counterparty_links,
-- int_counterparties and int_vendors (`changes.*`, as the runner keeps them): a counterparty
-- is compared again when it was linked again (or is gone), when the CLM changed it, or when
-- the vendor its account links it to changed; its rows replace the ones it had. The runner
-- rebuilds the table in full when it cannot vouch for those changes (and on a change of the
-- seeds), and a build from nothing (an empty table) compares every counterparty.

with

previous as not materialized (

    select * from intermediate.int_counterparty_master_data_diffs

),

build as (

    select count(*) > 0 as is_incremental from previous

),

changed_counterparties as materialized (

    select counterparty_id from changes.int_counterparty_links
    union
    select counterparty_id from changes.int_counterparties
    union
    -- linked by its account to a vendor SCM changed
    select links.counterparty_id
    from intermediate.int_counterparty_links as links
    semi join changes.int_vendors as vendors
        on vendors.legal_entity = links.legal_entity
        and vendors.vendor_account = links.vendor_account
    where links.link_method = 'vendor_account'

),

links as (

    select * from intermediate.int_counterparty_links
    where not (select is_incremental from build)

    union all

    select links.* from intermediate.int_counterparty_links as links
    semi join changed_counterparties
        on changed_counterparties.counterparty_id = links.counterparty_id
    where (select is_incremental from build)

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

paired as (

    -- Each field compared once per pair, before anything is unnested: almost every pair
    -- agrees on everything, and only the pairs that differ somewhere go on to one row per field.
    select
        account_linked.counterparty_id,
        account_linked.legal_entity,
        account_linked.vendor_account,
        account_linked.counterparty_name,
        account_linked.street,
        account_linked.city,
        account_linked.zip_code,
        account_linked.country,
        account_linked.currency,
        account_linked.payment_terms,
        vendors.vendor_name,
        vendors.street as vendor_street,
        vendors.city as vendor_city,
        vendors.zip_code as vendor_zip_code,
        vendors.country_code as vendor_country_code,
        vendors.currency_code as vendor_currency_code,
        vendors.payment_terms as vendor_payment_terms,
        preferred_countries.clm_code as preferred_country,
        preferred_currencies.clm_code as preferred_currency,
        preferred_payment_terms.clm_code as preferred_payment_terms,
        account_linked.counterparty_name_cmp is distinct from vendors.vendor_name_cmp
            as name_differs,
        account_linked.street_cmp is distinct from vendors.street_cmp as street_differs,
        account_linked.city_cmp is distinct from vendors.city_cmp as city_differs,
        account_linked.zip_code_cmp is distinct from vendors.zip_code_cmp as zip_code_differs,
        lower(account_linked.country_mapped) is distinct from lower(vendors.country_code)
            as country_differs,
        lower(account_linked.currency_mapped) is distinct from lower(vendors.currency_code)
            as currency_differs,
        lower(account_linked.payment_terms_mapped) is distinct from lower(vendors.payment_terms)
            as payment_terms_differs
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

differing as (

    select *
    from paired
    where name_differs
        or street_differs
        or city_differs
        or zip_code_differs
        or country_differs
        or currency_differs
        or payment_terms_differs

),

compared as (

    select
        counterparty_id,
        legal_entity,
        vendor_account,
        unnest([
            {
                field: 'VendorOrganizationName',
                clm_field: 'name',
                scm_value: vendor_name,
                clm_value: counterparty_name,
                is_different: name_differs,
                value_to_send: vendor_name
            },
            {
                field: 'AddressStreet',
                clm_field: 'address.street',
                scm_value: vendor_street,
                clm_value: street,
                is_different: street_differs,
                value_to_send: vendor_street
            },
            {
                field: 'AddressCity',
                clm_field: 'address.city',
                scm_value: vendor_city,
                clm_value: city,
                is_different: city_differs,
                value_to_send: vendor_city
            },
            {
                field: 'AddressZipCode',
                clm_field: 'address.zip',
                scm_value: vendor_zip_code,
                clm_value: zip_code,
                is_different: zip_code_differs,
                value_to_send: vendor_zip_code
            },
            {
                field: 'AddressCountryRegionId',
                clm_field: 'country',
                scm_value: vendor_country_code,
                clm_value: country,
                is_different: country_differs,
                value_to_send: preferred_country
            },
            {
                field: 'CurrencyCode',
                clm_field: 'currency',
                scm_value: vendor_currency_code,
                clm_value: currency,
                is_different: currency_differs,
                value_to_send: preferred_currency
            },
            {
                field: 'DefaultPaymentTermsName',
                clm_field: 'payment_terms',
                scm_value: vendor_payment_terms,
                clm_value: payment_terms,
                is_different: payment_terms_differs,
                value_to_send: preferred_payment_terms
            }
        ], recursive := true)
    from differing

),

compared_fields as materialized (

    -- read twice below: written once
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

),

final as (

    select
        *,
        false as _deleted
    from compared_fields

    union all by name

    -- a field of a counterparty compared again that no longer differs (or of one gone)
    select
        previous.counterparty_id,
        previous.field,
        true as _deleted
    from previous
    semi join changed_counterparties
        on changed_counterparties.counterparty_id = previous.counterparty_id
    anti join compared_fields
        on compared_fields.counterparty_id = previous.counterparty_id
        and compared_fields.field = previous.field

)

select * from final
