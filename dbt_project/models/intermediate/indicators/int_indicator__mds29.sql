-- MDS29 Crimes against children reported to the Procurator Fiscal: "of MDS28, `reported_to_pf` = Y."
-- Denominator: MDS28's items, one per crime and child victim recorded (recorded_date) in the
-- period. Numerator: those with reported_to_pf true; false or blank (null) is not Y. Total only
-- (the catalogue gives MDS29 no breakdown).

with

offences as (

    select * from {{ ref('fct_offences') }}

),

items as (

    select
        council_code,
        crime_id || '#' || cast(victim_no as varchar) as item_id,
        child_key,
        recorded_date as event_date,
        coalesce(reported_to_pf, false) as is_reported_to_pf

    from offences

)

{{ indicator_cells(
    'MDS29', 'items', 'flow',
    numerator='count(distinct case when is_reported_to_pf then item_id end)',
    denominator='count(distinct item_id)'
) }}
