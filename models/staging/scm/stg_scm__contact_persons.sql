-- One row per contact person and legal entity; vendor contacts carry the vendor account.

with

source as (

    select * from current_scm.contact_persons

),

renamed as (

    select
        lower(trim(dataAreaId)) as legal_entity,
        trim(ContactPersonId) as contact_person_id,
        FirstName as first_name,
        nullif(MiddleName, '') as middle_name,
        LastName as last_name,
        JobTitle as job_title,
        nullif(PrimaryEmailAddress, '') as email,
        nullif(PrimaryPhoneNumber, '') as phone,
        nullif(trim(AssociatedPartyNumber), '') as party_number,
        nullif(VendorAccountNumber, '') as vendor_account,
        nullif(lower(trim(VendorAccountNumber)), '') as vendor_account_cmp,
        _extracted_at,
        _load_id
    from source

),

final as (

    select * from renamed

)

select * from final
