-- What SCM must receive for CLM integration contracts: one row per change (create, update or
-- close of one record), read by the loader.
--
-- create: a CLM contract SCM lacks whose counterparty is linked to a vendor that is not on
--   hold and whose codes all map (int_new_documents). `payload` carries every field to set,
--   in SCM's codes; ContractId is left out: SCM assigns it, and finds the record again by its
--   natural key (`keys`: LegalEntityId + ExternalContractId = the CLM id).
-- update / close: the fields the CLM changed on a contract SCM has, only those, with SCM's
--   current values in `before`. A status that closes the contract is a close.
-- Nothing blocked, unmapped or unlinked is ever here (see the tests in _deltas.yml).

with

new_documents as (

    select * from intermediate.int_new_documents

),

contracts as (

    select * from intermediate.int_contracts_mapped

),

clm_contracts as (

    select * from staging.stg_clm__contracts

),

changes as (

    select * from intermediate.int_document_changes

),

vendors as (

    select * from intermediate.int_vendors where is_current

),

creates as (

    select
        'create' as action,
        contracts.legal_entity,
        contracts.contract_id as record_key,
        contracts.contract_id as clm_id,
        new_documents.kind,
        json_object(
            'LegalEntityId', contracts.legal_entity,
            'ExternalContractId', contracts.contract_id
        ) as keys,
        -- merge-patching {} leaves out the fields that have no value (JSON null)
        json_merge_patch('{}', json_object(
            'LegalEntityId', contracts.legal_entity,
            'ExternalContractId', contracts.contract_id,
            'ContractType', contracts.scm_contract_type,
            'ContractStatus', contracts.scm_contract_status,
            'ContractName', clm_contracts.contract_title,
            'EffectiveDate', strftime(contracts.effective_date, '%Y-%m-%d'),
            'ExpirationDate', strftime(contracts.expiration_date, '%Y-%m-%d'),
            'RequesterWorkerName', clm_contracts.owner_name,
            'RequesterWorkerEmail', clm_contracts.owner_email,
            'AccountType', 'Vend',
            'AccountRelationId', vendors.vendor_account,
            'PartyNumber', vendors.party_number,
            'ContactPersonId', vendors.primary_contact_id
        )) as payload,
        cast(null as json) as before
    from new_documents
    inner join contracts
        on contracts.contract_id = new_documents.clm_id
    inner join clm_contracts
        on clm_contracts.contract_id = contracts.contract_id
    inner join vendors
        on vendors.legal_entity = contracts.legal_entity
        and vendors.vendor_account = contracts.vendor_account
    where new_documents.object = 'contract'
        and new_documents.outcome = 'create'

),

updates as (

    select
        action,
        legal_entity,
        record_key,
        clm_id,
        kind,
        json_object(
            'LegalEntityId', legal_entity,
            'ContractId', record_key
        ) as keys,
        to_json(map_from_entries(list({k: field, v: new_value} order by field))) as payload,
        to_json(map_from_entries(list({k: field, v: scm_value} order by field))) as before
    from changes
    where entity = 'CLMIntegrationContracts'
        and action in ('update', 'close')
        and not is_blocked
    group by action, legal_entity, record_key, clm_id, kind

),

final as (

    select
        md5(concat_ws('|', 'CLMIntegrationContracts', legal_entity, record_key, action,
                      payload::varchar)) as delta_id,
        action,
        'CLMIntegrationContracts' as entity,
        legal_entity,
        record_key,
        clm_id,
        kind,
        keys,
        payload,
        before
    from (
        select * from creates
        union all
        select * from updates
    )

)

select * from final
