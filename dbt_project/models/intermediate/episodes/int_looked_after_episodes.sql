-- Looked-after episodes: a council's continuous period of looking after a child (the partner's
-- `episode_id`), with its placements: when it started and ended (open while any placement is),
-- how many placements it had and the first and latest placement types.

with

placements as (

    select * from {{ ref('fct_placements') }}

),

episodes as (

    select
        council_code,
        episode_id,
        any_value(child_key) as child_key,
        min(placement_start) as episode_start,
        nullif(max(coalesce(placement_end, date '9999-12-31')), date '9999-12-31') as episode_end,
        count(*) as placements,
        arg_min(placement_type, placement_start) as first_placement_type,
        arg_max(placement_type, placement_start) as latest_placement_type,
        arg_min(legal_reason, placement_start) as first_legal_reason

    from placements
    group by council_code, episode_id

)

select * from episodes
