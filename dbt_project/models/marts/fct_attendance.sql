-- School attendance and exclusions (education `attendance`): one row per pupil and school year, as
-- the council's annual file for that year gives them. Period YYYY07 is the school year 1 August
-- YYYY-1 to 31 July YYYY. A pupil without a valid CHI is a child of their own.
--
-- Incremental: each row is its current row's projection and nothing else, and a file's row never
-- changes once staged, so a build that starts from the last published one (cpmds.pipeline.incremental)
-- keeps the rows whose current row (_file_id, _row) is still current, deletes the others first
-- (macros/incremental.sql) and adds only the current rows it does not hold yet. A build from
-- nothing projects every current row.
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_rows_no_longer_current('int_education__attendance__current') }}"
    )
}}

with

attendance as (

    select * from {{ ref('int_education__attendance__current') }}

),
{% if is_incremental() %}

kept as (

    select _file_id, _row from {{ this }}

),

attendance_not_kept as (

    select attendance.*
    from attendance
    anti join kept using (_file_id, _row)

),
{% endif %}

attendance_with_years as (

    select
        *,
        _period // 100 as school_year_end_year

    from {% if is_incremental() %}attendance_not_kept{% else %}attendance{% endif %}

),

pupil_years as (

    select
        _file_id,
        _row,
        _org as council_code,
        pupil_id,
        coalesce(chi_pseudonym, pupil_id) as child_key,
        make_date(school_year_end_year - 1, 8, 1) as school_year_start,
        make_date(school_year_end_year, 7, 31) as school_year_end,
        cast(school_year_end_year - 1 as varchar)
            || '/'
            || lpad(cast(school_year_end_year % 100 as varchar), 2, '0') as school_year_label,
        sessions_possible,
        sessions_attended,
        exclusions

    from attendance_with_years

)

select * from pupil_years
