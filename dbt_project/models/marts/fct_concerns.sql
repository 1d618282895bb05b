-- Child protection concerns received by social work (sw `concerns`): one row per concern, in its
-- current state, with the child's linked key and attributes.

with

concerns as (

    select * from {{ ref('int_sw__concerns__current') }}

),

children as (

    select * from {{ ref('int_children') }}

),

-- A child is the pair (council, child_id): the same reference in two councils is two children.
-- A record whose child has no `children` row keeps its own child_id as the key, with no
-- birth dates and sex U (unknown).
concerns_with_children as (

    select
        concerns._file_id,
        concerns._row,
        concerns._org as council_code,
        concerns.concern_id,
        concerns.child_id,
        coalesce(children.child_key, concerns.child_id) as child_key,
        concerns.received_date,
        concerns.source,
        concerns.outcome,
        children.birth_month,
        children.expected_date_of_birth,
        coalesce(children.sex, 'U') as sex

    from concerns
    left join children
        on concerns._org = children.council_code
        and concerns.child_id = children.child_id

)

select * from concerns_with_children
