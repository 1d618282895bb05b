-- MDS18 Registrations: "sw registrations by `registration_date`. Breakdowns: age band, sex."
-- Every registration with registration_date in the period is an item (a registration is the
-- council and its registration_id), so this counts registrations, not children: a child
-- registered in two councils, or twice in one, counts each time, in the CPC and Scotland too.
-- Age band at the registration date (age_band: `unborn` when registered before the month of
-- birth, or with no birth month before the expected date of birth; `unknown` with neither known
-- or an expected date passed); sex M, F or U. The count is the numerator; indicator_values adds
-- the population and the rate.

with

registrations as (

    select * from {{ ref('fct_registrations') }}

),

items as (

    select
        council_code,
        council_code || ':' || registration_id as item_id,
        child_key,
        registration_date as event_date,
        birth_month,
        expected_date_of_birth,
        sex

    from registrations

)

{{ indicator_cells('MDS18', 'items', 'flow', breakdowns=['age_band', 'sex']) }}
