-- clmsync: materialized=incremental strategy=delete_insert unique_key=line_id
--
-- Every CLM agreement line mapped to SCM's keys and codes, with the SCM line it matches: one
-- row per CLM line.
--
-- A line belongs to its agreement's legal entity. The SCM line is the one of that legal entity
-- whose external contract line id is the CLM line's id; its record key is
-- `<purchase agreement id>|<line number>`. The unit maps through the seeds; the product must be
-- released to the legal entity (`is_product_released`), and its procurement category comes
-- from the released product.
--
-- Incremental (delete_insert), like int_contracts_mapped: a line is mapped again when its CLM
-- row was landed since, is new, back or gone; when an SCM line landed since or gone matches it
-- now or matched it before; when a released product landed since has its product code, or the
-- one it was released as is gone; or when what it takes from its agreement changed
-- (`_agreement_hash`: the agreement's contract, legal entity, block, SCM agreement and owner).

with

lines as not materialized (

    -- read twice below, each time filtered in the scan
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

previous as not materialized (

    select * from intermediate.int_agreement_lines_mapped

),

watermarks as (

    select
        coalesce(max(_load_id), -1) as clm_load_id,
        coalesce(max(_scm_load_id), -1) as scm_load_id,
        coalesce(max(_product_load_id), -1) as product_load_id
    from previous

),

line_keys as (

    -- only keys: finding what changed runs none of staging's rules
    select
        line_id,
        line_id_cmp,
        product_code_cmp,
        _load_id
    from staging.stg_clm__agreement_lines

),

earlier_line_keys as (

    -- landed before the last build: what landed since is mapped again anyway
    select *
    from line_keys
    where _load_id <= (select clm_load_id from watermarks)

),

scm_line_keys as (

    select
        legal_entity,
        purchase_agreement_id || '|' || line_number_text as record_key,
        external_line_id_cmp,
        _load_id
    from staging.stg_scm__purchase_agreement_lines

),

product_keys as (

    select
        legal_entity,
        item_number,
        item_number_cmp,
        _load_id
    from staging.stg_scm__released_products

),

agreement_states as (

    select
        *,
        hash(
            contract_id,
            legal_entity,
            blocked_reason,
            scm_purchase_agreement_id,
            scm_ownership
        ) as agreement_hash
    from agreements

),

scm_landed as (

    select *
    from scm_line_keys
    where _load_id > (select scm_load_id from watermarks)

),

products_landed as (

    select *
    from product_keys
    where _load_id > (select product_load_id from watermarks)

),

changed_ids as (

    -- One pass over the previous rows, each next to what it was mapped from as it is now.
    -- (A row landed since looks gone here: it is mapped again anyway.)
    select coalesce(previous.line_id, earlier_line_keys.line_id) as line_id
    from previous
    full join earlier_line_keys
        on earlier_line_keys.line_id = previous.line_id
    left join scm_line_keys
        on scm_line_keys.legal_entity = previous.legal_entity
        and scm_line_keys.record_key = previous.scm_record_key
    left join product_keys
        on product_keys.legal_entity = previous.legal_entity
        and product_keys.item_number = previous.item_number
    left join agreement_states
        on agreement_states.agreement_id = previous.agreement_id
    -- gone
    where earlier_line_keys.line_id is null
        -- new, or back after a delete (with the row it had)
        or previous.line_id is null
        -- the SCM line it matched is gone, or landed since
        or (previous.scm_record_key is not null
            and (scm_line_keys.record_key is null
                or scm_line_keys._load_id > (select scm_load_id from watermarks)))
        -- the released product it had is gone, or landed since
        or (previous.item_number is not null
            and (product_keys.item_number is null
                or product_keys._load_id > (select product_load_id from watermarks)))
        -- its agreement was mapped differently (or is gone, or back)
        or previous._agreement_hash is distinct from agreement_states.agreement_hash

    union all

    -- an SCM line landed since: the lines it may match now
    select earlier_line_keys.line_id
    from earlier_line_keys
    semi join scm_landed
        on scm_landed.external_line_id_cmp = earlier_line_keys.line_id_cmp

    union all

    -- a released product landed since has its product code
    select earlier_line_keys.line_id
    from earlier_line_keys
    semi join products_landed
        on products_landed.item_number_cmp = earlier_line_keys.product_code_cmp

),

changed as materialized (

    select distinct line_id from changed_ids

),

to_map as (

    -- landed since the last build (the filter reaches the scan)
    select *
    from lines
    where _load_id > (select clm_load_id from watermarks)

    union all

    -- landed before, but something they depend on changed
    select lines.*
    from lines
    semi join changed
        on changed.line_id = lines.line_id
    where lines._load_id <= (select clm_load_id from watermarks)

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
        scm_lines.item_number as scm_item_number,
        lines._load_id,
        scm_lines._load_id as _scm_load_id,
        released_products._load_id as _product_load_id,
        agreements.agreement_hash as _agreement_hash
    from to_map as lines
    left join agreement_states as agreements
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

rebuilt as (

    select
        *,
        blocked_reason is not null as is_blocked
    from joined

),

final as (

    select
        *,
        false as _deleted
    from rebuilt

    union all by name

    select
        line_id,
        true as _deleted
    from changed
    anti join line_keys
        on line_keys.line_id = changed.line_id

)

select * from final
