-- MDS15 Initial and pre-birth meetings leading to registration: "of MDS13, `outcome` = REG."
-- The items are MDS13's (planning meetings of type INI or PRE with meeting_date in the period;
-- review and transfer-in meetings are left out); the numerator holds those with outcome REG, the
-- denominator all of them.

with

meetings as (

    select * from {{ ref('fct_planning_meetings') }}

),

items as (

    select
        council_code,
        council_code || ':' || meeting_id as item_id,
        child_key,
        meeting_date as event_date,
        coalesce(outcome = 'REG', false) as in_numerator

    from meetings
    where meeting_type in ('INI', 'PRE')

)

{{ indicator_cells(
    'MDS15', 'items', 'flow',
    numerator='count(distinct case when in_numerator then item_id end)',
    denominator='count(distinct item_id)'
) }}
