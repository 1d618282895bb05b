-- MDS24 Concerns identified at registration: "for each CONCERN code: of MDS18, registrations with
-- that concern. Breakdown: concern (no total row)."
-- Items are MDS18's: every registration with registration_date in the period. For each concern
-- code the numerator counts the registrations with that code among their concerns (a registration
-- with two concerns counts under both, so the rows add up to more than the denominator), and the
-- denominator is ALL the area's registrations in the period, the same for every code. There is no
-- total row. Because the base does not depend on the concern, a code that no registration of the
-- cell has still gets its row here (numerator 0, denominator the registrations: 0%) wherever the
-- area has registrations in the period; indicator_values could not know that denominator. The
-- codes are the catalogue's rows for MDS24 (ref_indicator_rows).

with

registrations as (

    select * from {{ ref('fct_registrations') }}

),

concern_codes as (

    select breakdown_value as concern
    from {{ ref('ref_indicator_rows') }}
    where indicator_id = 'MDS24'
        and breakdown = 'concern'

),

items as (

    select
        council_code,
        council_code || ':' || registration_id as item_id,
        child_key,
        registration_date as event_date,
        concerns as concern

    from registrations

),

-- The denominator: every registration of the cell.
registration_cells as (

    {{ indicator_cells('MDS24', 'items', 'flow') }}

),

-- The numerators: the registrations with each concern.
concern_cells as (

    {{ indicator_cells('MDS24', 'items', 'flow', breakdowns=['concern'], total=false) }}

)

select
    registration_cells.indicator_id,
    registration_cells.area_type,
    registration_cells.area_code,
    registration_cells.period_type,
    registration_cells.period_label,
    'concern' as breakdown,
    concern_codes.concern as breakdown_value,
    cast(coalesce(concern_cells.numerator, 0) as bigint) as numerator,
    cast(registration_cells.numerator as bigint) as denominator,
    cast(null as double) as median_days,
    cast(null as bigint) as n_children

from registration_cells
cross join concern_codes
left join concern_cells
    on registration_cells.area_type = concern_cells.area_type
    and registration_cells.area_code = concern_cells.area_code
    and registration_cells.period_type = concern_cells.period_type
    and registration_cells.period_label = concern_cells.period_label
    and concern_codes.concern = concern_cells.breakdown_value
