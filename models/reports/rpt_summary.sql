-- How many mismatches of each kind each legal entity has, as of this run: one row per kind and
-- legal entity (every kind of the taxonomy, zero when none), with how many clmsync pushes, how
-- many wait for someone, how many appeared and were resolved in this run, and the oldest open.

with

mismatches as (

    select * from reports.rpt_mismatches

),

history as (

    select * from reports.rpt_mismatch_history

),

kinds as (

    select * from seeds.mismatch_kinds

),

legal_entities as (

    select * from staging.stg_scm__legal_entities

),

grid as (

    select
        kinds.name as kind,
        kinds.owner,
        kinds.action as kind_action,
        legal_entities.legal_entity
    from kinds
    cross join legal_entities

),

open_counts as (

    select
        kind,
        legal_entity,
        count(*) as open_mismatches,
        count(*) filter (where action is not null and not is_blocked) as to_push,
        count(*) filter (where is_blocked or action is null) as to_review,
        count(*) filter (where first_seen_at = last_seen_at) as new_this_run,
        min(first_seen_at) as oldest_first_seen_at
    from mismatches
    group by kind, legal_entity

),

resolved_counts as (

    select
        kind,
        legal_entity,
        count(*) as resolved_this_run
    from history
    -- resolved in this run: at the time this run saw the mismatches
    where resolved_at = (select max(last_seen_at) from history)
    group by kind, legal_entity

),

final as (

    select
        grid.kind,
        grid.legal_entity,
        grid.owner,
        grid.kind_action,
        coalesce(open_counts.open_mismatches, 0) as open_mismatches,
        coalesce(open_counts.to_push, 0) as to_push,
        coalesce(open_counts.to_review, 0) as to_review,
        coalesce(open_counts.new_this_run, 0) as new_this_run,
        coalesce(resolved_counts.resolved_this_run, 0) as resolved_this_run,
        open_counts.oldest_first_seen_at
    from grid
    left join open_counts
        on open_counts.kind = grid.kind
        and open_counts.legal_entity = grid.legal_entity
    left join resolved_counts
        on resolved_counts.kind = grid.kind
        and resolved_counts.legal_entity = grid.legal_entity

)

select * from final
