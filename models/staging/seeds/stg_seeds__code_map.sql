-- Every CLM code the seed tables map, with the SCM value it stands for: one row per domain and
-- CLM code. Lookups use `clm_code_cmp` (NFC, whitespace collapsed, trimmed, lower case), so
-- "net 30  DAYS " finds "Net 30 days". `is_preferred` marks the code sent to the CLM for an
-- SCM value (master data the CLM gets from SCM).

with

business_units as (

    select * from seeds.clm_business_units

),

payment_terms as (

    select * from seeds.clm_payment_terms

),

units as (

    select * from seeds.clm_units

),

currencies as (

    select * from seeds.clm_currencies

),

countries as (

    select * from seeds.clm_countries

),

contract_types as (

    select * from seeds.clm_contract_types

),

contract_statuses as (

    select * from seeds.clm_contract_statuses

),

agreement_statuses as (

    select * from seeds.clm_agreement_statuses

),

unioned as (

    select
        'business_unit' as domain,
        clm_business_unit as clm_code,
        lower(trim(legal_entity)) as scm_code,
        true as is_preferred
    from business_units

    union all

    select
        'payment_terms' as domain,
        clm_payment_terms as clm_code,
        trim(scm_payment_terms) as scm_code,
        lower(trim(preferred)) = 'true' as is_preferred
    from payment_terms

    union all

    select
        'unit' as domain,
        clm_unit as clm_code,
        trim(scm_unit) as scm_code,
        lower(trim(preferred)) = 'true' as is_preferred
    from units

    union all

    select
        'currency' as domain,
        clm_currency as clm_code,
        upper(trim(scm_currency)) as scm_code,
        lower(trim(preferred)) = 'true' as is_preferred
    from currencies

    union all

    select
        'country' as domain,
        clm_country as clm_code,
        upper(trim(scm_country)) as scm_code,
        lower(trim(preferred)) = 'true' as is_preferred
    from countries

    union all

    select
        'contract_type' as domain,
        clm_contract_type as clm_code,
        trim(scm_contract_type) as scm_code,
        true as is_preferred
    from contract_types

    union all

    select
        'contract_status' as domain,
        clm_status as clm_code,
        trim(scm_status) as scm_code,
        true as is_preferred
    from contract_statuses

    union all

    select
        'agreement_status' as domain,
        clm_status as clm_code,
        trim(scm_status) as scm_code,
        true as is_preferred
    from agreement_statuses

),

final as (

    select
        domain,
        clm_code,
        nullif(lower(trim(regexp_replace(nfc_normalize(clm_code), '\s+', ' ', 'g'))), '')
            as clm_code_cmp,
        scm_code,
        lower(scm_code) as scm_code_cmp,
        is_preferred
    from unioned
    where nullif(trim(clm_code), '') is not null

)

select * from final
