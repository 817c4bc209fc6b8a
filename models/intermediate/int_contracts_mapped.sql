-- clmsync: materialized=incremental strategy=delete_insert unique_key=contract_id
--
-- Every CLM contract mapped to SCM's keys and codes, with the SCM contract it matches: one row
-- per CLM contract.
--
-- The legal entity comes from the business unit (seed clm_business_units); the SCM contract is
-- the one of that legal entity whose external contract id is the CLM contract's id (compared
-- ignoring case, as SCM does). Contract type and status map through the seeds; a code the seeds
-- do not know leaves the `scm_*` column NULL. The counterparty's link says whether documents of
-- this contract may be created in SCM (`is_blocked`, with the reason). The table keeps what
-- matching and comparing need; descriptive fields stay in staging.stg_clm__contracts.
--
-- Incremental (delete_insert): only contracts something changed for since the last build are
-- mapped again, the rest keep their rows. Each row keeps the raw rows it was mapped from
-- (`_load_id`, `_row_number`; a landed row is never changed, only replaced or deleted). A
-- contract changes when its CLM row was replaced, is new or back, or is gone (its row is
-- deleted); when the SCM contract it matched was replaced or is gone, or one landed since the
-- last build (`_load_id` above the highest here) may match it now; or when its counterparty's
-- link changed (`_link_hash`, the link fields it was mapped with). A change of the seeds or of
-- this SQL rebuilds it in full (the runner's fingerprint).

with

contracts as not materialized (

    -- read twice below, each time filtered in the scan
    select * from staging.stg_clm__contracts

),

scm_contracts as (

    select * from staging.stg_scm__contracts

),

code_lookup as (

    select * from intermediate.int_code_lookup

),

links as (

    select * from intermediate.int_counterparty_links

),

previous as not materialized (

    select * from intermediate.int_contracts_mapped

),

watermarks as (

    select
        coalesce(max(_load_id), -1) as clm_load_id,
        coalesce(max(_scm_load_id), -1) as scm_load_id,
        count(*) > 0 as has_previous
    from previous

),

contract_rows as (

    -- the raw row each contract has now (landed rows are never changed, only replaced or
    -- deleted): finding what changed compares these, and runs none of staging's rules
    select
        contract_id,
        _load_id,
        _row_number
    from staging.stg_clm__contracts

),

earlier_contract_rows as (

    -- landed before the last build: what landed since is mapped again anyway
    select *
    from contract_rows
    where _load_id <= (select clm_load_id from watermarks)

),

scm_contract_rows as (

    select
        _load_id,
        _row_number
    from staging.stg_scm__contracts

),

scm_landed as (

    select
        legal_entity,
        external_contract_id_cmp
    from staging.stg_scm__contracts
    where _load_id > (select scm_load_id from watermarks)
        -- a first build maps everything anyway
        and (select has_previous from watermarks)

),

link_states as (

    select
        *,
        hash(vendor_account, link_status, legal_entity, is_vendor_on_hold) as link_hash
    from links

),

changed_ids as (

    -- One pass over the previous rows, each next to the rows it was mapped from as they are
    -- now. (A contract landed since looks replaced here: it is mapped again anyway.)
    select coalesce(previous.contract_id, earlier_contract_rows.contract_id) as contract_id
    from previous
    full join earlier_contract_rows
        on earlier_contract_rows._load_id = previous._load_id
        and earlier_contract_rows._row_number = previous._row_number
    left join scm_contract_rows
        on scm_contract_rows._load_id = previous._scm_load_id
        and scm_contract_rows._row_number = previous._scm_row_number
    left join link_states
        on link_states.counterparty_id = previous.counterparty_id
    -- its CLM row was replaced, or is gone
    where earlier_contract_rows._load_id is null
        -- new, or back after a delete (with the row it had)
        or previous.contract_id is null
        -- the SCM contract it matched was replaced, or is gone
        or (previous._scm_load_id is not null and scm_contract_rows._load_id is null)
        -- its counterparty's link changed
        or previous._link_hash is distinct from link_states.link_hash

    union all

    -- an SCM contract landed since: the contracts it may match now
    select contracts.contract_id
    from contracts
    semi join scm_landed
        on scm_landed.external_contract_id_cmp = contracts.contract_id_cmp

),

changed as materialized (

    select distinct contract_id from changed_ids

),

changed_earlier as materialized (

    -- the changed contracts that landed before the last build, found on the raw rows: staging's
    -- rules then run on all contracts only when there are such contracts (when there are none, the
    -- semi join below skips its scan)
    select changed.contract_id
    from changed
    semi join earlier_contract_rows
        on earlier_contract_rows.contract_id = changed.contract_id

),

to_map as (

    -- landed since the last build (the filter reaches the scan)
    select *
    from contracts
    where _load_id > (select clm_load_id from watermarks)

    union all

    -- landed before, but something they depend on changed
    select contracts.*
    from contracts
    semi join changed_earlier
        on changed_earlier.contract_id = contracts.contract_id
    where contracts._load_id <= (select clm_load_id from watermarks)

),

mapped as (

    select
        contracts.*,
        business_units.scm_code as legal_entity,
        contract_types.scm_code as scm_contract_type,
        contract_statuses.scm_code as scm_contract_status
    from to_map as contracts
    left join code_lookup as business_units
        on business_units.domain = 'business_unit'
        and business_units.clm_code_cmp = contracts.business_unit_cmp
    left join code_lookup as contract_types
        on contract_types.domain = 'contract_type'
        and contract_types.clm_code_cmp = contracts.contract_type_cmp
    left join code_lookup as contract_statuses
        on contract_statuses.domain = 'contract_status'
        and contract_statuses.clm_code_cmp = contracts.status_cmp

),

joined as (

    select
        mapped.contract_id,
        mapped.legal_entity,
        mapped.business_unit,
        mapped.counterparty_id,
        mapped.contract_type,
        mapped.scm_contract_type,
        mapped.status,
        mapped.scm_contract_status,
        mapped.scm_contract_status in ('Terminated', 'Expired', 'Cancelled') as is_closing_status,
        mapped.effective_date,
        mapped.effective_date_raw,
        mapped.expiration_date,
        mapped.expiration_date_raw,
        links.vendor_account,
        case
            when mapped.legal_entity is null then 'unknown_business_unit'
            when links.link_status is null then 'counterparty_missing'
            when links.link_status = 'vendor_missing' then 'vendor_deleted'
            when links.link_status = 'review' then 'counterparty_in_review'
            when links.link_status <> 'linked' then 'counterparty_unlinked'
            when links.legal_entity <> mapped.legal_entity then 'vendor_in_other_legal_entity'
            when links.is_vendor_on_hold then 'vendor_blocked'
        end as blocked_reason,
        scm_contracts.contract_id as scm_contract_id,
        scm_contracts.contract_status as scm_current_status,
        scm_contracts.effective_date as scm_effective_date,
        scm_contracts.expiration_date as scm_expiration_date,
        mapped._load_id,
        mapped._row_number,
        scm_contracts._load_id as _scm_load_id,
        scm_contracts._row_number as _scm_row_number,
        links.link_hash as _link_hash
    from mapped
    left join link_states as links
        on links.counterparty_id = mapped.counterparty_id
    left join scm_contracts
        on scm_contracts.legal_entity = mapped.legal_entity
        and scm_contracts.external_contract_id_cmp = mapped.contract_id_cmp

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
        contract_id,
        true as _deleted
    from changed
    anti join contract_rows
        on contract_rows.contract_id = changed.contract_id

)

select * from final
