-- One row per CLM agreement line. `status` is active or removed (a removed line is deleted in
-- SCM); prices and quantities come as decimal text ("12.5", sometimes "12.50").

with

source as (

    select * from current_clm.agreement_lines

),

renamed as (

    select
        id as line_id,
        lower(trim(id)) as line_id_cmp,
        agreement_id,
        try_cast(line_no as bigint) as line_no,
        nullif(trim(product_code), '') as product_code,
        nullif(lower(trim(product_code)), '') as product_code_cmp,
        description,
        try_cast(trim(quantity) as decimal(32, 6)) as quantity,
        unit,
        nullif(lower(trim(regexp_replace(nfc_normalize(unit), '\s+', ' ', 'g'))), '') as unit_cmp,
        try_cast(trim(unit_price) as decimal(32, 6)) as unit_price,
        unit_price as unit_price_raw,
        try_cast(left(trim(effective_date), 10) as date) as effective_date,
        effective_date as effective_date_raw,
        try_cast(left(trim(expiration_date), 10) as date) as expiration_date,
        expiration_date as expiration_date_raw,
        lower(trim(status)) as status,
        timezone('UTC', try_cast(created_at as timestamptz)) as created_at,
        timezone('UTC', try_cast(updated_at as timestamptz)) as updated_at,
        _extracted_at,
        _load_id,
        _row_number
    from source

),

final as (

    select * from renamed

)

select * from final
