-- The pupils' groups of MDS36 and MDS37 ("breakdown: group `registered` (on the register at any
-- time in the school year), `looked_after` (looked after at any time in it); linked by CHI"): one
-- row per pupil row of fct_attendance (a pupil, in their council's file, in one school year), with
-- its sessions and exclusions and the groups it is in, worked out once here for both indicators.
-- Groups (multi-valued, a varchar[] named "group", the way indicator_cells reads a breakdown of
-- var('multi_valued_breakdowns')): `registered` when the pupil's child_key (the CHI pseudonym; a
-- pupil without a valid CHI cannot match social work records) has a registration in any council
-- open at any time in the school year, `looked_after` likewise for a placement. Open at any time in
-- the year: opened on or before its last day and not closed on or before its first day (a null
-- closing date is open). Each school year's row is judged on that year alone. A pupil in both
-- groups has both, `registered` first; a pupil in neither has an empty list.

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

-- The school years the pupil rows fall in.
school_years as (

    select distinct school_year_start, school_year_end
    from attendance

),

-- Each child key (of any council) with a registration open at any time in a school year: opened
-- on or before its last day and not closed on or before its first day. Worked out per school year
-- rather than per pupil row: a few years, not millions of rows.
registered_years as (

    select distinct
        registrations.child_key,
        school_years.school_year_start

    from registrations
    inner join school_years
        on registrations.registration_date <= school_years.school_year_end
        and coalesce(registrations.deregistration_date, date '9999-12-31')
            > school_years.school_year_start

),

-- Likewise for a placement.
looked_after_years as (

    select distinct
        placements.child_key,
        school_years.school_year_start

    from placements
    inner join school_years
        on placements.placement_start <= school_years.school_year_end
        and coalesce(placements.placement_end, date '9999-12-31')
            > school_years.school_year_start

),

-- Each pupil row with whether its child was on the register, and whether looked after, during its
-- school year: looked for by child key in every council, not only the pupil's own.
pupils_in_groups as (

    select
        attendance.council_code,
        attendance.pupil_id,
        attendance.child_key,
        attendance.school_year_start,
        attendance.school_year_end,
        attendance.sessions_possible,
        attendance.sessions_attended,
        attendance.exclusions,
        registered_years.child_key is not null as is_registered,
        looked_after_years.child_key is not null as is_looked_after

    from attendance
    left join registered_years
        on attendance.child_key = registered_years.child_key
        and attendance.school_year_start = registered_years.school_year_start
    left join looked_after_years
        on attendance.child_key = looked_after_years.child_key
        and attendance.school_year_start = looked_after_years.school_year_start

),

pupil_groups as (

    select
        council_code,
        pupil_id,
        child_key,
        school_year_start,
        school_year_end,
        sessions_possible,
        sessions_attended,
        exclusions,
        list_concat(
            case when is_registered then ['registered'] else cast([] as varchar[]) end,
            case when is_looked_after then ['looked_after'] else cast([] as varchar[]) end
        ) as "group"

    from pupils_in_groups

)

select * from pupil_groups
