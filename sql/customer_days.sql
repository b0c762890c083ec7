-- One row per customer and calendar day with an order up to the as-of date: the day totals
-- the churn flags (purchase days, sql/churn.sql) and the status history (day totals,
-- sql/status_history_cells.sql) start from. A command running one of them reads this as a
-- view (the grouping runs inside its query); the report, which runs both, groups the orders
-- once into a table of this name (_days) and both read that.
-- Input: the view orders. No parameters.
-- Columns: customer_id; day (order_date); purchases (orders with positive net value that
-- day, is_purchase); net (net amount of every order that day, refunds included, summed
-- exactly as DECIMAL(38, 6) so reruns give identical results).
SELECT customer_id,
       order_date                          AS day,
       count(*) FILTER (WHERE is_purchase) AS purchases,
       sum(CAST(amount AS DECIMAL(38, 6))) AS net
FROM orders
GROUP BY customer_id, order_date
