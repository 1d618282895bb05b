-- Learning reviews notified to the Care Inspectorate (sw `learning_reviews`): one row per review, in
-- its current state. No child-level data.

with

reviews as (

    select * from {{ ref('int_sw__learning_reviews__current') }}

),

learning_reviews as (

    select
        _file_id,
        _row,
        _org as council_code,
        review_id,
        notification_date,
        review_type,
        decision_date,
        published

    from reviews

)

select * from learning_reviews
