-- One row per CLM integration purchase agreement in SCM (buying legal entity + agreement id).
-- Its external contract id is the CLM contract the agreement belongs to; `ownership` says which
-- system owns its header fields.

with

source as (

    select * from current_scm.purchase_agreements

),

renamed as (

    select
        lower(trim(BuyingLegalEntityId)) as legal_entity,
        PurchaseAgreementId as purchase_agreement_id,
        trim(ExternalContractId) as external_contract_id,
        lower(trim(ExternalContractId)) as external_contract_id_cmp,
        nullif(trim(ContractId), '') as contract_id,
        nullif(lower(trim(ContractLegalEntity)), '') as contract_legal_entity,
        -- An agreement created through the CLM integration is CLM-owned unless SCM took it over.
        coalesce(nullif(trim(AgreementOwnership), ''), 'CLM') as ownership,
        trim(AgreementStatus) as agreement_status,
        DocumentTitle as document_title,
        nullif(trim(PurchaseAgreementClassificationName), '') as classification,
        nullif(
            case
                when DefaultEffectiveDate like '____-__-__%'
                    then try_cast(left(DefaultEffectiveDate, 10) as date)
                else cast(try_strptime(trim(DefaultEffectiveDate), '%m/%d/%Y %I:%M:%S %p') as date)
            end,
            date '1900-01-01'
        ) as effective_date,
        nullif(
            case
                when DefaultExpirationDate like '____-__-__%'
                    then try_cast(left(DefaultExpirationDate, 10) as date)
                else cast(try_strptime(trim(DefaultExpirationDate), '%m/%d/%Y %I:%M:%S %p') as date)
            end,
            date '1900-01-01'
        ) as expiration_date,
        AgreementVendorAccountNumber as vendor_account,
        nullif(InvoiceVendorAccountNumber, '') as invoice_vendor_account,
        nullif(VendorReference, '') as vendor_reference,
        nullif(PrimaryResponsibleWorkerEmail, '') as responsible_email,
        nullif(PrimaryResponsibleWorkerName, '') as responsible_name,
        nullif(trim(ContactPersonId), '') as contact_person_id,
        nullif(trim(CurrencyCode), '') as currency_code,
        nullif(trim(PaymentTermsName), '') as payment_terms,
        nullif(trim(DefaultCommitmentType), '') as commitment_type,
        _extracted_at,
        _load_id,
        _row_number
    from source

),

final as (

    select * from renamed

)

select * from final
