{# A |-separated list of a seed's cell as a list (empty for a blank cell). #}
{% macro split_list(column) -%}
    coalesce(string_split(nullif({{ column }}, ''), '|'), [])
{%- endmacro %}
