-- MDS03 Police concern reports shared with social work: of MDS02 (police concern_reports by
-- `report_date`), `shared_with_sw` = Y.
-- Numerator: reports in the period shared with social work; denominator: all reports in the period.
-- Blank is never Y: a report with `shared_with_sw` null counts in the denominator only.

with

concern_reports as (

    select * from {{ ref('fct_police_concern_reports') }}

),

items as (

    select
        council_code,
        report_id as item_id,
        child_key,
        report_date as event_date,
        coalesce(shared_with_sw, false) as in_numerator

    from concern_reports

)

{{ indicator_cells(
    'MDS03', 'items', 'flow',
    numerator='count(distinct case when in_numerator then item_id end)',
    denominator='count(distinct item_id)'
) }}
