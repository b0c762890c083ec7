-- BTYD summary per customer (the modelling definition of lifetimes / pymc-marketing /
-- Money is summed exactly as DECIMAL(38, 6) and then turned back into DOUBLE, so the result
-- does not depend on the order in which threads add the values (reruns give identical bytes).
-- CLVTools; DESIGN.md, Definitions: BTYD summary). Purchases are collapsed per calendar day.
-- Parameters: $end (DATE, observation end), $unit (DOUBLE: 1 for days, 7 for weeks).
-- frequency = repeat days; recency = last day - first day; T = end - first day (in units);
-- monetary_value = mean of the per-day sums excluding the first day (0 without repeats).
WITH days AS (
    SELECT customer_id, order_date AS day, sum(CAST(amount AS DECIMAL(38, 6))) AS value
    FROM orders
    WHERE is_purchase AND order_date <= $end
    GROUP BY customer_id, order_date
)
SELECT
    customer_id,
    count(*) - 1                                                    AS frequency,
    date_diff('day', min(day), max(day)) / $unit                    AS recency,
    date_diff('day', min(day), $end) / $unit                        AS T,
    -- the first day's value is arg_min(value, day): one row per day, so no window is needed
    coalesce(CAST(sum(value) - arg_min(value, day) AS DOUBLE) / nullif(count(*) - 1, 0), 0)
                                                                    AS monetary_value
FROM days
GROUP BY customer_id
