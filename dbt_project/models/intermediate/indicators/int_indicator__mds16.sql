-- MDS16 Planning meetings with the child's views recorded: "of all cppms in the period for
-- children aged 5 or over at the meeting, `child_views_recorded` = Y (blank is not Y)."
-- Items are planning meetings of every type with meeting_date in the period about a child aged at
-- least var mds16_min_age on the meeting date: whole years from the month of birth, the child
-- taken as born on its first day (age_in_years), so a child born in June 2019 is 5 at a meeting on
-- 1 June 2024 and 4 at one on 31 May 2024. A child with no known month of birth (unborn, or not
-- known) cannot be placed against the limit and is left out. The numerator holds the items with
-- child_views_recorded = Y; blank (null) and N are not Y.

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
        coalesce(child_views_recorded, false) as in_numerator

    from meetings
    -- a null birth month gives a null age, which is left out
    where {{ age_in_years('birth_month', 'meeting_date') }} >= {{ var('mds16_min_age') }}

)

{{ indicator_cells(
    'MDS16', 'items', 'flow',
    numerator='count(distinct case when in_numerator then item_id end)',
    denominator='count(distinct item_id)'
) }}
