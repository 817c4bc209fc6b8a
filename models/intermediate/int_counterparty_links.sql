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

with

counterparties as (

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

placed as (

    select
        counterparties.counterparty_id,
        counterparties.counterparty_name,
        counterparties.business_unit,
        business_units.scm_code as legal_entity,
        counterparties.vendor_account as clm_vendor_account,
        counterparties.vendor_account_cmp,
        counterparties.tax_id,
        counterparties.tax_id_cmp
    from counterparties
    left join code_lookup as business_units
        on business_units.domain = 'business_unit'
        and business_units.clm_code_cmp = counterparties.business_unit_cmp

),

by_account as (

    select
        placed.counterparty_id,
        vendors.vendor_account
    from placed
    inner join vendors
        on vendors.legal_entity = placed.legal_entity
        and vendors.vendor_account_cmp = placed.vendor_account_cmp

),

unique_tax_ids as (

    select
        legal_entity,
        tax_id_cmp,
        min(vendor_account) as vendor_account
    from vendors
    where tax_id_cmp is not null
    group by legal_entity, tax_id_cmp
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

decided as (

    select
        placed.*,
        by_name.vendor_account as candidate_vendor_account,
        by_name.best_score as candidate_score,
        by_name.runner_up_score,
        case
            when placed.legal_entity is null then 'unknown_business_unit'
            when placed.vendor_account_cmp is not null and by_account.vendor_account is not null
                then 'linked'
            when placed.vendor_account_cmp is not null then 'vendor_missing'
            when by_tax_id.vendor_account is not null then 'linked'
            when by_name.best_score >= 0.85
                and coalesce(by_name.best_score - by_name.runner_up_score, 1) >= 0.05
                then 'linked'
            when by_name.best_score >= 0.6 then 'review'
            else 'unlinked'
        end as link_status,
        case
            when placed.legal_entity is null then null
            when placed.vendor_account_cmp is not null then 'vendor_account'
            when by_tax_id.vendor_account is not null then 'tax_id'
            when by_name.best_score >= 0.85
                and coalesce(by_name.best_score - by_name.runner_up_score, 1) >= 0.05
                then 'name'
        end as link_method,
        case
            when placed.legal_entity is null then null
            when placed.vendor_account_cmp is not null then by_account.vendor_account
            when by_tax_id.vendor_account is not null then by_tax_id.vendor_account
            when by_name.best_score >= 0.85
                and coalesce(by_name.best_score - by_name.runner_up_score, 1) >= 0.05
                then by_name.vendor_account
        end as vendor_account
    from placed
    left join by_account
        on by_account.counterparty_id = placed.counterparty_id
    left join by_tax_id
        on by_tax_id.counterparty_id = placed.counterparty_id
    left join by_name
        on by_name.counterparty_id = placed.counterparty_id

),

final as (

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
            as can_receive_documents
    from decided
    left join vendors
        on decided.link_status = 'linked'
        and vendors.legal_entity = decided.legal_entity
        and vendors.vendor_account = decided.vendor_account

)

select * from final
