-- MDS17 Planning meetings attended by a parent or carer: "of all cppms in the period,
-- `parent_attended` = Y."
-- Items are planning meetings of every type (INI, PRE, REV, TRA) with meeting_date in the period;
-- the numerator holds those with parent_attended = Y (blank, null, is not Y).

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
        coalesce(parent_attended, false) as in_numerator

    from meetings

)

{{ indicator_cells(
    'MDS17', 'items', 'flow',
    numerator='count(distinct case when in_numerator then item_id end)',
    denominator='count(distinct item_id)'
) }}
