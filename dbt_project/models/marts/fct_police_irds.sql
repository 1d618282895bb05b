-- Police Scotland's record of inter-agency referral discussions (police `irds`): one row per IRD, in
-- its current state. An IRD without a valid CHI is a child of its own.

with

irds as (

    select * from {{ ref('int_police__irds__current') }}

),

police_irds as (

    select
        _file_id,
        _row,
        council_code,
        police_ird_id,
        coalesce(chi_pseudonym, police_ird_id) as child_key,
        ird_date

    from irds

)

select * from police_irds
