-- One row per warehouse and legal entity.

with

source as (

    select * from current_scm.warehouses

),

renamed as (

    select
        lower(trim(dataAreaId)) as legal_entity,
        trim(WarehouseId) as warehouse_id,
        WarehouseName as warehouse_name,
        trim(OperationalSiteId) as site_id,
        _extracted_at,
        _load_id
    from source

),

final as (

    select * from renamed

)

select * from final
