-- clmsync: materialized=incremental unique_key=mismatch_id
--
-- The life of every mismatch across runs: one row per mismatch ever seen. A mismatch found in
-- this run is open (`resolved_at` NULL) and its `last_seen_at` moves to this run; one that was
-- open and is no longer found was resolved in this run. `first_seen_at` says how long it has
-- been open; a mismatch that comes back after being resolved opens again (`times_reopened`).
-- Incremental: rows resolved in earlier runs are kept as they are.

with

current_mismatches as (

    select * from intermediate.int_mismatches

),

history as (

    select * from reports.rpt_mismatch_history

),

this_run as (

    select current_timestamp as seen_at

),

still_or_newly_open as (

    select
        current_mismatches.mismatch_id,
        current_mismatches.kind,
        current_mismatches.entity,
        current_mismatches.legal_entity,
        current_mismatches.record_key,
        current_mismatches.field,
        current_mismatches.clm_id,
        current_mismatches.scm_value,
        current_mismatches.clm_value,
        case
            when history.mismatch_id is not null and history.resolved_at is null
                then history.first_seen_at
            else this_run.seen_at
        end as first_seen_at,
        this_run.seen_at as last_seen_at,
        cast(null as timestamptz) as resolved_at,
        coalesce(history.times_reopened, 0)
            + case when history.resolved_at is not null then 1 else 0 end as times_reopened
    from current_mismatches
    cross join this_run
    left join history
        on history.mismatch_id = current_mismatches.mismatch_id

),

resolved_now as (

    select
        history.mismatch_id,
        history.kind,
        history.entity,
        history.legal_entity,
        history.record_key,
        history.field,
        history.clm_id,
        history.scm_value,
        history.clm_value,
        history.first_seen_at,
        history.last_seen_at,
        this_run.seen_at as resolved_at,
        history.times_reopened
    from history
    cross join this_run
    anti join current_mismatches
        on current_mismatches.mismatch_id = history.mismatch_id
    where history.resolved_at is null

),

final as (

    select * from still_or_newly_open
    union all
    select * from resolved_now

)

select * from final
