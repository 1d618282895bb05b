-- MDS19 Children on the register: children with a registration open at the period's last day
-- (registered on or before it, not deregistered on or before it), each once in an area however
-- many registrations they have in its councils. Breakdowns: age band (at the period's last day),
-- sex.

with

registrations as (

    select * from {{ ref('fct_registrations') }}

),

items as (

    select
        council_code,
        child_key as item_id,
        child_key,
        registration_date as opened_on,
        deregistration_date as closed_on,
        birth_month,
        expected_date_of_birth,
        sex

    from registrations

)

{{ indicator_cells(
    'MDS19', 'items', 'stock', breakdowns=['age_band', 'sex'],
    numerator='count(distinct child_key)'
) }}
