-- MDS08 IRDs leading to investigation: of MDS05 (distinct sw IRDs by `ird_date`), `outcome` = INV.
-- Numerator: IRDs in the period with outcome INV; denominator: all IRDs in the period. Both count
-- distinct IRDs (the council and `ird_id`): fct_irds has a row per IRD and child, so an IRD about
-- siblings counts once. The outcome is recorded per child: an IRD counts in the numerator when it
-- led to an investigation of any child it discussed. An outcome left blank is not INV.

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
        coalesce(outcome = 'INV', false) as in_numerator

    from irds

)

{{ indicator_cells(
    'MDS08', 'items', 'flow',
    numerator='count(distinct case when in_numerator then item_id end)',
    denominator='count(distinct item_id)'
) }}
