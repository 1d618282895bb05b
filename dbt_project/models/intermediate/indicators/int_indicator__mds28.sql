-- MDS28 Recorded crimes against children: "police offences by `recorded_date`. Breakdown: offence
-- group."
-- One item per crime and child victim (a row of fct_offences), by recorded_date (first and last
-- day of the period inclusive), in the crime's council_code: a crime against two children counts
-- twice. The count is the numerator; indicator_values adds the population and the rate.

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
        offence_group

    from offences

)

{{ indicator_cells('MDS28', 'items', 'flow', breakdowns=['offence_group']) }}
