-- One row per SCM unit of measure (shared across legal entities).

with

source as (

    select * from current_scm.units_of_measure

),

renamed as (

    select
        trim(UnitSymbol) as unit_symbol,
        lower(trim(UnitSymbol)) as unit_symbol_cmp,
        UnitDescription as unit_description,
        UnitClass as unit_class,
        try_cast(trim(DecimalPrecision) as bigint) as decimal_precision,
        SystemOfUnits as system_of_units,
        trim(IsBaseUnit) = 'Yes' as is_base_unit,
        _extracted_at,
        _load_id
    from source

),

final as (

    select * from renamed

)

select * from final
