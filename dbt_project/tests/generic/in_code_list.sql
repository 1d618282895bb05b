{#
    Every value of a coded column is a code of its contract code list (the seed ref_codes,
    generated from the contract), so a test never restates a list. `multi`: the column holds a
    list of codes, each of which must be in the list.
#}
{% test in_code_list(model, column_name, code_list, multi=false) %}

with

stored as (

    select
        {% if multi %}unnest({{ column_name }}){% else %}{{ column_name }}{% endif %} as code
    from {{ model }}

),

codes as (

    select code from {{ ref('ref_codes') }}
    where code_list = '{{ code_list }}'

)

select stored.code
from stored
where stored.code is not null
    and stored.code not in (select codes.code from codes)

{% endtest %}
