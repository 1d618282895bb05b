-- For every council, every dataset an area expects, and every month of the data: whether the
-- sender that council expects covers that month (extracts.md, "Coverage"). Its council for sw
-- and education, the health board serving it for health, the one national org for police and
-- SCRA. Third-sector returns are voluntary and population is reference data: never expected.

with

councils as (

    select * from {{ ref('ref_councils') }}

),

expected_datasets as (

    select * from {{ ref('ref_dataset_senders') }}
    where coverage = 'expected'

),

months as (

    select period_start as month
    from {{ ref('int_periods') }}
    where period_type = 'month'

),

sender_months as (

    select * from {{ ref('int_sender_coverage') }}

),

expected_senders as (

    select
        councils.council_code,
        expected_datasets.dataset,
        case expected_datasets.org_kind
            when 'council' then councils.council_code
            when 'health_board' then councils.health_board_code
            else expected_datasets.fixed_org
        end as sender_org

    from councils
    cross join expected_datasets

),

first_months as (

    select org, dataset, min(month) as first_month, max(month) as last_month
    from sender_months
    group by org, dataset

),

council_months as (

    select
        expected_senders.council_code,
        expected_senders.dataset,
        expected_senders.sender_org,
        months.month,
        sender_months.month is not null as covered,
        first_months.first_month,
        first_months.last_month

    from expected_senders
    cross join months
    left join sender_months
        on expected_senders.sender_org = sender_months.org
        and expected_senders.dataset = sender_months.dataset
        and months.month = sender_months.month
    left join first_months
        on expected_senders.sender_org = first_months.org
        and expected_senders.dataset = first_months.dataset

)

select * from council_months
