-- Children known to social work: one row per council's `children` record, with the child's linked
-- key and the attributes the indicators read (age from the month of birth, sex).
--
-- The linked child key is the pseudonymised CHI where the child's CHI is valid (the same in every
-- partner's data, so a child links across councils and partners), else the council's own
-- reference (pseudonymised within its org, so it never collides with another council's or with a
-- CHI pseudonym). The child's own council's `children` row wins on date of birth and sex, then the
-- CHI's date part and sex digit.

with

children as (

    select * from {{ ref('int_sw__children__current') }}

),

keyed_children as (

    select
        _org as council_code,
        child_id,
        coalesce(chi_pseudonym, child_id) as child_key,
        coalesce(birth_month, chi_birth_month) as birth_month,
        expected_date_of_birth,
        -- A known sex (M or F) on the row wins; U (unknown or unborn) gives way to the CHI's.
        coalesce(
            case when sex in ('M', 'F') then sex end,
            chi_sex,
            sex,
            'U'
        ) as sex,
        ethnicity,
        disability

    from children

)

select * from keyed_children
