-- Placements of looked-after children (sw `placements`): one row per placement, in its current
-- state, with the child's linked key and attributes.

with

placements as (

    select * from {{ ref('int_sw__placements__current') }}

),

children as (

    select * from {{ ref('int_children') }}

),

-- A child is the pair (council, child_id): the same reference in two councils is two children.
-- A record whose child has no `children` row keeps its own child_id as the key, with no
-- birth dates and sex U (unknown).
placements_with_children as (

    select
        placements._file_id,
        placements._row,
        placements._org as council_code,
        placements.placement_id,
        placements.episode_id,
        placements.child_id,
        coalesce(children.child_key, placements.child_id) as child_key,
        placements.placement_start,
        placements.placement_end,
        placements.placement_type,
        placements.legal_reason,
        children.birth_month,
        children.expected_date_of_birth,
        coalesce(children.sex, 'U') as sex

    from placements
    left join children
        on placements._org = children.council_code
        and placements.child_id = children.child_id

)

select * from placements_with_children
