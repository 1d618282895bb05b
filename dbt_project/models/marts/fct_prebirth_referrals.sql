-- Midwifery referrals for an unborn child (health `prebirth_referrals`): one row per referral, in
-- its current state. The mother's CHI is the mother's identifier, not the child's: it is left out.

with

referrals as (

    select * from {{ ref('int_health__prebirth_referrals__current') }}

),

prebirth_referrals as (

    select
        _file_id,
        _row,
        council_code,
        _org as health_board_code,
        referral_id,
        expected_date_of_birth,
        referral_date,
        concerns

    from referrals

)

select * from prebirth_referrals
