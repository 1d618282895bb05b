-- The child protection register (sw `registrations`): one row per registration, in its current
-- state, with the child's linked key and attributes.

with

registrations as (

    select * from {{ ref('int_sw__registrations__current') }}

),

children as (

    select * from {{ ref('int_children') }}

),

-- A child is the pair (council, child_id): the same reference in two councils is two children.
-- A record whose child has no `children` row keeps its own child_id as the key, with no
-- birth dates and sex U (unknown).
registrations_with_children as (

    select
        registrations._file_id,
        registrations._row,
        registrations._org as council_code,
        registrations.registration_id,
        registrations.child_id,
        coalesce(children.child_key, registrations.child_id) as child_key,
        registrations.registration_date,
        registrations.deregistration_date,
        registrations.deregistration_reason,
        registrations.concerns,
        children.birth_month,
        children.expected_date_of_birth,
        coalesce(children.sex, 'U') as sex

    from registrations
    left join children
        on registrations._org = children.council_code
        and registrations.child_id = children.child_id

)

select * from registrations_with_children
