-- MDS14 Initial meetings within 28 days of the IRD: "of INI meetings in the period whose `ird_id`
-- matches an IRD of that council, `meeting_date - ird_date` <= 28 days. Unmatched meetings are
-- left out and counted in the quality report. The 28 is a parameter" (var mds14_max_interval).
-- Items are the INI meetings with meeting_date in the period whose ird_id is an IRD sent by the
-- same council (ird ids are unique within the sending council only, so an IRD of another council
-- with an equal id does not match); a meeting with no ird_id, or one its council did not send, is
-- in neither the numerator nor the denominator. An IRD about siblings has a row per child in
-- fct_irds; it is one IRD with one date (the earliest of its rows, should they disagree), so the
-- meeting is matched once, whichever child the meeting is about. The numerator holds the items with
-- meeting_date - ird_date at most the parameter (days; a meeting on the IRD's date or, by the
-- definition's wording, before it is within).

with

meetings as (

    select * from {{ ref('fct_planning_meetings') }}

),

irds as (

    select * from {{ ref('fct_irds') }}

),

-- One row per IRD (the council and its id), however many children it discussed.
ird_dates as (

    select
        council_code,
        ird_id,
        min(ird_date) as ird_date

    from irds
    group by council_code, ird_id

),

items as (

    select
        meetings.council_code,
        meetings.council_code || ':' || meetings.meeting_id as item_id,
        meetings.child_key,
        meetings.meeting_date as event_date,
        meetings.meeting_date - ird_dates.ird_date
            <= {{ var('mds14_max_interval') }} as in_numerator

    from meetings
    inner join ird_dates
        on meetings.council_code = ird_dates.council_code
        and meetings.ird_id = ird_dates.ird_id
    where meetings.meeting_type = 'INI'

)

{{ indicator_cells(
    'MDS14', 'items', 'flow',
    numerator='count(distinct case when in_numerator then item_id end)',
    denominator='count(distinct item_id)'
) }}
