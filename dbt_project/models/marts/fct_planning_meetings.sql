-- Child protection planning meetings (sw `cppms`): one row per meeting, in its current state, with
-- the child's linked key and attributes.

with

meetings as (

    select * from {{ ref('int_sw__cppms__current') }}

),

children as (

    select * from {{ ref('int_children') }}

),

-- A child is the pair (council, child_id): the same reference in two councils is two children.
-- A record whose child has no `children` row keeps its own child_id as the key, with no
-- birth dates and sex U (unknown).
meetings_with_children as (

    select
        meetings._file_id,
        meetings._row,
        meetings._org as council_code,
        meetings.meeting_id,
        meetings.child_id,
        coalesce(children.child_key, meetings.child_id) as child_key,
        meetings.meeting_type,
        meetings.meeting_date,
        meetings.ird_id,
        meetings.outcome,
        meetings.child_attended,
        meetings.child_views_recorded,
        meetings.parent_attended,
        children.birth_month,
        children.expected_date_of_birth,
        coalesce(children.sex, 'U') as sex

    from meetings
    left join children
        on meetings._org = children.council_code
        and meetings.child_id = children.child_id

)

select * from meetings_with_children
