-- RFM values per customer and --by group at the as-of date (DESIGN.md, Definitions: RFM).
-- Money is summed exactly as DECIMAL(38, 6) and then turned back into DOUBLE, so the result
-- does not depend on the order in which threads add the values (reruns give identical bytes).
-- Input: the view _rfm_orders = orders + _grp (the --by dimension). Without --by,
-- rfm_values.sql runs instead (no group to carry).
-- Parameters: $as_of (DATE), $by_last (BOOLEAN: group value of the last purchase, not the first).
-- recency_days = as-of - last purchase date; frequency = purchases (orders with positive net
-- value); monetary = net revenue (refunds included); customers without a purchase are left out.
SELECT
    customer_id,
    -- purchases at the same time: the largest (last) or smallest (first) group value
    CASE WHEN $by_last
         THEN arg_max(_grp, (order_ts, _grp)) FILTER (WHERE is_purchase)
         ELSE arg_min(_grp, (order_ts, _grp)) FILTER (WHERE is_purchase) END AS _grp,
    min(order_date) FILTER (WHERE is_purchase)                           AS first_purchase,
    max(order_date) FILTER (WHERE is_purchase)                           AS last_purchase,
    date_diff('day', max(order_date) FILTER (WHERE is_purchase), $as_of) AS recency_days,
    count(*) FILTER (WHERE is_purchase)                                  AS frequency,
    coalesce(CAST(sum(CAST(amount AS DECIMAL(38, 6))) AS DOUBLE), 0)     AS monetary
FROM _rfm_orders
GROUP BY customer_id
HAVING count(*) FILTER (WHERE is_purchase) > 0
