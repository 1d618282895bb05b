-- MDS33 Hearings leading to a compulsory supervision order: "scra hearings by `hearing_date`
-- (count); of those, `outcome` = CSO_MADE (%)."
-- Denominator: the hearings with hearing_date in the period (the indicator's count of hearings);
-- numerator: those with outcome CSO_MADE. Each hearing counts, so a child with two hearings
-- counts twice.

with

hearings as (

    select * from {{ ref('fct_hearings') }}

),

items as (

    select
        council_code,
        hearing_id as item_id,
        child_key,
        hearing_date as event_date,
        coalesce(outcome = 'CSO_MADE', false) as is_cso_made

    from hearings

)

{{ indicator_cells(
    'MDS33', 'items', 'flow',
    numerator='count(distinct case when is_cso_made then item_id end)',
    denominator='count(distinct item_id)'
) }}
