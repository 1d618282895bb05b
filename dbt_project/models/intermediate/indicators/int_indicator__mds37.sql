-- MDS37 School exclusions: "sum(exclusions) / pupils * 1,000 (denominator: pupils), same total and
-- groups as MDS36."
-- Year periods only: the school year (1 August to 31 July) is the statistical year, so each pupil
-- row of fct_attendance falls in the year period starting on its school_year_start (the catalogue
-- gives year periods only, and the macro makes no month or quarter cells). Numerator
-- sum(exclusions) (incidents, not pupils), denominator the distinct pupils (child_key) of the cell:
-- a pupil in two councils' files counts once in their CPC and Scotland, with the exclusions of
-- both. indicator_values gives the rate per 1,000 pupils. n_children is left null, as the catalogue
-- gives MDS37 none: the numerator and the denominator (pupils) are what disclosure control tests.
-- Groups (multi-valued, a varchar[] named "group"): MDS36's, from int_pupil_groups: `registered`
-- when the pupil's child_key has a registration in any council open at any time in the school year
-- (opened on or before its last day and not closed on or before its first day), `looked_after`
-- likewise for a placement. A pupil in both groups counts in both; a pupil in neither is only in
-- the total.

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
        exclusions,
        "group"

    from pupil_groups

),

cells as (

    {{ indicator_cells(
        'MDS37', 'items', 'flow', breakdowns=['group'],
        numerator='sum(exclusions)',
        denominator='count(distinct child_key)',
        period_types=['year']
    ) }}

)

select * from cells
