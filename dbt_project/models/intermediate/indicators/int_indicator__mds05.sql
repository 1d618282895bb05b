-- MDS05 Inter-agency referral discussions: distinct sw IRDs (`ird_id`) by `ird_date`. Breakdown:
-- age band (of each child discussed; an IRD about siblings of two bands counts in both).
-- fct_irds has one row per IRD and child; each row is an item of its IRD (ird ids are unique
-- within the sending council only, so the IRD is the council and the id), carrying that child's
-- birth month and expected date of birth. The total counts each IRD once however many children it
-- discussed; the age band rows count it once in the band of each child discussed (at the IRD date:
-- `unborn` before the birth month, or with no birth month before the expected date of birth;
-- `unknown` with neither known or an expected date passed), so bands can add up to more than the
-- total. The count is the numerator; indicator_values adds the population and the rate.

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
        birth_month,
        expected_date_of_birth

    from irds

)

{{ indicator_cells('MDS05', 'items', 'flow', breakdowns=['age_band']) }}
