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

{#
    The records of a current-state model whose staging rows changed since the last build: those in
    the files this build staged, and those in the files superseded for the same sender and period
    (a resubmission may leave a record out, and the record's earlier row then becomes current
    again). A file is superseded only by a later one for its sender and period that loads, which
    the build that follows stages, so no other record's current state can have changed.
    `staging` names the staging model, `dataset` is the load log's dataset id, `identity` the
    record's columns (staging names) and `landing_identity` the same columns as the staging model
    reads them from a landing row (`source`) and its file's load-log row (`current_files`).
#}
{% macro changed_records(staging, dataset, identity, landing_identity) -%}
with

staged_now as (

    select *
    from {{ ref(staging) }}
    where _staged_by = '{{ invocation_id }}'

)

select {{ identity | join(', ') }}
from staged_now
union
select
    {%- for expression in landing_identity %}
    {{ expression }} as {{ identity[loop.index0] }}{{ "," if not loop.last }}
    {%- endfor %}
from {{ source('landing', dataset) }} as source
inner join {{ source('quality', 'load_log') }} as current_files
    on source._file_id = current_files.file_id
where current_files.status = 'superseded'
    and current_files.dataset = '{{ dataset }}'
    and (cast(current_files.org as varchar), cast(current_files.period as integer))
        in (select _org, _period from staged_now)
{%- endmacro %}

{#
    Run before an incremental current-state model adds the current rows of its changed records
    (changed_records): their rows from the last build leave it first, so a record whose latest row
    is now a deletion, or that lost its row, is gone as it would be from a build from nothing.
#}
{% macro delete_current_rows_of_changed_records(staging, dataset, identity, landing_identity) -%}
{%- if is_incremental() -%}
delete from {{ this }} as current_row
where exists (
    select 1
    from ({{ changed_records(staging, dataset, identity, landing_identity) }}) as changed
    where
        {%- for column in identity %}
        changed.{{ column }} = current_row.{{ column }}{{ " and" if not loop.last }}
        {%- endfor %}
)
{%- else -%}
select 1  {#- a build from nothing: the model is built whole #}
{%- endif -%}
{%- endmacro %}

{#
    Run before an incremental model that is a row-for-row projection of a current-state model
    (`current_model`, keyed here by its rows' `_file_id` and `_row`) adds the current rows it does
    not hold yet: its rows whose current row is no longer current leave it first. A file's row never
    changes once staged, so every row kept is still the projection of its current row.
#}
{% macro delete_rows_no_longer_current(current_model) -%}
{%- if is_incremental() -%}
delete from {{ this }} as kept
where not exists (
    select 1
    from {{ ref(current_model) }} as current_row
    where current_row._file_id = kept._file_id and current_row._row = kept._row
)
{%- else -%}
select 1  {#- a build from nothing: the model is built whole #}
{%- endif -%}
{%- endmacro %}
