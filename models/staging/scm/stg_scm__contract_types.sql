-- One row per CLM integration contract type SCM knows.

with

source as (

    select * from current_scm.contract_types

),

renamed as (

    select
        trim(ContractType) as contract_type,
        lower(trim(ContractType)) as contract_type_cmp,
        Description as description,
        _extracted_at,
        _load_id
    from source

),

final as (

    select * from renamed

)

select * from final
