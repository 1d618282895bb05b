-- Police child concern reports (police `concern_reports`): one row per report, in its current state,
-- in the council where the child lives. A report without a valid CHI is a child of its own.

with

reports as (

    select * from {{ ref('int_police__concern_reports__current') }}

),

concern_reports as (

    select
        _file_id,
        _row,
        council_code,
        report_id,
        coalesce(chi_pseudonym, report_id) as child_key,
        report_date,
        coalesce(birth_month, chi_birth_month) as birth_month,
        -- A known sex (M or F) on the row wins; U or blank gives way to the CHI's.
        coalesce(nullif(sex, 'U'), chi_sex, sex, 'U') as sex,
        concern_types,
        shared_with_sw

    from reports

)

select * from concern_reports
