-- MDS37 School exclusions: "sum(exclusions) / pupils * 1,000 (denominator: pupils), same total and
-- groups as MDS36."
-- Year periods only: the school year (1 August to 31 July) is the statistical year, so each pupil
-- row of fct_attendance falls in the year period starting on its school_year_start; the month and
-- quarter cells the macro would also make are dropped. Numerator sum(exclusions) (incidents, not
-- pupils), denominator the distinct pupils (child_key) of the cell: a pupil in two councils' files
-- counts once in their CPC and Scotland, with the exclusions of both. indicator_values gives the
-- rate per 1,000 pupils. n_children is left null, as the catalogue gives MDS37 none: the numerator
-- and the denominator (pupils) are what disclosure control tests.
-- Groups (multi-valued, a varchar[] named "group"), as MDS36: `registered` when the pupil's
-- child_key (the CHI pseudonym; a pupil without a valid CHI cannot match social work records) has a
-- registration in any council open at any time in the school year, `looked_after` likewise for a
-- placement. Open at any time in the year: opened on or before its last day and not closed on or
-- before its first day. A pupil in both groups counts in both; a pupil in neither is only in the
-- total.

with

attendance as (

    select * from {{ ref('fct_attendance') }}

),

registrations as (

    select * from {{ ref('fct_registrations') }}

),

placements as (

    select * from {{ ref('fct_placements') }}

),

-- Pupil rows (by their own council and id) whose child was on the register during the year.
pupils_registered as (

    select distinct
        attendance.council_code,
        attendance.pupil_id,
        attendance.school_year_start

    from attendance
    inner join registrations
        on attendance.child_key = registrations.child_key
        and registrations.registration_date <= attendance.school_year_end
        and coalesce(registrations.deregistration_date, date '9999-12-31')
            > attendance.school_year_start

),

-- Pupil rows whose child was looked after during the year.
pupils_looked_after as (

    select distinct
        attendance.council_code,
        attendance.pupil_id,
        attendance.school_year_start

    from attendance
    inner join placements
        on attendance.child_key = placements.child_key
        and placements.placement_start <= attendance.school_year_end
        and coalesce(placements.placement_end, date '9999-12-31')
            > attendance.school_year_start

),

items as (

    select
        attendance.council_code,
        attendance.council_code || ':' || attendance.pupil_id as item_id,
        attendance.child_key,
        attendance.school_year_start as event_date,
        attendance.exclusions,
        list_concat(
            case when pupils_registered.pupil_id is not null
                then ['registered'] else cast([] as varchar[]) end,
            case when pupils_looked_after.pupil_id is not null
                then ['looked_after'] else cast([] as varchar[]) end
        ) as "group"

    from attendance
    left join pupils_registered
        on attendance.council_code = pupils_registered.council_code
        and attendance.pupil_id = pupils_registered.pupil_id
        and attendance.school_year_start = pupils_registered.school_year_start
    left join pupils_looked_after
        on attendance.council_code = pupils_looked_after.council_code
        and attendance.pupil_id = pupils_looked_after.pupil_id
        and attendance.school_year_start = pupils_looked_after.school_year_start

),

cells as (

    {{ indicator_cells(
        'MDS37', 'items', 'flow', breakdowns=['group'],
        numerator='sum(exclusions)',
        denominator='count(distinct child_key)'
    ) }}

)

select * from cells
where period_type = 'year'
