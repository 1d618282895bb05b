-- MDS38 Early help referrals from the voluntary sector: "thirdsector family_support by
-- `referral_date`. Breakdown: support type."
-- A count of referrals (not children), each in the council named on the referral (`council_code`),
-- in the period of its referral_date (first and last day inclusive). Support ids are unique only
-- within the sending provider, so an item is provider_code:support_id.

with

family_support as (

    select * from {{ ref('fct_family_support') }}

),

items as (

    select
        council_code,
        provider_code || ':' || support_id as item_id,
        child_key,
        referral_date as event_date,
        support_type

    from family_support

)

{{ indicator_cells('MDS38', 'items', 'flow', breakdowns=['support_type']) }}
