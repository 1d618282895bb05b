-- The population of each area for each calendar year a period ends in, by sex and single year
-- of age, from the estimates int_area_population_years chose for its councils (none for an area
-- with no_population). Age 90 means 90 and over.

with

choices as (

    select * from {{ ref('int_area_population_years') }}
    where not no_population

),

estimates as (

    select
        council_code,
        cast(_period // 100 as integer) as estimate_year,
        sex,
        age,
        population

    from {{ ref('int_nrs__population__current') }}

),

summed as (

    select
        choices.area_type,
        choices.area_code,
        choices.population_year,
        estimates.sex,
        estimates.age,
        sum(estimates.population) as population

    from choices
    inner join estimates
        on choices.council_code = estimates.council_code
        and choices.chosen_year = estimates.estimate_year
    group by all

)

select * from summed
