-- Every indicator's cells in one table: the union of the int_indicator__<id> models, one per
-- indicator of the catalogue (var 'indicator_ids', from the catalogue data), without the period
-- digests that indicator_cells keeps to reuse a period's cells (not every model has them).

{% for indicator_id in var('indicator_ids') %}
select {{ cell_columns('cells') }}
from {{ ref('int_indicator__' ~ indicator_id | lower) }} as cells
{% if not loop.last %}union all{% endif %}
{% endfor %}
