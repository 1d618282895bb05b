-- MDS31 Children referred to the Reporter on offence grounds: "scra referrals by `referral_date`
-- with ground `j`."
-- Items: referrals whose grounds include j (whatever other grounds they have: a referral on j and
-- b is also in MDS30), by referral_date, in their council_code. The numerator is the distinct
-- children (linked child key) of the area's items in the period. A count of children.

with

referrals as (

    select * from {{ ref('fct_reporter_referrals') }}

),

items as (

    select
        council_code,
        referral_id as item_id,
        child_key,
        referral_date as event_date

    from referrals
    where list_contains(grounds, 'j')

)

{{ indicator_cells('MDS31', 'items', 'flow', numerator='count(distinct child_key)') }}
