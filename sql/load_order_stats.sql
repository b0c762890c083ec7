-- Counts of the canonical orders table, reported by `clientela inspect` and manifests, and
-- the inputs of the loader's data-quality warnings, in one pass (per customer, then over
-- customers). Money is summed exactly as DECIMAL(38, 6) and then turned back into DOUBLE,
-- so the result does not depend on the order in which threads add the values.
-- Parameter: $today (orders dated after it are "future").
-- Columns: orders, customers, customers_with_purchase, purchases, refunds, refund_value,
-- net_revenue, zero_value_orders, first_order, last_order, future_orders, ancient_orders,
-- top_customer_orders.
WITH per_customer AS (
    SELECT
        count(*)                                            AS n,
        bool_or(is_purchase)                                AS buyer,
        count(*) FILTER (WHERE is_purchase)                 AS purchases,
        count(*) FILTER (WHERE is_refund)                   AS refunds,
        sum(CAST(amount AS DECIMAL(38, 6))) FILTER (WHERE is_refund) AS refund_value,
        sum(CAST(amount AS DECIMAL(38, 6)))                 AS net_revenue,
        count(*) FILTER (WHERE amount = 0)                  AS zero_value_orders,
        min(order_ts)                                       AS first_ts,
        max(order_ts)                                       AS last_ts,
        count(*) FILTER (WHERE order_date > $today)         AS future_orders,
        count(*) FILTER (WHERE order_date < DATE '1990-01-01') AS ancient_orders
    FROM orders
    GROUP BY customer_id
)
SELECT
    coalesce(sum(n), 0)                                       AS orders,
    count(*)                                                  AS customers,
    count(*) FILTER (WHERE buyer)                             AS customers_with_purchase,
    coalesce(sum(purchases), 0)                               AS purchases,
    coalesce(sum(refunds), 0)                                 AS refunds,
    coalesce(CAST(sum(refund_value) AS DOUBLE), 0)            AS refund_value,
    coalesce(CAST(sum(net_revenue) AS DOUBLE), 0)             AS net_revenue,
    coalesce(sum(zero_value_orders), 0)                       AS zero_value_orders,
    CAST(min(first_ts) AS VARCHAR)                            AS first_order,
    CAST(max(last_ts) AS VARCHAR)                             AS last_order,
    coalesce(sum(future_orders), 0)                           AS future_orders,
    coalesce(sum(ancient_orders), 0)                          AS ancient_orders,
    coalesce(max(n), 0)                                       AS top_customer_orders
FROM per_customer
