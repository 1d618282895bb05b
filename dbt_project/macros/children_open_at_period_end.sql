{#
    The children with a record open at each period's last day, per area: one row per area, period
    and child (by child key) with at least one of `records`' rows open at the period's last day in
    one of the area's councils. Columns area_type, area_code, period_type, period_label, period_end
    (kept for a caller that looks further at the child's records on that day) and child_key.

    `records` names a relation (usually a CTE of the calling model) with council_code, child_key
    and the two date columns named by `opened_on` and `closed_on`. Open at the period's last day:
    opened on or before it and not closed on or before it (closed_on null: still open), the rule
    indicator_cells uses for its stock items. Written for the indicators that take such children
    as a denominator (MDS25: MDS19's children on the register; MDS35: MDS34's looked-after
    children) and then look at each child's records on the period's last day, which
    indicator_cells cannot do. `periods` (default int_periods) names the periods to look at.
#}
{% macro children_open_at_period_end(records, opened_on, closed_on, periods=none) -%}
select distinct
    area_councils.area_type,
    area_councils.area_code,
    periods.period_type,
    periods.period_label,
    periods.period_end,
    records.child_key

from {{ records }} as records
inner join {{ ref('ref_area_councils') }} as area_councils
    on records.council_code = area_councils.council_code
inner join {{ periods if periods is not none else ref('int_periods') }} as periods
    on records.{{ opened_on }} <= periods.period_end
    and coalesce(records.{{ closed_on }}, date '9999-12-31') > periods.period_end
{%- endmacro %}
