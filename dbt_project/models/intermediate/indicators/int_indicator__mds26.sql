-- MDS26 Children with sexual exploitation as a concern: "sw registrations (by `registration_date`)
-- with concern CSE, plus police concern_reports (by `report_date`) with type CSE; each child once."
-- Items: registrations whose concerns include CSE, dated by registration_date, in the council that
-- sent them; police concern reports whose concern_types include CSE, dated by report_date, in their
-- council_code. The numerator is the distinct children (linked child key) of the area's items in
-- the period: a child with a CSE registration and a CSE police report (the same child key, i.e. a
-- valid CHI on both) counts once; a police report without a valid CHI is a child of its own (its
-- child key is the report's id), so it cannot match a registration. A count of children, no
-- denominator.

with

registrations as (

    select * from {{ ref('fct_registrations') }}

),

concern_reports as (

    select * from {{ ref('fct_police_concern_reports') }}

),

items as (

    select
        council_code,
        'sw:' || council_code || ':' || registration_id as item_id,
        child_key,
        registration_date as event_date

    from registrations
    where list_contains(concerns, 'CSE')

    union all

    select
        council_code,
        'police:' || report_id as item_id,
        child_key,
        report_date as event_date

    from concern_reports
    where list_contains(concern_types, 'CSE')

)

{{ indicator_cells('MDS26', 'items', 'flow', numerator='count(distinct child_key)') }}
