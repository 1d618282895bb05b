{#
    Every listed column of the model is filled in every row. One test per model rather than one
    per column: a test is a dbt node and a Dagster check, each with a fixed cost on every run, and
    a model's columns are checked in one pass. A failure is one row per column with nulls, naming
    the column and how many rows leave it empty.
#}
{% test not_null_columns(model, columns) %}

with

null_counts as (

    select
        {%- for column in columns %}
        count(*) filter (where {{ adapter.quote(column) }} is null) as {{ adapter.quote(column) }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ model }}

),

offending as (

    {%- for column in columns %}
    {% if not loop.first %}union all{% endif %}
    select '{{ column }}' as column_name, {{ adapter.quote(column) }} as null_rows
    from null_counts
    where {{ adapter.quote(column) }} > 0
    {%- endfor %}

)

select * from offending

{% endtest %}
