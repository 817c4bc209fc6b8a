-- One row per procurement product category (shared across legal entities).

with

source as (

    select * from current_scm.procurement_categories

),

renamed as (

    select
        trim(CategoryName) as category_name,
        trim(CategoryCode) as category_code,
        CategoryDescription as description,
        nullif(trim(ParentCategoryName), '') as parent_category_name,
        _extracted_at,
        _load_id
    from source

),

final as (

    select * from renamed

)

select * from final
