-- One row per operational site and legal entity.

with

source as (

    select * from current_scm.operational_sites

),

renamed as (

    select
        lower(trim(dataAreaId)) as legal_entity,
        trim(SiteId) as site_id,
        SiteName as site_name,
        _extracted_at,
        _load_id
    from source

),

final as (

    select * from renamed

)

select * from final
