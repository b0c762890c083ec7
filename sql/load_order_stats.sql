-- Counts of the canonical orders table, reported by `clientela inspect` and manifests.
-- Money is summed exactly as DECIMAL(38, 6) and then turned back into DOUBLE, so the result
-- does not depend on the order in which threads add the values (reruns give identical bytes).
-- Columns: orders, customers, customers_with_purchase, purchases, refunds, refund_value,
-- net_revenue, zero_value_orders, first_order, last_order.
SELECT
    count(*)                                                  AS orders,
    count(DISTINCT customer_id)                               AS customers,
    count(DISTINCT customer_id) FILTER (WHERE is_purchase)    AS customers_with_purchase,
    count(*) FILTER (WHERE is_purchase)                       AS purchases,
    count(*) FILTER (WHERE is_refund)                         AS refunds,
    coalesce(CAST(sum(CAST(amount AS DECIMAL(38, 6))) FILTER (WHERE is_refund) AS DOUBLE), 0)
                                                              AS refund_value,
    coalesce(CAST(sum(CAST(amount AS DECIMAL(38, 6))) AS DOUBLE), 0) AS net_revenue,
    count(*) FILTER (WHERE amount = 0)                        AS zero_value_orders,
    CAST(min(order_ts) AS VARCHAR)                            AS first_order,
    CAST(max(order_ts) AS VARCHAR)                            AS last_order
FROM orders
