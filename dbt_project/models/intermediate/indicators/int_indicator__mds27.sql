-- MDS27 Children with trafficking as a concern: "as MDS26 with TRF, plus police offences of group
-- TRF by `recorded_date` (victim)."
-- Items: registrations whose concerns include TRF (by registration_date, in the council that sent
-- them); police concern reports whose concern_types include TRF (by report_date, in their
-- council_code); and the child victims of crimes of offence group TRF (one row per crime and
-- victim, by recorded_date, in the crime's council_code). The numerator is the distinct children
-- (linked child key) of the area's items in the period: a child found in more than one source with
-- the same child key (a valid CHI) counts once; a police record without a valid CHI is a child of
-- its own (its child key is the report's id, or the crime's id and victim number). A count of
-- children, no denominator.

with

registrations as (

    select * from {{ ref('fct_registrations') }}

),

concern_reports as (

    select * from {{ ref('fct_police_concern_reports') }}

),

offences as (

    select * from {{ ref('fct_offences') }}

),

items as (

    select
        council_code,
        'sw:' || council_code || ':' || registration_id as item_id,
        child_key,
        registration_date as event_date

    from registrations
    where list_contains(concerns, 'TRF')

    union all

    select
        council_code,
        'police:' || report_id as item_id,
        child_key,
        report_date as event_date

    from concern_reports
    where list_contains(concern_types, 'TRF')

    union all

    select
        council_code,
        'offence:' || crime_id || '#' || cast(victim_no as varchar) as item_id,
        child_key,
        recorded_date as event_date

    from offences
    where offence_group = 'TRF'

)

{{ indicator_cells('MDS27', 'items', 'flow', numerator='count(distinct child_key)') }}
