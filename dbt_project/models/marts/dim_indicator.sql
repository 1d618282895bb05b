-- The indicator catalogue, one row per indicator, as analysts look it up in the warehouse
-- (interface.md, `marts.dim_indicator`): from the catalogue data through the seed
-- ref_indicators, its lists as lists.

with

catalogue as (

    select * from {{ ref('ref_indicators') }}

),

listed as (

    select
        indicator_id,
        name,
        kind,
        unit,
        unit_text,
        numerator_unit,
        definition,
        numerator,
        denominator,
        denominator_kind,
        denominator_base,
        n_children,
        {{ split_list('breakdowns') }} as breakdowns,
        total_row,
        {{ split_list('period_types') }} as period_types,
        {{ split_list('inputs') }} as inputs,
        {{ split_list('parameters') }} as parameters,
        {{ split_list('flags') }} as flags,
        provisional,
        {{ split_list('related') }} as related,
        section,
        commentary,
        has_interval,
        sort_order

    from catalogue

)

select * from listed
order by sort_order
