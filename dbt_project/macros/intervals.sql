{#
    95% intervals (indicators.md, "Rates" and "Percentages"), z from the catalogue (var 'z').

    Byar's method for a count O (a rate's numerator), as bounds on the count; the rate's bounds are
    these divided by the population and multiplied by 1,000. The lower limit is 0 for a count of 0.
#}
{% macro byar_lower(count) -%}
    case
        when {{ count }} = 0 then 0.0
        else {{ count }} * power(
            1 - 1 / (9.0 * {{ count }}) - {{ var('z') }} / (3 * sqrt({{ count }})), 3
        )
    end
{%- endmacro %}

{% macro byar_upper(count) -%}
    ({{ count }} + 1) * power(
        1 - 1 / (9.0 * ({{ count }} + 1)) + {{ var('z') }} / (3 * sqrt({{ count }} + 1)), 3
    )
{%- endmacro %}

{#
    Wilson score interval for x successes in n trials, as percentages; null when n is 0. The
    bounds are within 0-100 in exact arithmetic; floating point can overshoot by ~1e-14 at 0% and
    100%, so they are clamped there.
#}
{% macro wilson_bound(x, n, sign) -%}
    case
        when {{ n }} > 0 then least(100.0, greatest(0.0, 100 * (
            ({{ x }} / {{ n }}) + power({{ var('z') }}, 2) / (2.0 * {{ n }})
            {{ sign }} {{ var('z') }} * sqrt(
                ({{ x }} / {{ n }}) * (1 - {{ x }} / {{ n }}) / {{ n }}
                + power({{ var('z') }}, 2) / (4.0 * power({{ n }}, 2))
            )
        ) / (1 + power({{ var('z') }}, 2) / {{ n }})))
    end
{%- endmacro %}

{% macro wilson_lower(x, n) -%}
    {{ wilson_bound(x, n, '-') }}
{%- endmacro %}

{% macro wilson_upper(x, n) -%}
    {{ wilson_bound(x, n, '+') }}
{%- endmacro %}
