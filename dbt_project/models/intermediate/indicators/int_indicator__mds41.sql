-- MDS41 Learning reviews notified: "sw learning_reviews by `notification_date`. Breakdown: review
-- type."
-- A count of reviews in the period of their notification_date (first and last day inclusive), in
-- the council that sent them. Review ids are unique only within the council, so an item is
-- council_code:review_id. There is no child-level data.

with

learning_reviews as (

    select * from {{ ref('fct_learning_reviews') }}

),

items as (

    select
        council_code,
        council_code || ':' || review_id as item_id,
        notification_date as event_date,
        review_type

    from learning_reviews

)

{{ indicator_cells('MDS41', 'items', 'flow', breakdowns=['review_type']) }}
