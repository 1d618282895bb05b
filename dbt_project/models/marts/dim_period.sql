-- The periods indicators are computed for: one row per month, quarter and statistical year the
-- data spans.

select
    period_type,
    period_label,
    period_start,
    period_end,
    population_year,
    months_in_period

from {{ ref('int_periods') }}
order by period_type, period_start
