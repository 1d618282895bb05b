-- MDS39 Early help before registration: "of MDS18, registrations of a child who had a
-- family_support referral, or a concern with outcome EH, on or after the date 12 months before the
-- registration date and strictly before it (linked by child key)."
-- Denominator: registrations with registration_date in the period (MDS18's count). Numerator: those
-- of them whose child (by child_key, in every council: the whole of fct_family_support and
-- fct_concerns, not only the area's councils) has a family support referral_date, or an EH
-- concern's received_date, in [registration_date - var('mds39_lookback') months,
-- registration_date): the day exactly 12 months before counts (months_before clamps 29 February to
-- 28 February), the day before it does not, and early help on the registration date itself does not.

with

registrations as (

    select * from {{ ref('fct_registrations') }}

),

family_support as (

    select * from {{ ref('fct_family_support') }}

),

concerns as (

    select * from {{ ref('fct_concerns') }}

),

-- The early help a child had, from either source, on its date.
early_help as (

    select child_key, referral_date as early_help_date
    from family_support

    union all

    select child_key, received_date as early_help_date
    from concerns
    where outcome = 'EH'

),

registrations_after_early_help as (

    select distinct
        registrations.council_code,
        registrations.registration_id

    from registrations
    inner join early_help
        on registrations.child_key = early_help.child_key
        and early_help.early_help_date
            >= {{ months_before('registrations.registration_date', var('mds39_lookback')) }}
        and early_help.early_help_date < registrations.registration_date

),

items as (

    select
        registrations.council_code,
        registrations.council_code || ':' || registrations.registration_id as item_id,
        registrations.child_key,
        registrations.registration_date as event_date,
        registrations_after_early_help.registration_id is not null as had_early_help

    from registrations
    left join registrations_after_early_help
        on registrations.council_code = registrations_after_early_help.council_code
        and registrations.registration_id = registrations_after_early_help.registration_id

)

{{ indicator_cells(
    'MDS39', 'items', 'flow',
    numerator='count(distinct case when had_early_help then item_id end)',
    denominator='count(distinct item_id)'
) }}
