-- Every CLM agreement line mapped to SCM's keys and codes, with the SCM line it matches: one
-- row per CLM line.
--
-- A line belongs to its agreement's legal entity. The SCM line is the one of that legal entity
-- whose external contract line id is the CLM line's id; its record key is
-- `<purchase agreement id>|<line number>`. The unit maps through the seeds; the product must be
-- released to the legal entity (`is_product_released`), and its procurement category comes
-- from the released product.

with

lines as (

    select * from staging.stg_clm__agreement_lines

),

agreements as (

    select * from intermediate.int_agreements_mapped

),

scm_lines as (

    select * from staging.stg_scm__purchase_agreement_lines

),

released_products as (

    select * from staging.stg_scm__released_products

),

code_lookup as (

    select * from intermediate.int_code_lookup

),

joined as (

    select
        lines.line_id,
        lines.agreement_id,
        agreements.contract_id,
        agreements.legal_entity,
        lines.status,
        lines.product_code,
        released_products.item_number is not null as is_product_released,
        released_products.item_number,
        released_products.procurement_category,
        lines.quantity,
        lines.unit,
        units.scm_code as scm_unit,
        lines.unit_price,
        lines.unit_price_raw,
        lines.effective_date,
        lines.effective_date_raw,
        lines.expiration_date,
        lines.expiration_date_raw,
        case
            when agreements.agreement_id is null then 'agreement_missing'
            else agreements.blocked_reason
        end as blocked_reason,
        agreements.scm_purchase_agreement_id as agreement_scm_purchase_agreement_id,
        agreements.scm_ownership as agreement_scm_ownership,
        scm_lines.purchase_agreement_id as scm_purchase_agreement_id,
        scm_lines.line_number as scm_line_number,
        scm_lines.purchase_agreement_id || '|' || scm_lines.line_number_text as scm_record_key,
        scm_lines.price as scm_price,
        scm_lines.effective_date as scm_effective_date,
        scm_lines.expiration_date as scm_expiration_date,
        scm_lines.item_number as scm_item_number
    from lines
    left join agreements
        on agreements.agreement_id = lines.agreement_id
    left join code_lookup as units
        on units.domain = 'unit'
        and units.clm_code_cmp = lines.unit_cmp
    left join released_products
        on released_products.legal_entity = agreements.legal_entity
        and released_products.item_number_cmp = lines.product_code_cmp
    left join scm_lines
        on scm_lines.legal_entity = agreements.legal_entity
        and scm_lines.external_line_id_cmp = lines.line_id_cmp

),

final as (

    select
        *,
        blocked_reason is not null as is_blocked
    from joined

)

select * from final
