{#
    The cells of one indicator: its items counted for every area, period and breakdown value.

    `items` names a relation (usually a CTE of the calling model) with one row per thing the
    indicator is about, and these columns:
      council_code             the council the item belongs to (it counts in every area holding it)
      item_id                  what a count counts (unique across councils)
      child_key                the linked child key (for counts of distinct children)
      event_date               (dated='flow') the date that puts the item in a period
      opened_on, closed_on     (dated='stock') open at a period's last day when opened on or
                               before it and not closed on or before it (closed_on null: open)
      birth_month, expected_date_of_birth
                               (an age_band breakdown) the age band is taken at the event date
                               for flow items, at the period's last day for stock items
      a column named as each other breakdown, one code (or a list of codes for the breakdowns of
      var('multi_valued_breakdowns'): the item counts once in each)
      and whatever the aggregate expressions read.

    The aggregates are SQL over the items of one cell: `numerator` (default: distinct items),
    `denominator`, `median_days` and `n_children` (default: none). Children are de-duplicated in
    each area (count(distinct child_key)), so a child known to two councils counts once for their
    CPC and for Scotland. Cells with no items are not returned: indicator_values gives them zeros.
    `period_types` (default: every one) limits the cells to those period types, for an indicator
    the catalogue gives fewer than all.

    The cells of a period whose items are unchanged since the last build are taken from the model's
    table (macros/period_reuse.sql): a stock item's digest leaves out its dates, which only place
    it in periods (a stock cell may not read them), so a record that closes changes only the
    periods after it closed. The model's table must be this macro's cells; a model that joins two
    calls (MDS24) leaves out their `period_items_digest` and counts every period.
#}
{% macro indicator_cells(
    indicator_id,
    items,
    dated,
    breakdowns=[],
    total=true,
    numerator='count(distinct item_id)',
    denominator='null',
    median_days='null',
    n_children='null',
    period_types=none
) -%}
{%- if dated == 'flow' -%}
    {%- set reference_date = 'items.event_date' -%}
    {%- set in_period = 'items.event_date between periods.period_start and periods.period_end' -%}
{%- elif dated == 'stock' -%}
    {%- set reference_date = 'periods.period_end' -%}
    {%- set in_period = "items.opened_on <= periods.period_end and coalesce(items.closed_on, date '9999-12-31') > periods.period_end" -%}
    {%- for expression in [numerator, denominator, median_days, n_children] + breakdowns -%}
        {%- if 'opened_on' in expression or 'closed_on' in expression -%}
            {{ exceptions.raise_compiler_error("indicator_cells: a stock cell counts its items open at the period's last day, so it may not read opened_on or closed_on (" ~ indicator_id ~ ": " ~ expression ~ ")") }}
        {%- endif -%}
    {%- endfor -%}
{%- else -%}
    {{ exceptions.raise_compiler_error("indicator_cells: dated is 'flow' or 'stock', not " ~ dated) }}
{%- endif -%}
{%- set parts = [] -%}
{%- if total -%}
    {%- do parts.append(("'total'", "'total'")) -%}
{%- endif -%}
{%- for breakdown in breakdowns -%}
    {%- if breakdown == 'age_band' -%}
        {%- do parts.append(("'age_band'", age_band('placed.birth_month', 'placed.expected_date_of_birth', 'placed.reference_date'))) -%}
    {%- elif breakdown in var('multi_valued_breakdowns') -%}
        {%- do parts.append(("'" ~ breakdown ~ "'", 'unnest(list_distinct(placed."' ~ breakdown ~ '"))')) -%}
    {%- else -%}
        {%- do parts.append(("'" ~ breakdown ~ "'", 'placed."' ~ breakdown ~ '"')) -%}
    {%- endif -%}
{%- endfor -%}
{#- A stock item's dates only decide the periods it is in (checked above), so a record that closes
    leaves the digests of the periods it stays open in as they were. -#}
{%- set hashed = '*columns(items.* exclude (opened_on, closed_on))' if dated == 'stock' else '*columns(items.*)' -%}
select * from (
with

period_digests as (

    {{ period_digests([
        period_digest_rows(indicator_id, items, in_period, hashed, period_types=period_types)
    ]) }}

),

{{ reused_cells_and_periods_to_count(indicator_id) }}

counted_cells as (

    select
        '{{ indicator_id }}' as indicator_id,
        area_type,
        area_code,
        period_type,
        period_label,
        breakdown,
        breakdown_value,
        cast({{ numerator }} as bigint) as numerator,
        cast({{ denominator }} as bigint) as denominator,
        cast({{ median_days }} as double) as median_days,
        cast({{ n_children }} as bigint) as n_children

    from (
        {%- for name, value in parts %}
        {% if not loop.first %}union all{% endif %}
        select
            placed.*,
            {{ name }} as breakdown,
            cast({{ value }} as varchar) as breakdown_value
        from (
            select
                items.*,
                area_councils.area_type,
                area_councils.area_code,
                periods.period_type,
                periods.period_label,
                periods.period_end,
                {{ reference_date }} as reference_date
            from {{ items }} as items
            inner join {{ ref('ref_area_councils') }} as area_councils
                on items.council_code = area_councils.council_code
            inner join periods_to_count as periods
                on {{ in_period }}
        ) as placed
        {%- endfor %}
    ) as broken_down

    group by area_type, area_code, period_type, period_label, breakdown, breakdown_value

)

{{ cells_with_digests() }}
)
{%- endmacro %}
