-- One row per terms of delivery and legal entity.

with

source as (

    select * from current_scm.delivery_terms

),

renamed as (

    select
        lower(trim(dataAreaId)) as legal_entity,
        trim(TermsCode) as delivery_terms,
        TermsDescription as description,
        _extracted_at,
        _load_id
    from source

),

final as (

    select * from renamed

)

select * from final
