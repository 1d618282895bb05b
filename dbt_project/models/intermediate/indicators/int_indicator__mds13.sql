-- MDS13 Initial and pre-birth planning meetings: "sw cppms of type INI or PRE by `meeting_date`.
-- Breakdown: meeting type."
-- Every planning meeting of type INI (initial) or PRE (pre-birth) with its meeting_date in the
-- period is an item (a meeting is the council and its meeting_id: ids are unique within the
-- sending council only); review (REV) and transfer-in (TRA) meetings are left out, so the
-- meeting_type rows are INI and PRE only and add up to the total.

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
        meeting_type

    from meetings
    where meeting_type in ('INI', 'PRE')

)

{{ indicator_cells('MDS13', 'items', 'flow', breakdowns=['meeting_type']) }}
