-- One row per purchase agreement line in SCM (legal entity + agreement id + line number).
-- Its external contract line id is the CLM agreement line's id.

with

source as (

    select * from current_scm.purchase_agreement_lines

),

renamed as (

    select
        lower(trim(PurchaseAgreementLegalEntityId)) as legal_entity,
        PurchaseAgreementId as purchase_agreement_id,
        try_cast(trim(LineNumber) as decimal(32, 6)) as line_number,
        -- The current table holds key numbers in canonical text already ("3", not "3.000000").
        LineNumber as line_number_text,
        nullif(trim(ExternalContractId), '') as external_contract_id,
        trim(ExternalContractLineId) as external_line_id,
        lower(trim(ExternalContractLineId)) as external_line_id_cmp,
        nullif(trim(CommitmentType), '') as commitment_type,
        try_cast(trim(CommittedAmount) as decimal(32, 6)) as committed_amount,
        try_cast(trim(CommittedQuantity) as decimal(32, 6)) as committed_quantity,
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
        nullif(trim(ItemNumber), '') as item_number,
        nullif(trim(ProcurementProductCategoryName), '') as procurement_category,
        try_cast(trim(Price) as decimal(32, 6)) as price,
        try_cast(trim(PriceQuantity) as decimal(32, 6)) as price_quantity,
        try_cast(trim(LineDiscountAmount) as decimal(32, 6)) as discount_amount,
        try_cast(trim(LineDiscountPercentage) as decimal(32, 6)) as discount_percentage,
        nullif(trim(UnitSymbol), '') as unit_symbol,
        nullif(trim(ReceivingSiteId), '') as site_id,
        nullif(trim(ReceivingWarehouseId), '') as warehouse_id,
        trim(IsPriceAndDiscountFixed) = 'Yes' as is_price_fixed,
        _extracted_at,
        _load_id,
        _row_number
    from source

),

final as (

    select * from renamed

)

select * from final
