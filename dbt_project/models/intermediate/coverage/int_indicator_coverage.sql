-- Which cells (indicator, area, period) can be computed, and the flags and provisional status
-- coverage gives them (indicators.md, "Periods").
--
-- A cell is computed only when, for every council of the area, the sender it expects for each
-- dataset the indicator reads covers every month of the period. Voluntary and reference inputs
-- are never expected. A computed cell may still carry:
--   history_gap       (stock indicators and those that flag it) a month between the expected
--                     sender's first file and the period is not covered;
--   partial_lookback  (indicators that look back) the look-back window starts before the
--                     expected sender's first file;
--   voluntary_returns (indicators reading third-sector data) always;
-- and is provisional while its outcome window is not over (MDS40: the earliest, over the area's
-- councils, of the latest month their watermark dataset covers ends less than N days after the
-- period's last day).

with

indicators as (

    select * from {{ ref('ref_indicators') }}

),

indicator_periods as (

    select
        periods.*,
        indicator_period_types.indicator_id

    from {{ ref('ref_indicator_period_types') }} as indicator_period_types
    inner join {{ ref('int_periods') }} as periods
        on indicator_period_types.period_type = periods.period_type

),

expected_inputs as (

    select indicator_id, dataset
    from {{ ref('ref_indicator_inputs') }}
    where coverage = 'expected'

),

area_councils as (

    select * from {{ ref('ref_area_councils') }}

),

council_months as (

    select * from {{ ref('int_council_coverage') }}

),

-- Per council, expected dataset and period: whether every month of the period is covered.
council_periods as (

    select
        council_months.council_code,
        council_months.dataset,
        periods.period_type,
        periods.period_label,
        count(*) filter (where council_months.covered) = max(periods.months_in_period)
            as every_month_covered

    from council_months
    inner join {{ ref('int_periods') }} as periods
        on council_months.month between periods.period_start and periods.period_end
    group by all

),

-- Per council and expected dataset: the expected sender's first and latest covered months and
-- its first uncovered month after the first (a gap in its history).
council_history as (

    select
        council_code,
        dataset,
        min(first_month) as first_month,
        max(last_month) as last_month,
        min(month) filter (where not covered and month > first_month) as first_gap_month

    from council_months
    group by council_code, dataset

),

cells as (

    select
        indicator_periods.indicator_id,
        areas.area_type,
        areas.area_code,
        indicator_periods.period_type,
        indicator_periods.period_label,
        indicator_periods.period_start,
        indicator_periods.period_end

    from indicator_periods
    cross join {{ ref('ref_areas') }} as areas

),

checks as (

    select
        cells.indicator_id,
        cells.area_type,
        cells.area_code,
        cells.period_type,
        cells.period_label,
        bool_and(coalesce(council_periods.every_month_covered, false)) as every_month_covered,
        coalesce(bool_or(council_history.first_gap_month < cells.period_start), false)
            as earlier_month_missing,
        max(council_history.first_month) as latest_first_month

    from cells
    inner join expected_inputs on cells.indicator_id = expected_inputs.indicator_id
    inner join area_councils
        on cells.area_type = area_councils.area_type
        and cells.area_code = area_councils.area_code
    left join council_periods
        on area_councils.council_code = council_periods.council_code
        and expected_inputs.dataset = council_periods.dataset
        and cells.period_type = council_periods.period_type
        and cells.period_label = council_periods.period_label
    left join council_history
        on area_councils.council_code = council_history.council_code
        and expected_inputs.dataset = council_history.dataset
    group by all

),

watermarks as (

    select
        area_councils.area_type,
        area_councils.area_code,
        council_history.dataset,
        -- the earliest, over the area's councils, of the latest month each covers (a council
        -- that never sent it has none, so the whole area waits)
        min(coalesce(council_history.last_month, date '0001-01-01')) as watermark_month

    from area_councils
    inner join council_history on area_councils.council_code = council_history.council_code
    group by all

),

flagged as (

    select
        cells.indicator_id,
        cells.area_type,
        cells.area_code,
        cells.period_type,
        cells.period_label,
        cells.period_start,
        cells.period_end,
        (indicators.kind = 'stock' or list_contains({{ split_list('indicators.flags') }}, 'history_gap'))
            and coalesce(checks.earlier_month_missing, false) as history_gap,
        -- false, not null, when no expected sender has sent anything (the cell is not computable)
        coalesce(
            indicators.lookback_months is not null
                and checks.latest_first_month > case indicators.lookback_from
                    when 'period_end' then {{ days_after(months_before('cells.period_end', 'indicators.lookback_months'), 1) }}
                    else {{ months_before('cells.period_start', 'indicators.lookback_months') }}
                end,
            false
        ) as partial_lookback,
        -- the flag list's exact item (false, not null, for an indicator with no flags)
        list_contains({{ split_list('indicators.flags') }}, 'voluntary_returns') as voluntary_returns,
        indicators.provisional_watermark is not null
            and coalesce(
                cast(last_day(watermarks.watermark_month) as date)
                    < {{ days_after('cells.period_end', 'indicators.provisional_days') }},
                true
            ) as provisional,
        -- no expected input at all (third-sector only): nothing to wait for
        coalesce(checks.every_month_covered, checks.indicator_id is null) as computable

    from cells
    inner join indicators on cells.indicator_id = indicators.indicator_id
    left join checks
        on cells.indicator_id = checks.indicator_id
        and cells.area_type = checks.area_type
        and cells.area_code = checks.area_code
        and cells.period_type = checks.period_type
        and cells.period_label = checks.period_label
    left join watermarks
        on cells.area_type = watermarks.area_type
        and cells.area_code = watermarks.area_code
        and indicators.provisional_watermark = watermarks.dataset

)

select * from flagged
