-- What SCM must receive for CLM integration purchase agreements: one row per change (create,
-- update or close of one agreement), read by the loader.
--
-- create: a CLM agreement SCM lacks, linked, unblocked and fully mapped, with its contract in
--   SCM or created in the same push (dlt_scm__contracts). Owned by the CLM
--   (AgreementOwnership = CLM). PurchaseAgreementId and ContractId are left out: SCM assigns
--   the first and resolves the second from ContractLegalEntity + ExternalContractId.
-- update / close: header dates and status the CLM changed on a CLM-owned agreement, only
--   those, with SCM's values in `before`. An agreement SCM owns is never here: the CLM's
--   changes to it are conflicts (reports.rpt_conflicts).

with

new_documents as (

    select * from intermediate.int_new_documents

),

agreements as (

    select * from intermediate.int_agreements_mapped

),

clm_agreements as (

    select * from staging.stg_clm__agreements

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
        agreements.legal_entity,
        agreements.agreement_id as record_key,
        agreements.agreement_id as clm_id,
        new_documents.kind,
        json_object(
            'BuyingLegalEntityId', agreements.legal_entity,
            'ExternalContractId', agreements.contract_id
        ) as keys,
        -- merge-patching {} leaves out the fields that have no value (JSON null)
        json_merge_patch('{}', json_object(
            'BuyingLegalEntityId', agreements.legal_entity,
            'ExternalContractId', agreements.contract_id,
            'ContractLegalEntity', agreements.legal_entity,
            'AgreementOwnership', 'CLM',
            'AgreementStatus', agreements.scm_agreement_status,
            'DocumentTitle', clm_agreements.agreement_title,
            'PurchaseAgreementClassificationName', clm_agreements.classification,
            'DefaultEffectiveDate', strftime(agreements.effective_date, '%Y-%m-%d'),
            'DefaultExpirationDate', strftime(agreements.expiration_date, '%Y-%m-%d'),
            'AgreementVendorAccountNumber', vendors.vendor_account,
            'InvoiceVendorAccountNumber', vendors.vendor_account,
            'VendorReference', agreements.agreement_id,
            'PrimaryResponsibleWorkerEmail', clm_agreements.owner_email,
            'PrimaryResponsibleWorkerName', clm_contracts.owner_name,
            'ContactPersonId', vendors.primary_contact_id,
            'CurrencyCode', agreements.scm_currency,
            'PaymentTermsName', agreements.scm_payment_terms,
            'DefaultCommitmentType', 'ProductQuantity'
        )) as payload,
        cast(null as json) as before
    from new_documents
    inner join agreements
        on agreements.agreement_id = new_documents.clm_id
    inner join clm_agreements
        on clm_agreements.agreement_id = agreements.agreement_id
    inner join clm_contracts
        on clm_contracts.contract_id = agreements.contract_id
    inner join vendors
        on vendors.legal_entity = agreements.legal_entity
        and vendors.vendor_account = agreements.vendor_account
    where new_documents.object = 'agreement'
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
            'BuyingLegalEntityId', legal_entity,
            'PurchaseAgreementId', record_key
        ) as keys,
        to_json(map_from_entries(list({k: field, v: new_value} order by field))) as payload,
        to_json(map_from_entries(list({k: field, v: scm_value} order by field))) as before
    from changes
    where entity = 'CLMIntegrationPurchaseAgreements'
        and action in ('update', 'close')
        and not is_blocked
    group by action, legal_entity, record_key, clm_id, kind

),

final as (

    select
        md5(concat_ws('|', 'CLMIntegrationPurchaseAgreements', legal_entity, record_key, action,
                      payload::varchar)) as delta_id,
        action,
        'CLMIntegrationPurchaseAgreements' as entity,
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
