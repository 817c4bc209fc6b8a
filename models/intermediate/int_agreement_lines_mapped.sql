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
-- row was replaced, is new, back or gone; when the SCM line or released product it matched was
-- replaced or is gone, or one landed since may match it now; or when what it takes from its
-- agreement changed (`_agreement_hash`: the agreement's contract, legal entity, block, SCM
-- agreement and owner).

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
        coalesce(max(_product_load_id), -1) as product_load_id,
        count(*) > 0 as has_previous
    from previous

),

line_rows as (

    -- the raw row each line has now (landed rows are never changed, only replaced or
    -- deleted): finding what changed compares these, and runs none of staging's rules
    select
        line_id,
        _load_id,
        _row_number
    from staging.stg_clm__agreement_lines

),

earlier_line_rows as (

    -- landed before the last build: what landed since is mapped again anyway
    select *
    from line_rows
    where _load_id <= (select clm_load_id from watermarks)

),

scm_line_rows as (

    select
        _load_id,
        _row_number
    from staging.stg_scm__purchase_agreement_lines

),

product_rows as (

    select
        _load_id,
        _row_number
    from staging.stg_scm__released_products

),

scm_landed as (

    select
        legal_entity,
        external_line_id_cmp
    from staging.stg_scm__purchase_agreement_lines
    where _load_id > (select scm_load_id from watermarks)
        -- a first build maps everything anyway
        and (select has_previous from watermarks)

),

products_landed as (

    select
        legal_entity,
        item_number_cmp
    from staging.stg_scm__released_products
    where _load_id > (select product_load_id from watermarks)
        -- a first build maps everything anyway
        and (select has_previous from watermarks)

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

changed_ids as (

    -- One pass over the previous rows, each next to the rows it was mapped from as they are
    -- now. (A line landed since looks replaced here: it is mapped again anyway.)
    select coalesce(previous.line_id, earlier_line_rows.line_id) as line_id
    from previous
    full join earlier_line_rows
        on earlier_line_rows._load_id = previous._load_id
        and earlier_line_rows._row_number = previous._row_number
    left join scm_line_rows
        on scm_line_rows._load_id = previous._scm_load_id
        and scm_line_rows._row_number = previous._scm_row_number
    left join product_rows
        on product_rows._load_id = previous._product_load_id
        and product_rows._row_number = previous._product_row_number
    left join agreement_states
        on agreement_states.agreement_id = previous.agreement_id
    -- its CLM row was replaced, or is gone
    where earlier_line_rows._load_id is null
        -- new, or back after a delete (with the row it had)
        or previous.line_id is null
        -- the SCM line it matched was replaced, or is gone
        or (previous._scm_load_id is not null and scm_line_rows._load_id is null)
        -- the released product it had was replaced, or is gone
        or (previous._product_load_id is not null and product_rows._load_id is null)
        -- its agreement was mapped differently (or is gone, or back)
        or previous._agreement_hash is distinct from agreement_states.agreement_hash

    union all

    -- an SCM line landed since: the lines it may match now
    select lines.line_id
    from lines
    semi join scm_landed
        on scm_landed.external_line_id_cmp = lines.line_id_cmp

    union all

    -- a released product landed since has its product code
    select lines.line_id
    from lines
    semi join products_landed
        on products_landed.item_number_cmp = lines.product_code_cmp

),

changed as materialized (

    select distinct line_id from changed_ids

),

changed_earlier as materialized (

    -- the changed lines that landed before the last build, found on the raw rows: staging's
    -- rules then run on all lines only when there are such lines (when there are none, the
    -- semi join below skips its scan)
    select changed.line_id
    from changed
    semi join earlier_line_rows
        on earlier_line_rows.line_id = changed.line_id

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
    semi join changed_earlier
        on changed_earlier.line_id = lines.line_id
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
        lines._row_number,
        scm_lines._load_id as _scm_load_id,
        scm_lines._row_number as _scm_row_number,
        released_products._load_id as _product_load_id,
        released_products._row_number as _product_row_number,
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
    anti join line_rows
        on line_rows.line_id = changed.line_id

)

select * from final
