-- MDS23 Registrations that lasted more than a year: "of MDS20, deregistered after the date 12
-- months after registration" (the 12 is var mds23_duration).
-- Items are MDS20's: every registration with deregistration_date in the period. The numerator holds
-- those deregistered strictly after months_after(registration_date, duration) (the same day of the
-- month, clamped to the month's last day: 29 February 2024 + 12 months is 28 February 2025), so a
-- registration ended exactly 12 months on is not more than a year, one ended a day later is.

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
        deregistration_date
            > {{ months_after('registration_date', var('mds23_duration')) }} as in_numerator

    from registrations
    where deregistration_date is not null

)

{{ indicator_cells(
    'MDS23', 'items', 'flow',
    numerator='count(distinct case when in_numerator then item_id end)',
    denominator='count(distinct item_id)'
) }}
