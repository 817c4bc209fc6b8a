-- One row per SCM currency code.

with

source as (

    select * from current_scm.currencies

),

renamed as (

    select
        trim(CurrencyCode) as currency_code,
        lower(trim(CurrencyCode)) as currency_code_cmp,
        Name as currency_name,
        Symbol as symbol,
        try_cast(trim(GeneralRoundingRule) as decimal(32, 6)) as rounding_rule,
        _extracted_at,
        _load_id
    from source

),

final as (

    select * from renamed

)

select * from final
