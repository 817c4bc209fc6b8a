-- The CLM code clmsync sends for an SCM value (master data SCM owns and the CLM copies): the
-- seed row marked preferred, one per domain and SCM value.

with

code_map as (

    select * from staging.stg_seeds__code_map

),

final as (

    select
        domain,
        scm_code_cmp,
        min(scm_code) as scm_code,
        min(clm_code) as clm_code,
        count(*) as preferred_codes
    from code_map
    where is_preferred
    group by domain, scm_code_cmp

)

select * from final
