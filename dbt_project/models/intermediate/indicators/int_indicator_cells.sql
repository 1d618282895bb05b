-- Every indicator's cells in one table: the union of the int_indicator__<id> models, one per
-- indicator of the catalogue (var 'indicator_ids', from the catalogue data).

{% for indicator_id in var('indicator_ids') %}
select * from {{ ref('int_indicator__' ~ indicator_id | lower) }}
{% if not loop.last %}union all{% endif %}
{% endfor %}
