-- MDS04 Pre-birth referrals from midwifery: health prebirth_referrals by `referral_date`.
-- One item per referral, in the council named on it. Referral ids are unique within the sending
-- health board only, so an item is the board and the referral id. The extract identifies the
-- mother, not the child, so there is no child key (and none is needed for a count of referrals).

with

prebirth_referrals as (

    select * from {{ ref('fct_prebirth_referrals') }}

),

items as (

    select
        council_code,
        health_board_code || ':' || referral_id as item_id,
        referral_date as event_date

    from prebirth_referrals

)

{{ indicator_cells('MDS04', 'items', 'flow') }}
