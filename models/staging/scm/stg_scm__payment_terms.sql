-- One row per terms of payment and legal entity.

with

source as (

    select * from current_scm.payment_terms

),

renamed as (

    select
        lower(trim(dataAreaId)) as legal_entity,
        trim(Name) as payment_terms,
        lower(trim(Name)) as payment_terms_cmp,
        Description as description,
        trim(PaymentMethodType) as payment_method,
        try_cast(trim(NumberOfDays) as bigint) as number_of_days,
        try_cast(trim(NumberOfMonths) as bigint) as number_of_months,
        trim(IsDefaultPaymentTerm) = 'Yes' as is_default,
        trim(IsCashPayment) = 'Yes' as is_cash_payment,
        _extracted_at,
        _load_id
    from source

),

final as (

    select * from renamed

)

select * from final
