-- Every period the data spans (indicators.md, "Periods"): calendar months, calendar quarters
-- (2024-Q2) and statistical years (1 August to 31 July, 2023/24), from the first to the last
-- month any partner's current files cover. A quarter or year is listed only when all its months
-- are in that span.

with

span as (

    select min(month) as first_month, max(month) as last_month
    from {{ ref('int_sender_coverage') }}
    where coverage != 'reference'

),

months as (

    select cast(unnest(generate_series(first_month, last_month, interval 1 month)) as date) as month
    from span

),

labelled as (

    select
        'month' as period_type,
        strftime(month, '%Y-%m') as period_label,
        month as period_start,
        cast(last_day(month) as date) as period_end
    from months

    union all

    select distinct
        'quarter' as period_type,
        year(month) || '-Q' || quarter(month) as period_label,
        cast(date_trunc('quarter', month) as date) as period_start,
        cast(date_trunc('quarter', month) + interval 3 month - interval 1 day as date) as period_end
    from months

    union all

    select distinct
        'year' as period_type,
        (statistical_year) || '/' || right(cast(statistical_year + 1 as varchar), 2) as period_label,
        make_date(statistical_year, 8, 1) as period_start,
        make_date(statistical_year + 1, 7, 31) as period_end
    from (
        select case when month(month) >= 8 then year(month) else year(month) - 1 end
            as statistical_year
        from months
    )

),

complete as (

    select
        labelled.*,
        year(labelled.period_end) as population_year,
        date_diff('month', labelled.period_start, labelled.period_end) + 1 as months_in_period

    from labelled
    cross join span
    where labelled.period_start >= span.first_month
        and labelled.period_end <= last_day(span.last_month)

)

select * from complete
