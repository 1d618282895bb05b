-- MDS10 Child protection investigations: sw investigations by `start_date`.
-- One item per investigation record (one record per child investigated, so an investigation about
-- three siblings counts three times). Investigation ids are unique within the sending council
-- only, so an item is the council and the id.

with

investigations as (

    select * from {{ ref('fct_investigations') }}

),

items as (

    select
        council_code,
        council_code || ':' || investigation_id as item_id,
        child_key,
        start_date as event_date

    from investigations

)

{{ indicator_cells('MDS10', 'items', 'flow') }}
