-- Continuous spells on the child protection register, per child (by linked child key, across
-- councils): registrations of one child that overlap or touch (the next registered on or before
-- the day the previous ended, as on a transfer between councils) make one episode.

with

registrations as (

    select * from {{ ref('fct_registrations') }}

),

ordered as (

    select
        child_key,
        council_code,
        registration_id,
        registration_date,
        deregistration_date,
        deregistration_reason,
        -- the latest end among the child's earlier registrations (null end: still open)
        max(coalesce(deregistration_date, date '9999-12-31')) over (
            partition by child_key
            order by registration_date, coalesce(deregistration_date, date '9999-12-31'),
                council_code, registration_id
            rows between unbounded preceding and 1 preceding
        ) as open_until_before

    from registrations

),

numbered as (

    select
        *,
        sum(
            case when open_until_before is null or registration_date > open_until_before then 1 else 0 end
        ) over (
            partition by child_key
            order by registration_date, coalesce(deregistration_date, date '9999-12-31'),
                council_code, registration_id
            rows unbounded preceding
        ) as episode_number

    from ordered

),

episodes as (

    select
        child_key,
        episode_number,
        min(registration_date) as episode_start,
        nullif(max(coalesce(deregistration_date, date '9999-12-31')), date '9999-12-31')
            as episode_end,
        count(*) as registrations,
        list(distinct council_code order by council_code) as councils,
        arg_min(council_code, registration_date) as first_council_code,
        arg_max(council_code, coalesce(deregistration_date, date '9999-12-31')) as last_council_code,
        arg_max(deregistration_reason, coalesce(deregistration_date, date '9999-12-31'))
            as end_reason

    from numbered
    group by child_key, episode_number

)

select
    child_key,
    episode_number,
    episode_start,
    episode_end,
    case when episode_end is null then null else episode_end - episode_start end as episode_days,
    registrations,
    councils,
    first_council_code,
    last_council_code,
    case when episode_end is not null then end_reason end as end_reason

from episodes
