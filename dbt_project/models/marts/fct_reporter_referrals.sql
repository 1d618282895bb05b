-- Referrals to the Children's Reporter (scra `referrals`): one row per referral, in its current
-- state. A referral without a valid CHI is a child of its own.

with

referrals as (

    select * from {{ ref('int_scra__referrals__current') }}

),

reporter_referrals as (

    select
        _file_id,
        _row,
        council_code,
        referral_id,
        coalesce(chi_pseudonym, referral_id) as child_key,
        coalesce(birth_month, chi_birth_month) as birth_month,
        -- A known sex (M or F) on the row wins; U or blank gives way to the CHI's.
        coalesce(nullif(sex, 'U'), chi_sex, sex, 'U') as sex,
        referral_date,
        referral_source,
        grounds,
        decision,
        decision_date

    from referrals

)

select * from reporter_referrals
