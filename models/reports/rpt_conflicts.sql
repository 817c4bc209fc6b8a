-- Changes the CLM made to data SCM owns: one row per SCM record and field. A purchase
-- agreement whose ownership moved to SCM (AgreementOwnership = SCM) keeps SCM's header dates
-- and status, and its lines; clmsync never overwrites them. Decide in SCM (take the CLM's value
-- by hand, or hand ownership back to the CLM) or correct the CLM.

with

mismatches as (

    select * from reports.rpt_mismatches

),

final as (

    select
        entity,
        legal_entity,
        record_key,
        field,
        scm_value,
        clm_value,
        clm_id,
        owner,
        first_seen_at,
        last_seen_at,
        open_for,
        mismatch_id
    from mismatches
    where kind = 'ownership_conflict'

)

select * from final
