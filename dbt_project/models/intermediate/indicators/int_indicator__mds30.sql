-- MDS30 Children referred to the Reporter on care and protection grounds: "scra referrals by
-- `referral_date` with any ground other than `j`."
-- Items: referrals with at least one ground other than j (so a referral on grounds j and b is
-- here, and in MDS31 too), by referral_date, in their council_code. The numerator is the distinct
-- children (linked child key) of the area's items in the period: a child referred twice counts
-- once; a referral without a valid CHI is a child of its own. The count is the numerator;
-- indicator_values adds the population and the rate.

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
    where len(list_filter(grounds, lambda ground: ground != 'j')) > 0

)

{{ indicator_cells('MDS30', 'items', 'flow', numerator='count(distinct child_key)') }}
