-- Every CLM agreement mapped to SCM's keys and codes, with the SCM purchase agreement it
-- matches: one row per CLM agreement.
--
-- An agreement belongs to its contract's legal entity and counterparty; the SCM purchase
-- agreement is the one of that legal entity whose external contract id is the agreement's CLM
-- contract id. Currency, payment terms and status map through the seeds (NULL when unmapped).
-- `scm_ownership` says who owns the agreement's header in SCM: the CLM's changes to an
-- SCM-owned agreement are conflicts, never pushed.

with

agreements as (

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
        scm_agreements.expiration_date as scm_expiration_date
    from agreements
    left join contracts
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

final as (

    select
        *,
        blocked_reason is not null as is_blocked
    from joined

)

select * from final
