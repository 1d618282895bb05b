-- indicator_values holds no indicator the catalogue does not define.
{{ config(meta={'dagster': {'ref': {'name': 'indicator_values'}}}) }}

select distinct values_.indicator_id
from {{ ref('indicator_values') }} as values_
where values_.indicator_id not in (select indicator_id from {{ ref('ref_indicators') }})
