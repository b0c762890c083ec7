-- Cohorts, step 1 (DESIGN.md, Definitions: Cohorts): one row per customer and calendar period
-- in which the customer has at least one order up to the as-of date.
-- Input: the view _coh_orders (the canonical orders, plus _grp: the --by dimension).
-- Parameters:
--   $period  'day' | 'week' | 'month' | 'quarter' | 'year' (weeks are ISO weeks, Monday first)
-- Columns:
--   period_start  first day of the calendar period of order_date (order_date is already a
--                 calendar date in the reporting time zone)
--   orders        orders in the period (purchases, refunds and zero-value orders)
--   purchases     orders with positive net value (is_purchase)
--   revenue       net amount of every order in the period, refunds included, summed exactly
--                 as decimals (6 places; orders below 10^12) so reruns give identical results
SELECT
    customer_id,
    CAST(date_trunc($period, order_date) AS DATE)  AS period_start,
    count(*)                                       AS orders,
    count(*) FILTER (WHERE is_purchase)            AS purchases,
    sum(CAST(amount AS DECIMAL(18, 6)))            AS revenue
FROM _coh_orders
GROUP BY customer_id, CAST(date_trunc($period, order_date) AS DATE)
