-- MDS07 IRDs with police, health and social work: of MDS05 (distinct sw IRDs by `ird_date`), all
-- three `*_participated` = Y.
-- Numerator: IRDs in the period where police, health and social work all took part; denominator:
-- all IRDs in the period. Both count distinct IRDs (the council and `ird_id`): fct_irds has a row
-- per IRD and child, so an IRD about siblings counts once. Blank is never Y. Participation is a
-- fact of the discussion repeated on each child's row; should the rows of one IRD disagree, the
-- IRD counts only when every one of its rows records all three as Y.

with

irds as (

    select * from {{ ref('fct_irds') }}

),

items as (

    select
        council_code,
        council_code || ':' || ird_id as item_id,
        child_key,
        ird_date as event_date,
        bool_and(
            coalesce(police_participated, false)
            and coalesce(health_participated, false)
            and coalesce(social_work_participated, false)
        ) over (partition by council_code, ird_id) as in_numerator

    from irds

)

{{ indicator_cells(
    'MDS07', 'items', 'flow',
    numerator='count(distinct case when in_numerator then item_id end)',
    denominator='count(distinct item_id)'
) }}
