-- MDS20 Deregistrations: "sw registrations by `deregistration_date`. Breakdown: reason."
-- Every registration with its deregistration_date in the period is an item (a registration is the
-- council and its registration_id), counted in total and under its deregistration_reason; open
-- registrations (no deregistration_date) are in no period.

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
        deregistration_reason as reason

    from registrations
    where deregistration_date is not null

)

{{ indicator_cells('MDS20', 'items', 'flow', breakdowns=['reason']) }}
