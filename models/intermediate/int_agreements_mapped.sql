-- clmsync: materialized=incremental strategy=delete_insert unique_key=agreement_id
--
-- Every CLM agreement mapped to SCM's keys and codes, with the SCM purchase agreement it
-- matches: one row per CLM agreement.
--
-- An agreement belongs to its contract's legal entity and counterparty; the SCM purchase
-- agreement is the one of that legal entity whose external contract id is the agreement's CLM
-- contract id. Currency, payment terms and status map through the seeds (NULL when unmapped).
-- `scm_ownership` says who owns the agreement's header in SCM: the CLM's changes to an
-- SCM-owned agreement are conflicts, never pushed.
--
-- Incremental (delete_insert), like int_contracts_mapped: an agreement is mapped again when
-- its CLM row was replaced, is new, back or gone; when the SCM agreement it matched was
-- replaced or is gone, or one landed since may match it now; or when what it takes from its
-- contract changed (`_contract_hash`: the contract's legal entity, vendor, block and SCM
-- contract as mapped).

with

agreements as not materialized (

    -- read twice below, each time filtered in the scan
    select * from staging.stg_clm__agreements

),

contracts as (

    select * from intermediate.int_contracts_mapped

),

scm_agreements as (

    select * from staging.stg_scm__purchase_agreements

),

code_lookup as (

    select * from intermediate.int_code_lookup

),

previous as not materialized (

    select * from intermediate.int_agreements_mapped

),

watermarks as (

    select
        coalesce(max(_load_id), -1) as clm_load_id,
        coalesce(max(_scm_load_id), -1) as scm_load_id,
        count(*) > 0 as has_previous
    from previous

),

agreement_rows as (

    -- the raw row each agreement has now (landed rows are never changed, only replaced or
    -- deleted): finding what changed compares these, and runs none of staging's rules
    select
        agreement_id,
        _load_id,
        _row_number
    from staging.stg_clm__agreements

),

earlier_agreement_rows as (

    -- landed before the last build: what landed since is mapped again anyway
    select *
    from agreement_rows
    where _load_id <= (select clm_load_id from watermarks)

),

scm_agreement_rows as (

    select
        _load_id,
        _row_number
    from staging.stg_scm__purchase_agreements

),

scm_landed as (

    select
        legal_entity,
        external_contract_id_cmp
    from staging.stg_scm__purchase_agreements
    where _load_id > (select scm_load_id from watermarks)
        -- a first build maps everything anyway
        and (select has_previous from watermarks)

),

contract_states as (

    select
        *,
        hash(legal_entity, vendor_account, blocked_reason, scm_contract_id) as contract_hash
    from contracts

),

changed_ids as (

    -- One pass over the previous rows, each next to the rows it was mapped from as they are
    -- now. (An agreement landed since looks replaced here: it is mapped again anyway.)
    select coalesce(previous.agreement_id, earlier_agreement_rows.agreement_id) as agreement_id
    from previous
    full join earlier_agreement_rows
        on earlier_agreement_rows._load_id = previous._load_id
        and earlier_agreement_rows._row_number = previous._row_number
    left join scm_agreement_rows
        on scm_agreement_rows._load_id = previous._scm_load_id
        and scm_agreement_rows._row_number = previous._scm_row_number
    left join contract_states
        on contract_states.contract_id = previous.contract_id
    -- its CLM row was replaced, or is gone
    where earlier_agreement_rows._load_id is null
        -- new, or back after a delete (with the row it had)
        or previous.agreement_id is null
        -- the SCM agreement it matched was replaced, or is gone
        or (previous._scm_load_id is not null and scm_agreement_rows._load_id is null)
        -- its contract was mapped differently (or is gone, or back)
        or previous._contract_hash is distinct from contract_states.contract_hash

    union all

    -- an SCM agreement landed since: the agreements it may match now
    select agreements.agreement_id
    from agreements
    semi join scm_landed
        on scm_landed.external_contract_id_cmp = agreements.contract_id_cmp

),

changed as materialized (

    select distinct agreement_id from changed_ids

),

changed_earlier as materialized (

    -- the changed agreements that landed before the last build, found on the raw rows: staging's
    -- rules then run on all agreements only when there are such agreements (when there are none, the
    -- semi join below skips its scan)
    select changed.agreement_id
    from changed
    semi join earlier_agreement_rows
        on earlier_agreement_rows.agreement_id = changed.agreement_id

),

to_map as (

    -- landed since the last build (the filter reaches the scan)
    select *
    from agreements
    where _load_id > (select clm_load_id from watermarks)

    union all

    -- landed before, but something they depend on changed
    select agreements.*
    from agreements
    semi join changed_earlier
        on changed_earlier.agreement_id = agreements.agreement_id
    where agreements._load_id <= (select clm_load_id from watermarks)

),

joined as (

    select
        agreements.agreement_id,
        agreements.contract_id,
        contracts.legal_entity,
        agreements.currency,
        currencies.scm_code as scm_currency,
        agreements.payment_terms,
        payment_terms.scm_code as scm_payment_terms,
        agreements.status,
        agreement_statuses.scm_code as scm_agreement_status,
        agreement_statuses.scm_code = 'Closed' as is_closing_status,
        agreements.effective_date,
        agreements.effective_date_raw,
        agreements.expiration_date,
        agreements.expiration_date_raw,
        contracts.vendor_account,
        case
            when contracts.contract_id is null then 'contract_missing'
            else contracts.blocked_reason
        end as blocked_reason,
        contracts.scm_contract_id,
        scm_agreements.purchase_agreement_id as scm_purchase_agreement_id,
        scm_agreements.ownership as scm_ownership,
        scm_agreements.agreement_status as scm_current_status,
        scm_agreements.effective_date as scm_effective_date,
        scm_agreements.expiration_date as scm_expiration_date,
        agreements._load_id,
        agreements._row_number,
        scm_agreements._load_id as _scm_load_id,
        scm_agreements._row_number as _scm_row_number,
        contracts.contract_hash as _contract_hash
    from to_map as agreements
    left join contract_states as contracts
        on contracts.contract_id = agreements.contract_id
    left join code_lookup as currencies
        on currencies.domain = 'currency'
        and currencies.clm_code_cmp = agreements.currency_cmp
    left join code_lookup as payment_terms
        on payment_terms.domain = 'payment_terms'
        and payment_terms.clm_code_cmp = agreements.payment_terms_cmp
    left join code_lookup as agreement_statuses
        on agreement_statuses.domain = 'agreement_status'
        and agreement_statuses.clm_code_cmp = agreements.status_cmp
    left join scm_agreements
        on scm_agreements.legal_entity = contracts.legal_entity
        and scm_agreements.external_contract_id_cmp = agreements.contract_id_cmp

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
        agreement_id,
        true as _deleted
    from changed
    anti join agreement_rows
        on agreement_rows.agreement_id = changed.agreement_id

)

select * from final
