{#
    The columns together are the model's primary key: never null, never repeated. Returns the
    offending key values with how often each occurs.
    Example: `primary_key: {arguments: {columns: [_file_id, registration_id]}}`.
    Keys are first grouped by a 64-bit hash, much cheaper to group than the keys themselves on
    millions of rows; only the rows of a repeated hash (or with a null) are grouped by their keys,
    so a hash shared by two different keys is never taken for a repeat.
#}
{% test primary_key(model, columns) %}

{%- set any_null = columns | join(' is null or ') ~ ' is null' %}

with

keys as (

    select {{ columns | join(', ') }}
    from {{ model }}

),

repeated_hashes as (

    select hash({{ columns | join(', ') }}) as key_hash
    from keys
    group by key_hash
    having count(*) > 1

),

candidates as (

    select *
    from keys
    where hash({{ columns | join(', ') }}) in (select key_hash from repeated_hashes)
        or {{ any_null }}

),

offending as (

    select
        *,
        count(*) as occurrences
    from candidates
    group by all
    having count(*) > 1 or {{ any_null }}

)

select * from offending

{% endtest %}
