-- One row per CLM integration contract in SCM (legal entity + contract id). Its external
-- contract id is the CLM contract's id.

with

source as (

    select * from current_scm.contracts

),

renamed as (

    select
        lower(trim(LegalEntityId)) as legal_entity,
        ContractId as contract_id,
        trim(ExternalContractId) as external_contract_id,
        lower(trim(ExternalContractId)) as external_contract_id_cmp,
        trim(ContractType) as contract_type,
        trim(ContractStatus) as contract_status,
        ContractName as contract_name,
        nullif(
            case
                when EffectiveDate like '____-__-__%' then try_cast(left(EffectiveDate, 10) as date)
                else cast(try_strptime(trim(EffectiveDate), '%m/%d/%Y %I:%M:%S %p') as date)
            end,
            date '1900-01-01'
        ) as effective_date,
        nullif(
            case
                when ExpirationDate like '____-__-__%' then try_cast(left(ExpirationDate, 10) as date)
                else cast(try_strptime(trim(ExpirationDate), '%m/%d/%Y %I:%M:%S %p') as date)
            end,
            date '1900-01-01'
        ) as expiration_date,
        nullif(RequesterWorkerName, '') as requester_name,
        nullif(RequesterWorkerEmail, '') as requester_email,
        trim(AccountType) as account_type,
        nullif(AccountRelationId, '') as vendor_account,
        nullif(trim(PartyNumber), '') as party_number,
        nullif(trim(ContactPersonId), '') as contact_person_id,
        nullif(trim(LatestAmendmentId), '') as latest_amendment_id,
        nullif(trim(LatestExternalAmendmentId), '') as latest_external_amendment_id,
        trim(AmendmentInProcess) = 'Yes' as is_amendment_in_process,
        _extracted_at,
        _load_id,
        _row_number
    from source

),

final as (

    select * from renamed

)

select * from final
