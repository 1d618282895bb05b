-- MDS35 Looked-after children with three or more placements in a year: "of MDS34, children with 3
-- or more placements open at any time in the 12 months up to the period's last day (after the date
-- 12 months earlier, up to and including the last day), the one they were in when the window
-- opened included."
-- Denominator: MDS34, the distinct children (by child key) with a placement in one of the area's
-- councils open at the period's last day (started on or before it, not ended on or before it).
-- Numerator: those of them with at least var('mds35_min_placements') placements open at any time
-- in the window, counted in the whole of fct_placements by child key (placements in any council,
-- each distinct council_code:placement_id once). The window opens after the date
-- var('mds35_window') months before the period's last day (same day of the month, clamped to the
-- month's end) and runs to the last day inclusive, so a placement is in it when it started on or
-- before the last day and ended after the window's opening date (or has not ended): the placement
-- the child was in when the window opened counts; one that ended exactly on the opening date does
-- not, one ending the day after does. The window depends on the period, so this is written here
-- rather than with indicator_cells. Total only. A period is counted again only when the placements
-- in its window (or which of them are open at its last day) changed since the last build.

with

placements as (

    select * from {{ ref('fct_placements') }}

),

-- What a period's cells read: the placements open at any time in its window, with whether each is
-- open at its last day (macros/period_reuse.sql: only the periods where these changed are counted).
period_digests as (

    {{ period_digests([period_digest_rows(
        'MDS35', 'placements',
        "items.placement_start <= periods.period_end and coalesce(items.placement_end, date '9999-12-31') > "
            ~ months_before('periods.period_end', var('mds35_window')),
        "items.council_code, items.placement_id, items.child_key, "
            ~ "coalesce(items.placement_end, date '9999-12-31') > periods.period_end"
    )]) }}

),

{{ reused_cells_and_periods_to_count('MDS35') }}

-- MDS34: each child looked after in one of the area's councils at the period's last day, one row
-- per area, period (with its last day) and child.
children_looked_after as (

    {{ children_open_at_period_end(
        'placements', 'placement_start', 'placement_end', periods='periods_to_count'
    ) }}

),

-- The child's placements, in any council, open at any time in the window: started on or before
-- the period's last day and not ended on or before the date the window opens after.
placements_in_window as (

    select
        children_looked_after.area_type,
        children_looked_after.area_code,
        children_looked_after.period_type,
        children_looked_after.period_label,
        children_looked_after.child_key,
        count(distinct placements.council_code || ':' || placements.placement_id)
            as n_placements

    from children_looked_after
    inner join placements
        on placements.child_key = children_looked_after.child_key
        and placements.placement_start <= children_looked_after.period_end
        and coalesce(placements.placement_end, date '9999-12-31')
            > {{ months_before('children_looked_after.period_end', var('mds35_window')) }}
    group by
        children_looked_after.area_type,
        children_looked_after.area_code,
        children_looked_after.period_type,
        children_looked_after.period_label,
        children_looked_after.child_key

),

counted_cells as (

    select
        'MDS35' as indicator_id,
        area_type,
        area_code,
        period_type,
        period_label,
        'total' as breakdown,
        'total' as breakdown_value,
        cast(count(distinct case
            when n_placements >= {{ var('mds35_min_placements') }} then child_key
        end) as bigint) as numerator,
        cast(count(distinct child_key) as bigint) as denominator,
        cast(null as double) as median_days,
        cast(null as bigint) as n_children

    from placements_in_window
    group by area_type, area_code, period_type, period_label

)

{{ cells_with_digests() }}
