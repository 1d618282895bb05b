-- MDS40 IRDs followed by registration within 90 days: "of MDS05, IRDs whose child was registered on
-- or after the IRD date and at most 90 days after it (in any council)."
-- Denominator: distinct IRDs (council_code:ird_id) with ird_date in the period (MDS05's count).
-- Numerator: those with a child discussed (fct_irds has a row per IRD and child) who has a
-- registration, by child_key in any council (the whole of fct_registrations), with
-- registration_date from the ird_date (same day counts) to ird_date + var('mds40_window') days
-- inclusive (day 90 counts, day 91 does not). A registration before the IRD does not count, even if
-- still open. An IRD about siblings counts once, whichever of them (or both) was registered.
-- Provisional periods are flagged by indicator_values, not here.

with

irds as (

    select * from {{ ref('fct_irds') }}

),

registrations as (

    select * from {{ ref('fct_registrations') }}

),

-- The IRD rows (one per child discussed) whose child was registered in the window.
ird_children_registered as (

    select distinct
        irds.council_code,
        irds.ird_id,
        irds.child_key

    from irds
    inner join registrations
        on irds.child_key = registrations.child_key
        and registrations.registration_date >= irds.ird_date
        and registrations.registration_date
            <= {{ days_after('irds.ird_date', var('mds40_window')) }}

),

items as (

    select
        irds.council_code,
        irds.council_code || ':' || irds.ird_id as item_id,
        irds.child_key,
        irds.ird_date as event_date,
        ird_children_registered.ird_id is not null as followed_by_registration

    from irds
    left join ird_children_registered
        on irds.council_code = ird_children_registered.council_code
        and irds.ird_id = ird_children_registered.ird_id
        and irds.child_key = ird_children_registered.child_key

)

{{ indicator_cells(
    'MDS40', 'items', 'flow',
    numerator='count(distinct case when followed_by_registration then item_id end)',
    denominator='count(distinct item_id)'
) }}
