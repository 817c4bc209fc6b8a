-- One row per product released to a legal entity: an agreement line may only buy a product
-- released in the agreement's legal entity.

with

source as (

    select * from current_scm.released_products

),

renamed as (

    select
        lower(trim(dataAreaId)) as legal_entity,
        ItemNumber as item_number,
        lower(trim(ItemNumber)) as item_number_cmp,
        nullif(trim(ProductNumber), '') as product_number,
        ProductName as product_name,
        ProductSearchName as search_name,
        trim(ProductType) as product_type,
        nullif(trim(PurchaseUnitSymbol), '') as purchase_unit,
        nullif(trim(InventoryUnitSymbol), '') as inventory_unit,
        nullif(trim(ProcurementProductCategoryName), '') as procurement_category,
        try_cast(trim(PurchasePrice) as decimal(32, 6)) as purchase_price,
        trim(IsPurchaseStopped) = 'Yes' as is_purchase_stopped,
        _extracted_at,
        _load_id,
        _row_number
    from source

),

final as (

    select * from renamed

)

select * from final
