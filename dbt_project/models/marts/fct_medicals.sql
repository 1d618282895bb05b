-- Child protection medical examinations (health `cp_medicals`): one row per examination, in its
-- current state, in the council where the child lives. An examination without a valid CHI is a
-- child of its own.

with

medicals as (

    select * from {{ ref('int_health__cp_medicals__current') }}

),

examinations as (

    select
        _file_id,
        _row,
        council_code,
        _org as health_board_code,
        exam_id,
        coalesce(chi_pseudonym, exam_id) as child_key,
        exam_date,
        exam_type,
        ird_linked

    from medicals

)

select * from examinations
