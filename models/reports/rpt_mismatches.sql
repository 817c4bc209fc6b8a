-- The mismatches between SCM and the CLM as of this run: one row per mismatch, with the system
-- that owns the data in question (`owner`: believe it) and how long the mismatch has been open.
--
-- `kind` is one of the kinds in models/README.md (seeds.mismatch_kinds); `entity` and
-- `record_key` name the SCM record (entity set and key without the legal entity, e.g.
-- "PA0001234|3") or, when SCM has no record, the CLM object type and id. `scm_value` and
-- `clm_value` are as each system holds them. `action` is what clmsync does about it; a
-- `is_blocked` mismatch is listed only (unlinked counterparty, unmapped code, SCM-owned
-- agreement...).

with

mismatches as (

    select * from intermediate.int_mismatches

),

history as (

    select * from reports.rpt_mismatch_history

),

kinds as (

    select * from seeds.mismatch_kinds

),

final as (

    select
        mismatches.kind,
        mismatches.entity,
        mismatches.legal_entity,
        mismatches.record_key,
        mismatches.field,
        mismatches.scm_value,
        mismatches.clm_value,
        kinds.owner,
        history.first_seen_at,
        history.last_seen_at,
        mismatches.clm_id,
        mismatches.action,
        mismatches.is_blocked,
        history.last_seen_at - history.first_seen_at as open_for,
        mismatches.mismatch_id
    from mismatches
    left join kinds
        on kinds.name = mismatches.kind
    left join history
        on history.mismatch_id = mismatches.mismatch_id

)

select * from final
