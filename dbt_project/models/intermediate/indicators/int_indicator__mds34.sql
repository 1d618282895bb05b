-- MDS34 Children looked after: "children with a placement open at the period's last day.
-- Breakdown: placement type."
-- A placement is open at the last day when it started on or before it and did not end on or before
-- it (a placement ending ON the last day is not open; one starting on it is; a baseline placement
-- from before the data began with no end is open). The numerator is the distinct children (linked
-- child key) with such a placement in one of the area's councils; in the placement type breakdown a
-- child counts under the type of each placement open at the last day (two open placements of
-- different types: once under each). The count is the numerator; indicator_values adds the
-- population and the rate.

with

placements as (

    select * from {{ ref('fct_placements') }}

),

items as (

    select
        council_code,
        council_code || ':' || placement_id as item_id,
        child_key,
        placement_start as opened_on,
        placement_end as closed_on,
        placement_type

    from placements

)

{{ indicator_cells(
    'MDS34', 'items', 'stock', breakdowns=['placement_type'],
    numerator='count(distinct child_key)'
) }}
