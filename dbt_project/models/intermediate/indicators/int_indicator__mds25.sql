-- MDS25 Children on the register who are looked after: "of MDS19, children with a placement open
-- at the period's last day."
-- Denominator: MDS19, the distinct children (by child key) with a registration in one of the
-- area's councils open at the period's last day (registered on or before it and not deregistered
-- on or before it; a baseline registration from before the data began, never deregistered, is
-- open). Numerator: those of them with a placement open at the same day (started on or before it
-- and not ended on or before it: a placement ending ON the last day is not open, one starting on
-- it is), looked for in the whole of fct_placements by child key (a placement in any council, not
-- only the area's). The numerator depends on the period's last day, so it is written here rather
-- than with indicator_cells. Total only. A period is counted again only when the registrations or
-- placements open at its last day changed since the last build.

with

registrations as (

    select * from {{ ref('fct_registrations') }}

),

placements as (

    select * from {{ ref('fct_placements') }}

),

-- What a period's cells read: the registrations and the placements open at its last day
-- (macros/period_reuse.sql: only the periods where these changed are counted).
period_digests as (

    {{ period_digests([
        period_digest_rows(
            'MDS25', 'registrations',
            "items.registration_date <= periods.period_end and coalesce(items.deregistration_date, date '9999-12-31') > periods.period_end",
            'items.council_code, items.child_key', tag='registrations'
        ),
        period_digest_rows(
            'MDS25', 'placements',
            "items.placement_start <= periods.period_end and coalesce(items.placement_end, date '9999-12-31') > periods.period_end",
            'items.child_key', tag='placements'
        )
    ]) }}

),

{{ reused_cells_and_periods_to_count('MDS25') }}

-- MDS19: each child on the register of one of the area's councils at the period's last day, one
-- row per area, period (with its last day) and child.
children_on_register as (

    {{ children_open_at_period_end(
        'registrations', 'registration_date', 'deregistration_date', periods='periods_to_count'
    ) }}

),

-- Whether the child has a placement, in any council, open at the period's last day.
children_looked_after as (

    select
        children_on_register.*,
        exists (
            select 1
            from placements
            where placements.child_key = children_on_register.child_key
                and placements.placement_start <= children_on_register.period_end
                and coalesce(placements.placement_end, date '9999-12-31')
                    > children_on_register.period_end
        ) as is_looked_after

    from children_on_register

),

counted_cells as (

    select
        'MDS25' as indicator_id,
        area_type,
        area_code,
        period_type,
        period_label,
        'total' as breakdown,
        'total' as breakdown_value,
        cast(count(distinct case when is_looked_after then child_key end) as bigint) as numerator,
        cast(count(distinct child_key) as bigint) as denominator,
        cast(null as double) as median_days,
        cast(null as bigint) as n_children

    from children_looked_after
    group by area_type, area_code, period_type, period_label

)

{{ cells_with_digests() }}
