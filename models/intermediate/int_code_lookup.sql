-- The seed mappings as a lookup: one row per domain and normalised CLM code, with the SCM value
-- it maps to. Two seed rows that normalise to the same code but map to different SCM values are
-- ambiguous: they are kept out of the lookup (so the code counts as unmapped) and flagged for
-- the seed test, rather than one of them being picked at random.

with

code_map as (

    select * from staging.stg_seeds__code_map

),

grouped as (

    select
        domain,
        clm_code_cmp,
        min(scm_code) as scm_code,
        count(distinct scm_code_cmp) as scm_values,
        string_agg(distinct clm_code, ', ' order by clm_code) as clm_codes
    from code_map
    group by domain, clm_code_cmp

),

final as (

    select
        domain,
        clm_code_cmp,
        case when scm_values = 1 then scm_code end as scm_code,
        scm_values > 1 as is_ambiguous,
        clm_codes
    from grouped

)

select * from final
