{#
    Run after an incremental staging model's new rows are added: the rows of files that are no
    longer current (superseded by a later delivery for the same period) leave the model, as they
    would from a build that started empty. `dataset` is the load log's dataset id.
#}
{% macro delete_rows_of_files_not_current(dataset) -%}
delete from {{ this }}
where _file_id not in (
    select file_id
    from {{ source('quality', 'load_log') }}
    where status = 'loaded' and dataset = '{{ dataset }}'
)
{%- endmacro %}
