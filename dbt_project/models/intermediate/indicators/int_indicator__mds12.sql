-- MDS12 Child protection medical examinations: health cp_medicals by `exam_date`. Breakdown: exam
-- type.
-- One item per examination, in the council where the child lives. Exam ids are unique within the
-- sending health board only, so an item is the board and the exam id.

with

medicals as (

    select * from {{ ref('fct_medicals') }}

),

items as (

    select
        council_code,
        health_board_code || ':' || exam_id as item_id,
        child_key,
        exam_date as event_date,
        exam_type

    from medicals

)

{{ indicator_cells('MDS12', 'items', 'flow', breakdowns=['exam_type']) }}
