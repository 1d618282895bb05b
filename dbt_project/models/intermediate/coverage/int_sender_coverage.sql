-- The months each sender covers for each dataset (extracts.md, "Coverage"): a current, loaded
-- file (a nil return included; a quarantined or superseded file covers nothing) covers its
-- period's month; an annual file covers its year (attendance: August to July).

with

current_files as (

    select partner, org, dataset, period_month
    from {{ ref('stg_quality__load_log') }}
    where status = 'loaded'

),

senders as (

    select * from {{ ref('ref_dataset_senders') }}

),

covered_months as (

    select distinct
        current_files.partner,
        current_files.org,
        current_files.dataset,
        senders.coverage,
        {{ months_before('current_files.period_month', 'months_back.back') }} as month

    from current_files
    inner join senders on current_files.dataset = senders.dataset
    cross join lateral (
        select unnest(range(senders.months_covered)) as back
    ) as months_back

)

select * from covered_months
