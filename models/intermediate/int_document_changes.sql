-- clmsync: materialized=incremental strategy=delete_insert unique_key=change_id
--
-- What the CLM changed on contracts, agreements and lines SCM already has: one row per SCM
-- record and field whose CLM value differs from SCM's, plus one row per line the CLM removed.
--
-- Dates compare as dates (a CLM date sent as a midnight date-time is that day; an empty CLM
-- date equals SCM's blank 1900-01-01), prices as numbers (12.50 = 12.5), statuses after mapping
-- the CLM's code through the seeds (a status that does not map is a mapping failure, not a
-- change). A status that closes the record (Terminated, Expired, Cancelled; Closed) is a close.
-- On an agreement SCM owns (AgreementOwnership = SCM), and on its lines, a change is an
-- ownership conflict: reported, never pushed. `new_value` is what SCM gets: dates as
-- YYYY-MM-DD (a date the CLM cleared becomes SCM's blank, 1900-01-01), prices canonical ("12.5").
--
-- Incremental (delete_insert), from the changes of the mapped models: each row is a function
-- of one mapped contract, agreement or line, so only the records the last build of the mapped
-- models mapped again (`changes.*`, as the runner keeps them) are compared again, and their
-- rows replace the ones they had. The runner rebuilds the table in full when it cannot vouch
-- for those changes (a mapped model built in full, or more than once since), and a build from
-- nothing (an empty table) compares every record.

with

previous as not materialized (

    select * from intermediate.int_document_changes

),

build as (

    select count(*) > 0 as is_incremental from previous

),

contracts as (

    select * from intermediate.int_contracts_mapped
    where not (select is_incremental from build)

    union all by name

    select * exclude (_deleted) from changes.int_contracts_mapped
    where (select is_incremental from build)
        and not _deleted

),

agreements as (

    select * from intermediate.int_agreements_mapped
    where not (select is_incremental from build)

    union all by name

    select * exclude (_deleted) from changes.int_agreements_mapped
    where (select is_incremental from build)
        and not _deleted

),

lines as (

    select * from intermediate.int_agreement_lines_mapped
    where not (select is_incremental from build)

    union all by name

    select * exclude (_deleted) from changes.int_agreement_lines_mapped
    where (select is_incremental from build)
        and not _deleted

),

changed_records as (

    -- the records compared again, and the ones gone: their previous rows are replaced
    select 'CLMIntegrationContracts' as entity, contract_id as clm_id
    from changes.int_contracts_mapped
    union all
    select 'CLMIntegrationPurchaseAgreements' as entity, agreement_id as clm_id
    from changes.int_agreements_mapped
    union all
    select 'CLMIntegrationPurchaseAgreementLines' as entity, line_id as clm_id
    from changes.int_agreement_lines_mapped

),

contract_fields as (

    select
        'CLMIntegrationContracts' as entity,
        legal_entity,
        scm_contract_id as record_key,
        contract_id as clm_id,
        blocked_reason,
        unnest([
            {
                field: 'EffectiveDate',
                kind: 'amended_dates',
                scm_value: strftime(scm_effective_date, '%Y-%m-%d'),
                clm_value: effective_date_raw,
                new_value: coalesce(strftime(effective_date, '%Y-%m-%d'), '1900-01-01'),
                is_different: effective_date is distinct from scm_effective_date,
                is_closing: false
            },
            {
                field: 'ExpirationDate',
                kind: 'amended_dates',
                scm_value: strftime(scm_expiration_date, '%Y-%m-%d'),
                clm_value: expiration_date_raw,
                new_value: coalesce(strftime(expiration_date, '%Y-%m-%d'), '1900-01-01'),
                is_different: expiration_date is distinct from scm_expiration_date,
                is_closing: false
            },
            {
                field: 'ContractStatus',
                kind: 'amended_status',
                scm_value: scm_current_status,
                clm_value: status,
                new_value: scm_contract_status,
                is_different: lower(scm_contract_status) <> lower(scm_current_status),
                is_closing: is_closing_status
            }
        ], recursive := true),
        false as is_scm_owned
    from contracts
    where scm_contract_id is not null
        -- only records that differ at all are unpacked into fields
        and (effective_date is distinct from scm_effective_date
            or expiration_date is distinct from scm_expiration_date
            or lower(scm_contract_status) <> lower(scm_current_status))

),

agreement_fields as (

    select
        'CLMIntegrationPurchaseAgreements' as entity,
        legal_entity,
        scm_purchase_agreement_id as record_key,
        agreement_id as clm_id,
        blocked_reason,
        unnest([
            {
                field: 'DefaultEffectiveDate',
                kind: 'amended_dates',
                scm_value: strftime(scm_effective_date, '%Y-%m-%d'),
                clm_value: effective_date_raw,
                new_value: coalesce(strftime(effective_date, '%Y-%m-%d'), '1900-01-01'),
                is_different: effective_date is distinct from scm_effective_date,
                is_closing: false
            },
            {
                field: 'DefaultExpirationDate',
                kind: 'amended_dates',
                scm_value: strftime(scm_expiration_date, '%Y-%m-%d'),
                clm_value: expiration_date_raw,
                new_value: coalesce(strftime(expiration_date, '%Y-%m-%d'), '1900-01-01'),
                is_different: expiration_date is distinct from scm_expiration_date,
                is_closing: false
            },
            {
                field: 'AgreementStatus',
                kind: 'amended_status',
                scm_value: scm_current_status,
                clm_value: status,
                new_value: scm_agreement_status,
                is_different: lower(scm_agreement_status) <> lower(scm_current_status),
                is_closing: is_closing_status
            }
        ], recursive := true),
        scm_ownership = 'SCM' as is_scm_owned
    from agreements
    where scm_purchase_agreement_id is not null
        and (effective_date is distinct from scm_effective_date
            or expiration_date is distinct from scm_expiration_date
            or lower(scm_agreement_status) <> lower(scm_current_status))

),

kept_line_fields as (

    select
        'CLMIntegrationPurchaseAgreementLines' as entity,
        legal_entity,
        scm_record_key as record_key,
        line_id as clm_id,
        blocked_reason,
        unnest([
            {
                field: 'EffectiveDate',
                kind: 'amended_dates',
                scm_value: strftime(scm_effective_date, '%Y-%m-%d'),
                clm_value: effective_date_raw,
                new_value: coalesce(strftime(effective_date, '%Y-%m-%d'), '1900-01-01'),
                is_different: effective_date is distinct from scm_effective_date,
                is_closing: false
            },
            {
                field: 'ExpirationDate',
                kind: 'amended_dates',
                scm_value: strftime(scm_expiration_date, '%Y-%m-%d'),
                clm_value: expiration_date_raw,
                new_value: coalesce(strftime(expiration_date, '%Y-%m-%d'), '1900-01-01'),
                is_different: expiration_date is distinct from scm_expiration_date,
                is_closing: false
            },
            {
                field: 'Price',
                kind: 'amended_price',
                scm_value: rtrim(rtrim(cast(scm_price as varchar), '0'), '.'),
                clm_value: unit_price_raw,
                new_value: coalesce(rtrim(rtrim(cast(unit_price as varchar), '0'), '.'), '0'),
                is_different: unit_price is distinct from scm_price,
                is_closing: false
            }
        ], recursive := true),
        agreement_scm_ownership = 'SCM' as is_scm_owned
    from lines
    where scm_record_key is not null
        and agreement_scm_purchase_agreement_id is not null
        and status = 'active'
        and (effective_date is distinct from scm_effective_date
            or expiration_date is distinct from scm_expiration_date
            or unit_price is distinct from scm_price)

),

removed_lines as (

    select
        'CLMIntegrationPurchaseAgreementLines' as entity,
        legal_entity,
        scm_record_key as record_key,
        line_id as clm_id,
        blocked_reason,
        null as field,
        'line_removed' as kind,
        null as scm_value,
        status as clm_value,
        null as new_value,
        true as is_different,
        true as is_closing,
        agreement_scm_ownership = 'SCM' as is_scm_owned
    from lines
    where scm_record_key is not null
        and agreement_scm_purchase_agreement_id is not null
        and status = 'removed'

),

all_changes as (

    select * from contract_fields
    union all by name
    select * from agreement_fields
    union all by name
    select * from kept_line_fields
    union all by name
    select * from removed_lines

),

compared as materialized (

    -- read twice below: written once
    select
        md5(concat_ws('|', entity, clm_id, coalesce(field, ''))) as change_id,
        entity,
        legal_entity,
        record_key,
        field,
        case when is_scm_owned then 'ownership_conflict' else kind end as kind,
        case
            when is_scm_owned then null
            when is_closing then 'close'
            else 'update'
        end as action,
        scm_value,
        clm_value,
        new_value,
        clm_id,
        blocked_reason,
        blocked_reason is not null as is_blocked
    from all_changes
    where is_different

),

final as (

    select
        *,
        false as _deleted
    from compared

    union all by name

    -- a field of a record compared again that no longer differs, or of a record gone
    select
        previous.change_id,
        previous.entity,
        previous.clm_id,
        true as _deleted
    from previous
    semi join changed_records
        on changed_records.entity = previous.entity
        and changed_records.clm_id = previous.clm_id
    where previous.change_id not in (select change_id from compared)

)

select * from final
