-- One row per SCM legal entity (company), with its country and accounting currency.

with

source as (

    select * from current_scm.legal_entities

),

renamed as (

    select
        lower(trim(LegalEntityId)) as legal_entity,
        Name as legal_entity_name,
        NameAlias as name_alias,
        AddressStreet as street,
        AddressCity as city,
        AddressZipCode as zip_code,
        upper(trim(AddressCountryRegionId)) as country_code,
        upper(trim(AddressCountryRegionISOCode)) as country_iso2,
        LanguageId as language,
        VATNum as vat_number,
        upper(trim(AccountingCurrency)) as accounting_currency,
        _extracted_at,
        _load_id
    from source

),

final as (

    select * from renamed

)

select * from final
