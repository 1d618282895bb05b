-- Children's hearings (scra `hearings`): one row per hearing, in its current state. A hearing
-- without a valid CHI is a child of its own.

with

hearings as (

    select * from {{ ref('int_scra__hearings__current') }}

),

children_hearings as (

    select
        _file_id,
        _row,
        council_code,
        hearing_id,
        referral_id,
        coalesce(chi_pseudonym, hearing_id) as child_key,
        hearing_date,
        outcome

    from hearings

)

select * from children_hearings
