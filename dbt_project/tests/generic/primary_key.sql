{#
    The columns together are the model's primary key: never null, never repeated. Returns the
    offending key values with how often each occurs.
    Example: `primary_key: {arguments: {columns: [_file_id, registration_id]}}`.
#}
{% test primary_key(model, columns) %}

with

keys as (

    select {{ columns | join(', ') }}
    from {{ model }}

),

offending as (

    select
        *,
        count(*) as occurrences
    from keys
    group by all
    having count(*) > 1 or {{ columns | join(' is null or ') }} is null

)

select * from offending

{% endtest %}
