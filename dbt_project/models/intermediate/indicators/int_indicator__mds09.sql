-- MDS09 Repeat IRDs: of MDS06 (children with an sw IRD in the period), children whose first IRD in
-- the period had another IRD for the same child in the {{ var('mds09_lookback') }} calendar months
-- before it (on or after the date {{ var('mds09_lookback') }} months earlier, strictly before it).
-- Numerator and denominator are children (by linked child key), de-duplicated within each area.
-- The rule depends on the period itself, so it is written here rather than with indicator_cells
-- (a period is counted again only when the IRDs in it or in its look-back changed since the last
-- build):
--   * a child's first IRD in the period is taken within each area (the earliest `ird_date` among
--     the area's councils' IRDs of that child in the period), so a child's first IRD in a council
--     can be later than their first for the CPC or Scotland;
--   * the earlier IRD is looked for in the whole of fct_irds by child key (every council; social
--     work IRDs only), from the date var('mds09_lookback') months before the first IRD (the same
--     day of the month, clamped to the month's end: 29 February 2024 looks back to 28 February
--     2023) inclusive, to the day before it: another IRD on the same day does not count, and the
--     child's later IRDs in the period are not looked at.

with

irds as (

    select * from {{ ref('fct_irds') }}

),

area_councils as (

    select * from {{ ref('ref_area_councils') }}

),

-- What a period's cells read: the IRDs in it or in the look-back before it (macros/period_reuse.sql:
-- only the periods where these changed are counted).
period_digests as (

    {{ period_digests([period_digest_rows(
        'MDS09', 'irds',
        'items.ird_date between '
            ~ months_before('periods.period_start', var('mds09_lookback'))
            ~ ' and periods.period_end',
        'items.council_code, items.child_key, items.ird_date'
    )]) }}

),

{{ reused_cells_and_periods_to_count('MDS09') }}

-- Each child with an IRD in the period, per area and period, with the date of their first.
first_irds as (

    select
        area_councils.area_type,
        area_councils.area_code,
        periods.period_type,
        periods.period_label,
        irds.child_key,
        min(irds.ird_date) as first_ird_date

    from irds
    inner join area_councils
        on irds.council_code = area_councils.council_code
    inner join periods_to_count as periods
        on irds.ird_date between periods.period_start and periods.period_end
    group by
        area_councils.area_type,
        area_councils.area_code,
        periods.period_type,
        periods.period_label,
        irds.child_key

),

-- Whether the same child had another IRD, in any council, in the look-back before the first.
children_with_repeats as (

    select
        first_irds.*,
        exists (
            select 1
            from irds as earlier_irds
            where earlier_irds.child_key = first_irds.child_key
                and earlier_irds.ird_date
                    >= {{ months_before('first_irds.first_ird_date', var('mds09_lookback')) }}
                and earlier_irds.ird_date < first_irds.first_ird_date
        ) as is_repeat

    from first_irds

),

counted_cells as (

    select
        'MDS09' as indicator_id,
        area_type,
        area_code,
        period_type,
        period_label,
        'total' as breakdown,
        'total' as breakdown_value,
        cast(count(distinct case when is_repeat then child_key end) as bigint) as numerator,
        cast(count(distinct child_key) as bigint) as denominator,
        cast(null as double) as median_days,
        cast(null as bigint) as n_children

    from children_with_repeats
    group by area_type, area_code, period_type, period_label

)

{{ cells_with_digests() }}
