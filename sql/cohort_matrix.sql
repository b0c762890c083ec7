-- Cohorts, step 3: activity per cohort and calendar period, from the customers' point of view.
-- Inputs: _coh_activity (step 1) and _coh_customers (step 2).
-- Parameters: $period (as in step 1), $last_period (as in step 2).
-- One row per (grp, cohort, period_start) with activity; k = the period index, the number of
-- whole periods from the cohort's period to period_start (0 = the acquisition period).
--   customers  cohort members with a purchase in the period
--   orders     their purchases (orders with positive net value) in the period
--   revenue    the net amount of all their orders in the period, refunds included
--   last_here  members whose last purchase is in the period (gives "on or after" counts)
--   refund_or_zero_orders  orders in the period that are not purchases
-- Rows with k < 0 are orders before the customer's first purchase period (refunds or
-- zero-value orders only; a purchase would have made an earlier cohort): they precede the
-- acquisition, belong to no cell, and are reported in the run's metadata.
SELECT
    c.grp,
    c.cohort,
    a.period_start,
    date_diff($period, c.cohort, a.period_start)            AS k,
    count(*) FILTER (WHERE a.purchases > 0)                 AS customers,
    sum(a.purchases)                                        AS orders,
    sum(a.revenue)                                          AS revenue,
    count(*) FILTER (WHERE a.period_start = c.last_active)  AS last_here,
    sum(a.orders - a.purchases)                             AS refund_or_zero_orders
FROM _coh_activity AS a
JOIN _coh_customers AS c ON a.customer_id = c.customer_id
WHERE c.cohort IS NOT NULL AND a.period_start <= $last_period
GROUP BY c.grp, c.cohort, a.period_start
