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

    select
        *,
        coalesce(chi_pseudonym, child_id) as child_key

    from {{ ref('int_sw__children__current') }}

),

-- The child's latest children row, in whichever council sent it.
own_rows as (

    select
        child_key,
        birth_month,
        expected_date_of_birth,
        sex

    from children
    qualify row_number() over (
        partition by child_key
        order by _period desc, _submission desc, _file_id desc, _row desc
    ) = 1

),

keyed_children as (

    select
        children._org as council_code,
        children.child_id,
        children.child_key,
        coalesce(own_rows.birth_month, children.chi_birth_month) as birth_month,
        own_rows.expected_date_of_birth,
        -- A known sex (M or F) wins; U (unknown or unborn) gives way to the CHI's.
        coalesce(
            case when own_rows.sex in ('M', 'F') then own_rows.sex end,
            children.chi_sex,
            own_rows.sex,
            'U'
        ) as sex,
        children.ethnicity,
        children.disability

    from children
    inner join own_rows on children.child_key = own_rows.child_key

)

select * from keyed_children
