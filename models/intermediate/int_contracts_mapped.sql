-- Every CLM contract mapped to SCM's keys and codes, with the SCM contract it matches: one row
-- per CLM contract.
--
-- The legal entity comes from the business unit (seed clm_business_units); the SCM contract is
-- the one of that legal entity whose external contract id is the CLM contract's id (compared
-- ignoring case, as SCM does). Contract type and status map through the seeds; a code the seeds
-- do not know leaves the `scm_*` column NULL. The counterparty's link says whether documents of
-- this contract may be created in SCM (`is_blocked`, with the reason). The table keeps what
-- matching and comparing need; descriptive fields stay in staging.stg_clm__contracts.

with

contracts as (

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

mapped as (

    select
        contracts.*,
        business_units.scm_code as legal_entity,
        contract_types.scm_code as scm_contract_type,
        contract_statuses.scm_code as scm_contract_status
    from contracts
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
        scm_contracts.expiration_date as scm_expiration_date
    from mapped
    left join links
        on links.counterparty_id = mapped.counterparty_id
    left join scm_contracts
        on scm_contracts.legal_entity = mapped.legal_entity
        and scm_contracts.external_contract_id_cmp = mapped.contract_id_cmp

),

final as (

    select
        *,
        blocked_reason is not null as is_blocked
    from joined

)

select * from final
