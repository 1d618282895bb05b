-- MDS02 Police child concern reports: police concern_reports by `report_date`. Breakdown: concern
-- type.
-- One item per report (report ids are national), counted in the council where the child lives
-- (`council_code`). `concern_types` is multi-valued: a report with several types counts once under
-- each type and once in the total, so the types can add up to more than the total. The count is the
-- numerator; indicator_values adds the population and the rate.

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
        concern_types as concern_type

    from concern_reports

)

{{ indicator_cells('MDS02', 'items', 'flow', breakdowns=['concern_type']) }}
