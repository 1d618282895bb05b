-- MDS32 Days from referral to the Reporter's decision: "`decision_date - referral_date` for
-- decisions dated in the period."
-- Items: referrals with a decision, dated by decision_date (so a referral received in an earlier
-- period counts in the period of its decision); undecided referrals (decision_date null) are left
-- out. median_days is the median of decision_date - referral_date in days over the cell's
-- referrals (DuckDB's median interpolates: for an even number, the mean of the two middle
-- values); the numerator is the number of referrals the median is over.

with

referrals as (

    select * from {{ ref('fct_reporter_referrals') }}

),

items as (

    select
        council_code,
        referral_id as item_id,
        child_key,
        decision_date as event_date,
        date_diff('day', referral_date, decision_date) as days

    from referrals
    where decision_date is not null

)

{{ indicator_cells(
    'MDS32', 'items', 'flow',
    numerator='count(distinct item_id)',
    median_days='median(days)'
) }}
