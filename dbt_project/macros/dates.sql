{#
    Whole years from a month of birth to a date (indicators.md, "Age"): only the month of birth is
    ever stored, and the child is taken as born on its first day, so the age is the whole months
    between the two months, in years.
#}
{% macro age_in_years(birth_month, on_date) -%}
    ((year({{ on_date }}) - year({{ birth_month }})) * 12
        + month({{ on_date }}) - month({{ birth_month }})) // 12
{%- endmacro %}

{#
    The same day of the month N months away, clamped to that month's last day (indicators.md,
    "Dates N months earlier or later": 31 August minus 6 months is 29 February in a leap year).
    DuckDB's month arithmetic clamps in exactly this way.
#}
{% macro months_before(on_date, months) -%}
    cast({{ on_date }} - to_months({{ months }}) as date)
{%- endmacro %}

{% macro months_after(on_date, months) -%}
    cast({{ on_date }} + to_months({{ months }}) as date)
{%- endmacro %}

{% macro days_after(on_date, days) -%}
    cast({{ on_date }} + to_days({{ days }}) as date)
{%- endmacro %}
