-- Recorded crimes with a child victim (police `offences`): one row per crime and child victim, in
-- its current state. A victim without a valid CHI is a child of their own, keyed by crime and
-- victim number.

with

offences as (

    select * from {{ ref('int_police__offences__current') }}

),

numbered_offences as (

    select
        *,
        -- A blank victim number means the crime's first (and only listed) child victim.
        coalesce(victim_no, 1) as victim_number

    from offences

),

victims as (

    select
        _file_id,
        _row,
        council_code,
        crime_id,
        victim_number as victim_no,
        coalesce(victim_chi_pseudonym, crime_id || '#' || cast(victim_number as varchar)) as child_key,
        recorded_date,
        victim_age,
        offence_group,
        reported_to_pf

    from numbered_offences

)

select * from victims
