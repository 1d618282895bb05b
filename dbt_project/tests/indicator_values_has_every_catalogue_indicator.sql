-- Every indicator of the catalogue has rows. A warning, not an error: an indicator whose inputs
-- no area covered for a whole period (say, no attendance file yet) rightly has none, and the
-- quality report says what could not be computed.
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'indicator_values'}}}) }}

select catalogue.indicator_id
from {{ ref('ref_indicators') }} as catalogue
where catalogue.indicator_id not in (
    select distinct indicator_id from {{ ref('indicator_values') }}
)
