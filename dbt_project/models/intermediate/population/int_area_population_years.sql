-- For every area and every calendar year a period ends in: which year's NRS mid-year estimate
-- its rates use (indicators.md, "Rates"). The estimate of that year where loaded, else the
-- latest earlier year loaded (flagged population_year_fallback), chosen council by council;
-- when a council of the area has no estimate for that year or before, the area has no
-- population (no_population: counts are given, rates are null).

with

population_years as (

    select distinct council_code, cast(_period // 100 as integer) as population_year
    from {{ ref('int_nrs__population__current') }}

),

wanted_years as (

    select distinct population_year as wanted_year
    from {{ ref('int_periods') }}

),

council_choices as (

    select
        councils.council_code,
        wanted_years.wanted_year,
        max(population_years.population_year) as chosen_year

    from {{ ref('ref_councils') }} as councils
    cross join wanted_years
    left join population_years
        on councils.council_code = population_years.council_code
        and population_years.population_year <= wanted_years.wanted_year
    group by councils.council_code, wanted_years.wanted_year

),

area_choices as (

    select
        area_councils.area_type,
        area_councils.area_code,
        area_councils.council_code,
        council_choices.wanted_year as population_year,
        council_choices.chosen_year

    from {{ ref('ref_area_councils') }} as area_councils
    inner join council_choices on area_councils.council_code = council_choices.council_code

)

select
    area_type,
    area_code,
    council_code,
    population_year,
    chosen_year,
    bool_or(chosen_year is null) over (partition by area_type, area_code, population_year)
        as no_population,
    -- false, not null, for an area with no population at all (no_population says so)
    coalesce(
        bool_or(chosen_year < population_year)
            over (partition by area_type, area_code, population_year),
        false
    ) as population_year_fallback

from area_choices
