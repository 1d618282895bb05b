-- MDS11 Investigations with a joint investigative interview: of MDS10 (sw investigations by
-- `start_date`), `joint_interview` = Y.
-- Numerator: investigations in the period with a joint interview; denominator: all investigations
-- in the period. Blank is never Y: `joint_interview` null counts in the denominator only.

with

investigations as (

    select * from {{ ref('fct_investigations') }}

),

items as (

    select
        council_code,
        council_code || ':' || investigation_id as item_id,
        child_key,
        start_date as event_date,
        coalesce(joint_interview, false) as in_numerator

    from investigations

)

{{ indicator_cells(
    'MDS11', 'items', 'flow',
    numerator='count(distinct case when in_numerator then item_id end)',
    denominator='count(distinct item_id)'
) }}
