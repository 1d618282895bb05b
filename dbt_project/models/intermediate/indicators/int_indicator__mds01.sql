-- MDS01 Child protection concerns received: sw concerns by received_date. Breakdown: source.
-- The count is the numerator; indicator_values adds the population and the rate.

with

concerns as (

    select * from {{ ref('fct_concerns') }}

),

items as (

    select
        council_code,
        council_code || ':' || concern_id as item_id,
        child_key,
        received_date as event_date,
        source

    from concerns

)

{{ indicator_cells('MDS01', 'items', 'flow', breakdowns=['source']) }}
