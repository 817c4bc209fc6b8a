-- clmsync: materialized=incremental strategy=delete_insert unique_key=counterparty_id
--
-- Every CLM counterparty with the SCM vendor it stands for: one row per counterparty.
--
-- Links are tried in order, always inside the legal entity of the counterparty's business unit:
-- 1. the SCM vendor account the counterparty carries (ignoring case, as SCM keys do); an account
--    SCM does not have is `vendor_missing`, never linked to another vendor;
-- 2. the tax id, letters and digits only, when exactly one vendor of the legal entity has it;
-- 3. name and address similarity (int_counterparty_name_candidates): linked when the best
--    candidate scores at least 0.85 and beats the next one by at least 0.05; a weaker or
--    ambiguous best candidate goes to review instead of being guessed; below 0.6, unlinked.
-- Only `linked` counterparties of vendors that are not on hold for everything may have their
-- documents created in SCM (`can_receive_documents`).
--
-- Incremental (delete_insert): only counterparties something changed for since the last build
-- are linked again, the rest keep their rows. A counterparty is linked again when its row landed
-- since (above the highest `_counterparty_load_id` here), when it is new, back or gone (its row
-- is deleted); when the vendor it links to landed since (above the highest `_vendor_load_id`)
-- or is gone; when SCM now has the vendor account it carries and lacked; when the vendor its
-- tax id finds, or its best name candidates (int_counterparty_name_candidates, rebuilt every
-- run), are not the ones it was linked with. A change of the seeds or of this SQL rebuilds it in
-- full (the runner's fingerprint).

with

counterparties as not materialized (

    select * from intermediate.int_counterparties where is_current

),

vendors as not materialized (

    select * from intermediate.int_vendors where is_current

),

code_lookup as (

    select * from intermediate.int_code_lookup

),

name_candidates as (

    select * from intermediate.int_counterparty_name_candidates

),

previous as not materialized (

    select * from intermediate.int_counterparty_links

),

watermarks as (

    select
        coalesce(max(_counterparty_load_id), -1) as counterparty_load_id,
        coalesce(max(_vendor_load_id), -1) as vendors_load_id
    from previous

),

placed as not materialized (

    select
        counterparties.counterparty_id,
        counterparties.counterparty_name,
        counterparties.business_unit,
        business_units.scm_code as legal_entity,
        counterparties.vendor_account as clm_vendor_account,
        counterparties.vendor_account_cmp,
        counterparties.tax_id,
        counterparties.tax_id_cmp,
        counterparties._load_id
    from counterparties
    left join code_lookup as business_units
        on business_units.domain = 'business_unit'
        and business_units.clm_code_cmp = counterparties.business_unit_cmp

),

unique_tax_ids as (

    -- only the tax ids a counterparty without an account has: the rest cannot link anything
    select
        vendors.legal_entity,
        vendors.tax_id_cmp,
        min(vendors.vendor_account) as vendor_account
    from vendors
    semi join placed
        on placed.legal_entity = vendors.legal_entity
        and placed.tax_id_cmp = vendors.tax_id_cmp
        and placed.vendor_account_cmp is null
    group by vendors.legal_entity, vendors.tax_id_cmp
    having count(*) = 1

),

by_tax_id as (

    select
        placed.counterparty_id,
        unique_tax_ids.vendor_account
    from placed
    inner join unique_tax_ids
        on unique_tax_ids.legal_entity = placed.legal_entity
        and unique_tax_ids.tax_id_cmp = placed.tax_id_cmp
    where placed.vendor_account_cmp is null

),

by_name as (

    select
        counterparty_id,
        max(vendor_account) filter (where candidate_rank = 1) as vendor_account,
        max(score) filter (where candidate_rank = 1) as best_score,
        max(score) filter (where candidate_rank = 2) as runner_up_score
    from name_candidates
    group by counterparty_id

),

changed_vendors as (

    -- landed since the last build, or gone (only those gone since link anything here)
    select
        legal_entity,
        vendor_account
    from intermediate.int_vendors
    where _load_id > (select vendors_load_id from watermarks)
        or not is_current

),

vendor_missing as materialized (

    -- the few counterparties that carry an account SCM did not have at the last build
    select placed.*
    from placed
    semi join previous
        on previous.counterparty_id = placed.counterparty_id
        and previous.link_status = 'vendor_missing'

),

changed_ids as (

    -- its row landed since the last build
    select counterparty_id
    from intermediate.int_counterparties
    where _load_id > (select counterparty_load_id from watermarks)

    union all

    -- new, or back after a delete (with the row it had), or gone
    select coalesce(counterparties.counterparty_id, previous.counterparty_id)
    from counterparties
    full join previous
        on previous.counterparty_id = counterparties.counterparty_id
    where counterparties.counterparty_id is null
        or previous.counterparty_id is null

    union all

    -- the vendor it links to landed since, or is gone
    select previous.counterparty_id
    from previous
    semi join changed_vendors
        on changed_vendors.legal_entity = previous.legal_entity
        and changed_vendors.vendor_account = previous.vendor_account
    where previous.link_status = 'linked'

    union all

    -- SCM now has the vendor account it carries
    select vendor_missing.counterparty_id
    from vendor_missing
    semi join vendors
        on vendors.legal_entity = vendor_missing.legal_entity
        and vendors.vendor_account_cmp = vendor_missing.vendor_account_cmp

    union all

    -- its tax id finds another vendor than it was linked to by tax id, or none, or one now
    select coalesce(by_tax_id.counterparty_id, tax_id_links.counterparty_id)
    from by_tax_id
    full join (select * from previous where link_method = 'tax_id') as tax_id_links
        on tax_id_links.counterparty_id = by_tax_id.counterparty_id
    where by_tax_id.vendor_account is distinct from tax_id_links.vendor_account

    union all

    -- its best name candidates changed
    select coalesce(by_name.counterparty_id, candidates.counterparty_id)
    from by_name
    full join (select * from previous where candidate_vendor_account is not null) as candidates
        on candidates.counterparty_id = by_name.counterparty_id
    where by_name.vendor_account is distinct from candidates.candidate_vendor_account
        or by_name.best_score is distinct from candidates.candidate_score
        or by_name.runner_up_score is distinct from candidates.runner_up_score

),

changed as materialized (

    select distinct counterparty_id from changed_ids

),

to_link as (

    select placed.*
    from placed
    semi join changed
        on changed.counterparty_id = placed.counterparty_id

),

by_account as (

    select
        to_link.counterparty_id,
        vendors.vendor_account
    from to_link
    inner join vendors
        on vendors.legal_entity = to_link.legal_entity
        and vendors.vendor_account_cmp = to_link.vendor_account_cmp

),

decided as (

    select
        to_link.*,
        by_name.vendor_account as candidate_vendor_account,
        by_name.best_score as candidate_score,
        by_name.runner_up_score,
        case
            when to_link.legal_entity is null then 'unknown_business_unit'
            when to_link.vendor_account_cmp is not null and by_account.vendor_account is not null
                then 'linked'
            when to_link.vendor_account_cmp is not null then 'vendor_missing'
            when by_tax_id.vendor_account is not null then 'linked'
            when by_name.best_score >= 0.85
                and coalesce(by_name.best_score - by_name.runner_up_score, 1) >= 0.05
                then 'linked'
            when by_name.best_score >= 0.6 then 'review'
            else 'unlinked'
        end as link_status,
        case
            when to_link.legal_entity is null then null
            when to_link.vendor_account_cmp is not null then 'vendor_account'
            when by_tax_id.vendor_account is not null then 'tax_id'
            when by_name.best_score >= 0.85
                and coalesce(by_name.best_score - by_name.runner_up_score, 1) >= 0.05
                then 'name'
        end as link_method,
        case
            when to_link.legal_entity is null then null
            when to_link.vendor_account_cmp is not null then by_account.vendor_account
            when by_tax_id.vendor_account is not null then by_tax_id.vendor_account
            when by_name.best_score >= 0.85
                and coalesce(by_name.best_score - by_name.runner_up_score, 1) >= 0.05
                then by_name.vendor_account
        end as vendor_account
    from to_link
    left join by_account
        on by_account.counterparty_id = to_link.counterparty_id
    left join by_tax_id
        on by_tax_id.counterparty_id = to_link.counterparty_id
    left join by_name
        on by_name.counterparty_id = to_link.counterparty_id

),

linked as (

    select
        decided.counterparty_id,
        decided.counterparty_name,
        decided.business_unit,
        decided.legal_entity,
        decided.clm_vendor_account,
        decided.tax_id,
        decided.link_status,
        decided.link_method,
        decided.vendor_account,
        case
            when decided.link_status <> 'linked' then null
            when decided.link_method = 'name' then decided.candidate_score
            else 1.0
        end as confidence,
        decided.candidate_vendor_account,
        decided.candidate_score,
        decided.runner_up_score,
        vendors.vendor_name,
        vendors.tax_id as vendor_tax_id,
        vendors.on_hold_status as vendor_on_hold_status,
        coalesce(vendors.on_hold_status = 'All', false) as is_vendor_on_hold,
        decided.link_status = 'linked' and coalesce(vendors.on_hold_status <> 'All', false)
            as can_receive_documents,
        decided._load_id as _counterparty_load_id,
        vendors._load_id as _vendor_load_id
    from decided
    left join vendors
        on decided.link_status = 'linked'
        and vendors.legal_entity = decided.legal_entity
        and vendors.vendor_account = decided.vendor_account

),

final as (

    select
        *,
        false as _deleted
    from linked

    union all by name

    -- gone: its row is deleted
    select
        changed.counterparty_id,
        true as _deleted
    from changed
    anti join counterparties
        on counterparties.counterparty_id = changed.counterparty_id

)

select * from final
