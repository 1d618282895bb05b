-- MDS22 Length of registration: "`deregistration_date - registration_date` for deregistrations
-- in the period."
-- Items are MDS20's: every registration with deregistration_date in the period, each with its
-- length in days. The numerator is how many intervals the median is over; median_days is their
-- median (DuckDB's median interpolates: the mean of the two middle values for an even number).

with

registrations as (

    select * from {{ ref('fct_registrations') }}

),

items as (

    select
        council_code,
        council_code || ':' || registration_id as item_id,
        child_key,
        deregistration_date as event_date,
        deregistration_date - registration_date as days

    from registrations
    where deregistration_date is not null

)

{{ indicator_cells(
    'MDS22', 'items', 'flow',
    numerator='count(distinct item_id)',
    median_days='median(days)'
) }}
