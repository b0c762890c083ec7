-- Counts of the canonical orders table, reported by `clientela inspect` and manifests, and
-- the inputs of the loader's data-quality warnings. Two passes: one plain scan for the
-- order totals, and one narrow pass per customer for the customer counts (a per-customer
-- pass carrying every total took twice as long once DuckDB spilled, at 100M lines).
-- Money is summed exactly as DECIMAL(38, 6) and then turned back into DOUBLE, so the
-- result does not depend on the order in which threads add the values.
-- Parameter: $today (orders dated after it are "future").
-- Columns: orders, customers, customers_with_purchase, purchases, refunds, refund_value,
-- net_revenue, zero_value_orders, first_order, last_order, future_orders, ancient_orders,
-- top_customer_orders.
WITH per_customer AS (
    SELECT count(*) AS n, bool_or(is_purchase) AS buyer
    FROM orders
    GROUP BY customer_id
), customers AS (
    SELECT
        count(*)                      AS customers,
        count(*) FILTER (WHERE buyer) AS customers_with_purchase,
        coalesce(max(n), 0)           AS top_customer_orders
    FROM per_customer
), totals AS (
    SELECT
        count(*)                                                            AS orders,
        count(*) FILTER (WHERE is_purchase)                                 AS purchases,
        count(*) FILTER (WHERE is_refund)                                   AS refunds,
        coalesce(CAST(sum(CAST(amount AS DECIMAL(38, 6))) FILTER (WHERE is_refund)
                      AS DOUBLE), 0)                                        AS refund_value,
        coalesce(CAST(sum(CAST(amount AS DECIMAL(38, 6))) AS DOUBLE), 0)    AS net_revenue,
        count(*) FILTER (WHERE amount = 0)                                  AS zero_value_orders,
        CAST(min(order_ts) AS VARCHAR)                                      AS first_order,
        CAST(max(order_ts) AS VARCHAR)                                      AS last_order,
        count(*) FILTER (WHERE order_date > $today)                         AS future_orders,
        count(*) FILTER (WHERE order_date < DATE '1990-01-01')              AS ancient_orders
    FROM orders
)
SELECT
    t.orders, c.customers, c.customers_with_purchase, t.purchases, t.refunds, t.refund_value,
    t.net_revenue, t.zero_value_orders, t.first_order, t.last_order, t.future_orders,
    t.ancient_orders, c.top_customer_orders
FROM totals AS t, customers AS c
