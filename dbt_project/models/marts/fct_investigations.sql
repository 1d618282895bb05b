-- Child protection investigations (sw `investigations`): one row per investigation, in its current
-- state, with the child's linked key and attributes.

with

investigations as (

    select * from {{ ref('int_sw__investigations__current') }}

),

children as (

    select * from {{ ref('int_children') }}

),

-- A child is the pair (council, child_id): the same reference in two councils is two children.
-- A record whose child has no `children` row keeps its own child_id as the key, with no
-- birth dates and sex U (unknown).
investigations_with_children as (

    select
        investigations._file_id,
        investigations._row,
        investigations._org as council_code,
        investigations.investigation_id,
        investigations.child_id,
        coalesce(children.child_key, investigations.child_id) as child_key,
        investigations.ird_id,
        investigations.start_date,
        investigations.end_date,
        investigations.joint_interview,
        investigations.outcome,
        children.birth_month,
        children.expected_date_of_birth,
        coalesce(children.sex, 'U') as sex

    from investigations
    left join children
        on investigations._org = children.council_code
        and investigations.child_id = children.child_id

)

select * from investigations_with_children
