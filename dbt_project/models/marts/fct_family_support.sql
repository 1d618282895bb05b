-- Voluntary-sector family support, early help (thirdsector `family_support`): one row per referral
-- to a provider, in its current state. A referral without a valid CHI is a child of its own.

with

support as (

    select * from {{ ref('int_thirdsector__family_support__current') }}

),

family_support as (

    select
        _file_id,
        _row,
        council_code,
        _org as provider_code,
        support_id,
        coalesce(chi_pseudonym, support_id) as child_key,
        referral_date,
        start_date,
        end_date,
        support_type

    from support

)

select * from family_support
