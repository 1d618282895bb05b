-- Inter-agency referral discussions (sw `irds`): one row per IRD and child (an IRD about siblings
-- has a row for each), in its current state, with the child's linked key and attributes.

with

irds as (

    select * from {{ ref('int_sw__irds__current') }}

),

children as (

    select * from {{ ref('int_children') }}

),

-- A child is the pair (council, child_id): the same reference in two councils is two children.
-- A record whose child has no `children` row keeps its own child_id as the key, with no
-- birth dates and sex U (unknown).
irds_with_children as (

    select
        irds._file_id,
        irds._row,
        irds._org as council_code,
        irds.ird_id,
        irds.child_id,
        coalesce(children.child_key, irds.child_id) as child_key,
        irds.concern_id,
        irds.ird_date,
        irds.police_participated,
        irds.health_participated,
        irds.social_work_participated,
        irds.outcome,
        children.birth_month,
        children.expected_date_of_birth,
        coalesce(children.sex, 'U') as sex

    from irds
    left join children
        on irds._org = children.council_code
        and irds.child_id = children.child_id

)

select * from irds_with_children
