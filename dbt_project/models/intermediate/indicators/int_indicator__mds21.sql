-- MDS21 Re-registrations within 18 months: "of MDS18, registrations of a child who had a
-- deregistration (in any council, by child key) on or after the date 18 months before the
-- registration and strictly before it. A deregistration for a transfer to another Scottish
-- council (reason TO) does not count. The 18 is a parameter" (var mds21_lookback).
-- Items are MDS18's: every registration with registration_date in the period. The numerator holds
-- those whose child (child_key) has, anywhere in fct_registrations (every council, not only the
-- area's), a deregistration with a reason other than TO dated on or after months_before(
-- registration_date, lookback) (the same day of the month, clamped to the month's last day: a
-- registration on 31 August 2024 looks back to 28 February 2023) and strictly before the
-- registration date (a deregistration on the registration's own date does not count). A
-- deregistration with no reason (which the contract does not allow) is not TO, so it counts.

with

registrations as (

    select * from {{ ref('fct_registrations') }}

),

-- Every deregistration that can make a later registration a re-registration.
deregistrations as (

    select
        child_key,
        deregistration_date

    from registrations
    where deregistration_date is not null
        and deregistration_reason is distinct from 'TO'

),

items as (

    select
        registrations.council_code,
        registrations.council_code || ':' || registrations.registration_id as item_id,
        registrations.child_key,
        registrations.registration_date as event_date,
        exists (
            select 1
            from deregistrations
            where deregistrations.child_key = registrations.child_key
                and deregistrations.deregistration_date
                    >= {{ months_before('registrations.registration_date', var('mds21_lookback')) }}
                and deregistrations.deregistration_date < registrations.registration_date
        ) as in_numerator

    from registrations

)

{{ indicator_cells(
    'MDS21', 'items', 'flow',
    numerator='count(distinct case when in_numerator then item_id end)',
    denominator='count(distinct item_id)'
) }}
