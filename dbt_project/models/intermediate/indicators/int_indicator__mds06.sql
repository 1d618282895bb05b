-- MDS06 Children subject to an IRD: children with an sw IRD in the period.
-- Distinct children (by linked child key) named in at least one sw IRD with `ird_date` in the
-- period. A child with several IRDs counts once; siblings discussed in one IRD count each. Children
-- are de-duplicated within each area, so a child (the same child key) with IRDs in two councils
-- counts once in each of those councils but once for their CPC and for Scotland.

with

irds as (

    select * from {{ ref('fct_irds') }}

),

items as (

    select
        council_code,
        council_code || ':' || ird_id as item_id,
        child_key,
        ird_date as event_date

    from irds

)

{{ indicator_cells('MDS06', 'items', 'flow', numerator='count(distinct child_key)') }}
