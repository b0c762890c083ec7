-- Cohorts with --by: the group of every customer with a purchase up to the as-of date.
-- Input: the view _coh_orders (orders + _grp, the --by column as text, '(none)' when empty).
-- grp = the value on the customer's first purchase (the acquisition channel, the first
-- category...); purchases at the same timestamp: the smallest value, so reruns agree.
SELECT
    customer_id,
    arg_min(_grp, ROW(order_ts, _grp)) AS grp
FROM _coh_orders
WHERE is_purchase
GROUP BY customer_id
