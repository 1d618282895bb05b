-- MDS36 School attendance: "sum(sessions_attended) / sum(sessions_possible) * 100 over the area's
-- pupils (the total row). Breakdown: group `registered` (on the register at any time in the school
-- year), `looked_after` (looked after at any time in it); linked by CHI. Disclosure control counts
-- pupils (`n_children`), not sessions."
-- Year periods only: the school year (1 August to 31 July) is the statistical year, so each pupil
-- row of fct_attendance falls in the year period starting on its school_year_start (the catalogue
-- gives year periods only, and the macro makes no month or quarter cells). Numerator
-- sum(sessions_attended), denominator sum(sessions_possible), n_children the distinct pupils
-- (child_key) of the cell: a
-- pupil in two councils' files counts once in their CPC and Scotland, with the sessions of both.
-- Groups (multi-valued, a varchar[] named "group"): int_pupil_groups, shared with MDS37, gives each
-- pupil row its groups: `registered` when the pupil's child_key has a registration in any council
-- open at any time in the school year (opened on or before its last day and not closed on or before
-- its first day), `looked_after` likewise for a placement. A pupil in both groups counts in both; a
-- pupil in neither is only in the total.

with

pupil_groups as (

    select * from {{ ref('int_pupil_groups') }}

),

-- One item per pupil row, in its own council's areas, dated by its school year's first day.
items as (

    select
        council_code,
        council_code || ':' || pupil_id as item_id,
        child_key,
        school_year_start as event_date,
        sessions_possible,
        sessions_attended,
        "group"

    from pupil_groups

),

cells as (

    {{ indicator_cells(
        'MDS36', 'items', 'flow', breakdowns=['group'],
        numerator='sum(sessions_attended)',
        denominator='sum(sessions_possible)',
        n_children='count(distinct child_key)',
        period_types=['year']
    ) }}

)

select * from cells
