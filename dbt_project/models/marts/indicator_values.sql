-- The minimum dataset (interface.md, "indicator_values columns"): one row per indicator, area,
-- period and breakdown value, for every cell coverage allows and only those.
--
-- Each computable cell gets every row the catalogue lists for it (ref_indicator_rows: the total
-- unless there is none, every breakdown code, zeros included). The numerator comes from the
-- indicator's own model (int_indicator_cells); the denominator is the cell's base, or for a rate
-- on population the area's NRS population of the row's ages and sex in the calendar year the
-- period ends (the latest earlier year where that is not loaded). Values are unrounded.
--   count, distinct_children  value = numerator, no denominator
--   rate_per_1000             value = numerator / denominator * 1,000, Byar's 95% interval
--   percent                   value = numerator / denominator * 100, Wilson score interval
--   median_days               value = the median; numerator = how many intervals
-- A denominator of 0 (or no population) gives a null value and interval.

with

coverage as (

    select * from {{ ref('int_indicator_coverage') }}
    where computable

),

indicators as (

    select * from {{ ref('ref_indicators') }}

),

catalogue_rows as (

    select * from {{ ref('ref_indicator_rows') }}

),

periods as (

    select * from {{ ref('int_periods') }}

),

cells as (

    select * from {{ ref('int_indicator_cells') }}

),

population_years as (

    select distinct
        area_type,
        area_code,
        population_year,
        no_population,
        population_year_fallback

    from {{ ref('int_area_population_years') }}

),

skeleton as (

    select
        coverage.indicator_id,
        coverage.area_type,
        coverage.area_code,
        coverage.period_type,
        coverage.period_label,
        coverage.period_start,
        coverage.period_end,
        catalogue_rows.breakdown,
        catalogue_rows.breakdown_value,
        catalogue_rows.row_order,
        catalogue_rows.has_population,
        catalogue_rows.population_sex,
        catalogue_rows.population_min_age,
        catalogue_rows.population_max_age,
        indicators.unit,
        indicators.denominator_kind,
        indicators.has_interval,
        indicators.n_children is not null as counts_children,
        indicators.sort_order,
        periods.population_year,
        coverage.provisional,
        coverage.voluntary_returns,
        coverage.history_gap,
        coverage.partial_lookback

    from coverage
    inner join catalogue_rows on coverage.indicator_id = catalogue_rows.indicator_id
    inner join indicators on coverage.indicator_id = indicators.indicator_id
    inner join periods
        on coverage.period_type = periods.period_type
        and coverage.period_label = periods.period_label

),

-- The population each row of a rate is per 1,000 of.
wanted_populations as (

    select distinct
        area_type,
        area_code,
        population_year,
        population_sex,
        population_min_age,
        population_max_age

    from skeleton
    where has_population

),

populations as (

    select
        wanted_populations.area_type,
        wanted_populations.area_code,
        wanted_populations.population_year,
        wanted_populations.population_sex,
        wanted_populations.population_min_age,
        wanted_populations.population_max_age,
        sum(area_population.population) as population

    from wanted_populations
    inner join {{ ref('int_area_population') }} as area_population
        on wanted_populations.area_type = area_population.area_type
        and wanted_populations.area_code = area_population.area_code
        and wanted_populations.population_year = area_population.population_year
        and area_population.age
            between wanted_populations.population_min_age and wanted_populations.population_max_age
        and (
            wanted_populations.population_sex is null
            or area_population.sex = wanted_populations.population_sex
        )
    group by all

),

counted as (

    select
        skeleton.*,
        coalesce(cells.numerator, 0) as numerator,
        case skeleton.denominator_kind
            when 'none' then null
            when 'population' then
                case when skeleton.has_population then coalesce(populations.population, 0) end
            else coalesce(cells.denominator, 0)
        end as base,
        cells.median_days,
        case when skeleton.counts_children then coalesce(cells.n_children, 0) end as n_children,
        skeleton.denominator_kind = 'population'
            and coalesce(population_years.no_population, true) as no_population,
        skeleton.denominator_kind = 'population'
            and not coalesce(population_years.no_population, true)
            and population_years.population_year_fallback as population_year_fallback

    from skeleton
    left join cells
        on skeleton.indicator_id = cells.indicator_id
        and skeleton.area_type = cells.area_type
        and skeleton.area_code = cells.area_code
        and skeleton.period_type = cells.period_type
        and skeleton.period_label = cells.period_label
        and skeleton.breakdown = cells.breakdown
        and skeleton.breakdown_value = cells.breakdown_value
    left join populations
        on skeleton.has_population
        and skeleton.area_type = populations.area_type
        and skeleton.area_code = populations.area_code
        and skeleton.population_year = populations.population_year
        and skeleton.population_min_age = populations.population_min_age
        and skeleton.population_max_age = populations.population_max_age
        and skeleton.population_sex is not distinct from populations.population_sex
    left join population_years
        on skeleton.area_type = population_years.area_type
        and skeleton.area_code = population_years.area_code
        and skeleton.population_year = population_years.population_year

),

-- With no population loaded the rate's denominator is unknown, not 0.
denominated as (

    select
        counted.*,
        case when not counted.no_population then counted.base end as denominator

    from counted

),

valued as (

    select
        denominated.*,
        case
            when unit in ('count', 'distinct_children') then cast(numerator as double)
            when unit = 'median_days' then median_days
            when denominator > 0 and unit = 'rate_per_1000'
                then numerator / denominator * {{ var('rate_per') }}
            when denominator > 0 and unit = 'percent' then numerator / denominator * 100
        end as value,
        case
            when not has_interval or not denominator > 0 then null
            when unit = 'rate_per_1000'
                then {{ byar_lower('numerator') }} / denominator * {{ var('rate_per') }}
            when unit = 'percent' then {{ wilson_lower('numerator', 'denominator') }}
        end as ci_lower,
        case
            when not has_interval or not denominator > 0 then null
            when unit = 'rate_per_1000'
                then {{ byar_upper('numerator') }} / denominator * {{ var('rate_per') }}
            when unit = 'percent' then {{ wilson_upper('numerator', 'denominator') }}
        end as ci_upper

    from denominated

),

final_rows as (

    select
        sort_order,
        row_order,
        indicator_id,
        area_code,
        area_type,
        period_type,
        period_label,
        period_start,
        period_end,
        breakdown,
        breakdown_value,
        numerator,
        cast(denominator as bigint) as denominator,
        value,
        ci_lower,
        ci_upper,
        unit,
        n_children,
        provisional,
        list_filter(
            [
                case when voluntary_returns then 'voluntary_returns' end,
                case when history_gap then 'history_gap' end,
                case when partial_lookback then 'partial_lookback' end,
                case when population_year_fallback then 'population_year_fallback' end,
                case when no_population then 'no_population' end
            ],
            lambda flag: flag is not null
        ) as flags,
        '{{ env_var("CPMDS_RUN_ID", "manual") }}' as run_id

    from valued

)

select * exclude (sort_order, row_order)
from final_rows
order by sort_order, area_type, area_code, period_type, period_start, row_order
