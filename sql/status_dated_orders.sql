-- The rows sql/status_two_dates.sql classifies, from the orders: every customer's values
-- at $as_of and at an earlier $as_of_2 from one aggregation over the orders (the per-customer
-- values of sql/status.sql, filtered to the orders up to each date). The status command's
-- --from/--to and the report (when it cannot read them from the status history's timeline,
-- sql/status_dated_timeline.sql) use this.
-- A fragment: the common table expressions that end with `dated`, put after WITH and before
-- sql/status_two_dates.sql by the caller.
-- Input: the view orders. Parameters: $as_of DATE (inclusive; later orders are ignored),
-- $as_of_2 DATE (earlier than $as_of), $vip_window_days INTEGER.
-- dated: one row per customer and date with an order up to it: as_of, customer_id,
-- first_purchase, last_purchase, purchases, revenue, revenue_window, previous_gap_days.
per AS (
    SELECT customer_id,
           min(order_date) FILTER (WHERE is_purchase)                     AS first_purchase,
           max(order_date) FILTER (WHERE is_purchase)                     AS last_0,
           count(*) FILTER (WHERE is_purchase)                            AS purchases_0,
           sum(CAST(amount AS DECIMAL(38, 6)))                            AS revenue_0,
           coalesce(sum(CAST(amount AS DECIMAL(38, 6))) FILTER (
               WHERE date_diff('day', order_date, $as_of) <= $vip_window_days), 0)
                                                                          AS window_0,
           -- the same at the second date
           bool_or(order_date <= CAST($as_of_2 AS DATE))                  AS seen_1,
           max(order_date) FILTER (
               WHERE is_purchase AND order_date <= CAST($as_of_2 AS DATE)) AS last_1,
           count(*) FILTER (
               WHERE is_purchase AND order_date <= CAST($as_of_2 AS DATE)) AS purchases_1,
           sum(CAST(amount AS DECIMAL(38, 6))) FILTER (
               WHERE order_date <= CAST($as_of_2 AS DATE))                AS revenue_1,
           coalesce(sum(CAST(amount AS DECIMAL(38, 6))) FILTER (
               WHERE order_date <= CAST($as_of_2 AS DATE)
                 AND date_diff('day', order_date, CAST($as_of_2 AS DATE)) <= $vip_window_days),
               0)                                                         AS window_1
    FROM orders
    WHERE order_date <= $as_of
    GROUP BY customer_id
), previous AS (  -- the purchase day before the last one, at each date (two or more days)
    SELECT o.customer_id,
           max(o.order_date)                                             AS previous_0,
           max(o.order_date) FILTER (WHERE o.order_date < p.last_1)      AS previous_1
    FROM orders AS o
    JOIN per AS p
      ON p.customer_id = o.customer_id AND p.first_purchase < p.last_0
    WHERE o.is_purchase AND o.order_date < p.last_0
    GROUP BY o.customer_id
), dated AS (  -- one row per customer and date
    SELECT $as_of AS as_of, p.customer_id, p.first_purchase, p.last_0 AS last_purchase,
           p.purchases_0 AS purchases, p.revenue_0 AS revenue, p.window_0 AS revenue_window,
           date_diff('day', v.previous_0, p.last_0) AS previous_gap_days
    FROM per AS p
    LEFT JOIN previous AS v ON v.customer_id = p.customer_id
    UNION ALL
    SELECT CAST($as_of_2 AS DATE), p.customer_id,
           CASE WHEN p.first_purchase <= CAST($as_of_2 AS DATE) THEN p.first_purchase END,
           p.last_1, p.purchases_1, p.revenue_1, p.window_1,
           date_diff('day', v.previous_1, p.last_1)
    FROM per AS p
    LEFT JOIN previous AS v ON v.customer_id = p.customer_id
    WHERE p.seen_1
)
