-- Every area indicators are computed for: the 32 councils, the 30 CPCs and Scotland, with their
-- names, the area each is part of and, for a council, the health board that serves it.

with

areas as (

    select * from {{ ref('ref_areas') }}

),

councils as (

    select * from {{ ref('ref_councils') }}

),

described as (

    select
        areas.area_type,
        areas.area_code,
        areas.area_name,
        areas.parent_area_type,
        areas.parent_area_code,
        councils.health_board_code,
        councils.health_board_name,
        areas.council_count,
        areas.sort_order

    from areas
    left join councils
        on areas.area_type = 'council' and areas.area_code = councils.council_code

)

select * from described
order by sort_order
