{#
    The columns together are the model's primary key: never null, never repeated. Returns the
    offending key values with how often each occurs.
    Example: `primary_key: {arguments: {columns: [_file_id, registration_id]}}`.
    Keys are first grouped by a 64-bit hash, much cheaper to group than the keys themselves on
    millions of rows; only the rows of a repeated hash (or with a null) are grouped by their keys,
    so a hash shared by two different keys is never taken for a repeat.
#}
{% test primary_key(model, columns) %}

{%- set key_columns = columns | join(', ') %}
{%- set any_null = columns | join(' is null or ') ~ ' is null' %}

with

keys as (

    select
        {{ key_columns }},
        hash({{ key_columns }}) as key_hash
    from {{ model }}

),

repeated_hashes as (

    select key_hash
    from keys
    group by key_hash
    having count(*) > 1

),

candidates as (

    select * exclude (key_hash)
    from keys
    where key_hash in (select key_hash from repeated_hashes)
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
