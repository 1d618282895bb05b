{#
    Counting only the periods whose inputs changed since the last build.

    An indicator's cells for a period depend only on the rows that are "in" the period (and on the
    areas and the period itself, which the code fixes). So each period's rows are summed up in a
    digest, `period_items_digest`: how many there are and two sums of 64-bit hashes of each row
    (of what the cells read of it), so that any change to a period's rows changes its digest.
    The digest is kept on every cell of the period. When the model's table from the last build is
    there (a build that started from the published warehouse: cpmds.pipeline.incremental starts
    empty unless that table was made by this code), a period whose digest is unchanged keeps its
    cells from that table and only the other periods are counted, so a nightly load counts the
    periods its files touched rather than the history. A build that starts empty counts every
    period; both give the same table (tests/test_incremental_build.py).

    A model uses them as CTEs, in this order (indicator_cells is the usual caller):

        period_digests as ({{ period_digests([period_digest_rows(...), ...]) }}),
        {{ reused_cells_and_periods_to_count(indicator_id) }}
        counted_cells as (... its cells, counting only the periods of periods_to_count ...)
        {{ cells_with_digests(indicator_id) }}

    The model's own table is read back, so the model's table must be these cells (with the digest
    column), not something joined from them. The digests say nothing of the code: the pipeline
    starts a build empty when the code changed; by hand, build with `--full-refresh` after changing
    an indicator's code.
#}

{#
    One hashed row per row of `relation` and period it is in. `in_period` is the join condition
    between `items` (the relation) and `periods` (int_periods); `hashed` is the SQL list of what
    the period's cells read of the row (`*columns(items.*)` for all of it), with whatever the cells
    read of the row in relation to the period (whether it is open on the period's last day, say).
    `tag` keeps rows of different relations of one digest apart.
#}
{% macro period_digest_rows(indicator_id, relation, in_period, hashed, tag='items', period_types=none) -%}
    select
        periods.period_type,
        periods.period_label,
        cast(hash({{ hashed }}, '{{ tag }}') as hugeint) as first_hash,
        cast(hash({{ hashed }}, '{{ indicator_id }}', '{{ tag }}') as hugeint) as second_hash
    from {{ relation }} as items
    inner join {{ ref('int_periods') }} as periods
        on {{ in_period }}
        {%- if period_types is not none %}
        and periods.period_type in ('{{ period_types | join("', '") }}')
        {%- endif %}
{%- endmacro %}

{# Each period's digest, from the rows of one or more period_digest_rows. #}
{% macro period_digests(digest_rows) -%}
    select
        period_type,
        period_label,
        cast(count(*) as varchar)
            || ':' || cast(sum(first_hash) as varchar)
            || ':' || cast(sum(second_hash) as varchar) as period_items_digest
    from (
        {%- for rows in digest_rows %}
        {% if not loop.first %}union all{% endif %}
        {{ rows }}
        {%- endfor %}
    ) as hashed_rows
    group by period_type, period_label
{%- endmacro %}

{#
    Two CTEs, after period_digests: `reused_cells`, the last build's cells of the periods whose
    digest is unchanged (none when there is no such table), and `periods_to_count`, the periods
    of int_periods with rows in them that are left to count.
#}
{% macro reused_cells_and_periods_to_count(indicator_id) -%}
{%- set previous = previous_cells() -%}
reused_cells as (

    {%- if previous is not none %}
    select
        {{ cell_columns('previous') }},
        previous.period_items_digest
    from {{ previous }} as previous
    inner join period_digests
        on previous.period_type = period_digests.period_type
        and previous.period_label = period_digests.period_label
        and previous.period_items_digest = period_digests.period_items_digest
    where previous.indicator_id = '{{ indicator_id }}'
    {%- else %}
    select
        {%- for name, sql_type in cell_column_types() %}
        cast(null as {{ sql_type }}) as {{ name }},
        {%- endfor %}
        cast(null as varchar) as period_items_digest
    where false
    {%- endif %}

),

periods_to_count as (

    select periods.*
    from {{ ref('int_periods') }} as periods
    inner join period_digests
        on periods.period_type = period_digests.period_type
        and periods.period_label = period_digests.period_label
    where not exists (
        select 1
        from reused_cells
        where reused_cells.period_type = periods.period_type
            and reused_cells.period_label = periods.period_label
    )

),
{%- endmacro %}

{# The final select, after counted_cells: the counted cells with their digests, and the reused. #}
{% macro cells_with_digests() -%}
select
    {{ cell_columns('counted_cells') }},
    period_digests.period_items_digest
from counted_cells
inner join period_digests
    on counted_cells.period_type = period_digests.period_type
    and counted_cells.period_label = period_digests.period_label
union all
select * from reused_cells
{%- endmacro %}

{#
    The model's table from the last build, when the build started from the published warehouse and
    the table keeps period digests; none otherwise (every period is counted).
#}
{% macro previous_cells() -%}
{#- this: none in a dbt unit test. --full-refresh: a build by hand after changing a model's code
    (the pipeline starts such a build empty by itself), whose digests would not show the change. -#}
{%- if not execute or this is none or flags.FULL_REFRESH -%}
    {{ return(none) }}
{%- endif -%}
{%- set relation = adapter.get_relation(
    database=this.database, schema=this.schema, identifier=this.identifier
) -%}
{%- if relation is none -%}
    {{ return(none) }}
{%- endif -%}
{%- set names = adapter.get_columns_in_relation(relation) | map(attribute='name') | list -%}
{{ return(relation if 'period_items_digest' in names else none) }}
{%- endmacro %}

{# The columns of an indicator's cells, in order, with their types (int_indicator_cells unions them). #}
{% macro cell_column_types() -%}
{{ return([
    ('indicator_id', 'varchar'),
    ('area_type', 'varchar'),
    ('area_code', 'varchar'),
    ('period_type', 'varchar'),
    ('period_label', 'varchar'),
    ('breakdown', 'varchar'),
    ('breakdown_value', 'varchar'),
    ('numerator', 'bigint'),
    ('denominator', 'bigint'),
    ('median_days', 'double'),
    ('n_children', 'bigint'),
]) }}
{%- endmacro %}

{# The cell columns read from `relation`, comma-separated. #}
{% macro cell_columns(relation) -%}
{%- for name, sql_type in cell_column_types() -%}
{{ relation }}.{{ name }}{{ ", " if not loop.last }}
{%- endfor -%}
{%- endmacro %}
