-- Status of every customer at one date (DESIGN.md, Definitions: Status).
-- Input: the view orders, and _st_crm (customer_id of the CRM file; empty without one).
-- Parameters: $as_of DATE (inclusive; later orders are ignored), $new_days, $active_days,
-- $inactive_days, $vip_window_days INTEGER, $vip_share DECIMAL(9, 6) or NULL,
-- $vip_min_revenue DECIMAL(38, 6) or NULL (exactly one of the two is given).
--
-- Per customer: first/last purchase date, days_since_last = as-of - last purchase,
-- purchases (orders with positive net value), revenue (net, refunds included),
-- revenue_window = net revenue of the orders at most vip_window_days days before the as-of
-- date, previous_gap_days = days between the last purchase day and the purchase day before
-- it (distinct calendar days; NULL with a single purchase day).
-- VIP: revenue_window > 0 and either revenue_window >= $vip_min_revenue, or
-- RANK() by revenue_window (highest first) <= floor($vip_share * P), P = customers with
-- revenue_window > 0: customers tied with the last one inside the share are all VIPs.
-- Customers with orders but no purchase who are not in the CRM file get status NULL (the
-- caller leaves them out and counts them).
-- Status, first match wins: prospect (in the CRM file, no purchase), new (first purchase
-- within new_days), inactive (no purchase within inactive_days), vip, reactivated (last
-- purchase within active_days after a gap longer than inactive_days), active (last
-- purchase within active_days), at_risk. "Within N days" means days_since <= N.
-- Money is summed exactly as DECIMAL(38, 6), so reruns give identical bytes.
WITH per AS (
    SELECT customer_id,
           min(order_date) FILTER (WHERE is_purchase)                     AS first_purchase,
           max(order_date) FILTER (WHERE is_purchase)                     AS last_purchase,
           count(*) FILTER (WHERE is_purchase)                            AS purchases,
           sum(CAST(amount AS DECIMAL(38, 6)))                            AS revenue,
           coalesce(sum(CAST(amount AS DECIMAL(38, 6))) FILTER (
               WHERE date_diff('day', order_date, $as_of) <= $vip_window_days), 0)
                                                                          AS revenue_window
    FROM orders
    WHERE order_date <= $as_of
    GROUP BY customer_id
), previous AS (  -- the purchase day before the last one (customers with two or more)
    SELECT o.customer_id, max(o.order_date) AS previous_purchase
    FROM orders AS o
    JOIN per AS p
      ON p.customer_id = o.customer_id AND p.first_purchase < p.last_purchase
    WHERE o.is_purchase AND o.order_date < p.last_purchase
    GROUP BY o.customer_id
), people AS MATERIALIZED (  -- buyers, and with a CRM file its customers (prospects when they never bought)
    SELECT coalesce(p.customer_id, c.customer_id)                    AS customer_id,
           p.first_purchase, p.last_purchase,
           coalesce(p.purchases, 0)                                  AS purchases,
           coalesce(p.revenue, 0)                                    AS revenue,
           coalesce(p.revenue_window, 0)                             AS revenue_window,
           date_diff('day', v.previous_purchase, p.last_purchase)    AS previous_gap_days,
           c.customer_id IS NOT NULL                                 AS in_crm
    FROM per AS p
    LEFT JOIN previous AS v ON v.customer_id = p.customer_id
    FULL OUTER JOIN _st_crm AS c ON p.customer_id = c.customer_id
), vip_k AS (  -- k = floor(share * P): how many customers the VIP share admits
    SELECT CAST(floor($vip_share * count(*)) AS BIGINT) AS k
    FROM people
    WHERE revenue_window > 0
), vip_cut AS (  -- the k-th largest revenue_window (a top-k, not a rank over everyone)
    SELECT (SELECT k FROM vip_k) AS k,
           (SELECT revenue_window FROM people WHERE revenue_window > 0
            ORDER BY revenue_window DESC
            LIMIT 1 OFFSET (SELECT greatest(coalesce(k, 0) - 1, 0) FROM vip_k)) AS cut
), flagged AS (
    -- RANK() <= k exactly when revenue_window >= the k-th largest value: customers tied
    -- with the last one inside the share are all VIPs
    SELECT p.*,
           date_diff('day', last_purchase, $as_of) AS days_since_last,
           coalesce(revenue_window > 0 AND CASE
               WHEN $vip_min_revenue IS NOT NULL THEN revenue_window >= $vip_min_revenue
               ELSE c.k >= 1 AND revenue_window >= c.cut END, false) AS is_vip
    FROM people AS p, vip_cut AS c
)
SELECT customer_id,
       CASE
           WHEN purchases = 0 THEN CASE WHEN in_crm THEN 'prospect' END  -- NULL: left out
           WHEN date_diff('day', first_purchase, $as_of) <= $new_days THEN 'new'
           WHEN days_since_last > $inactive_days THEN 'inactive'
           WHEN is_vip THEN 'vip'
           WHEN days_since_last <= $active_days AND previous_gap_days > $inactive_days
               THEN 'reactivated'
           WHEN days_since_last <= $active_days THEN 'active'
           ELSE 'at_risk'
       END                                  AS status,
       is_vip,
       first_purchase,
       last_purchase,
       days_since_last,
       purchases,
       revenue,
       revenue_window,
       previous_gap_days
FROM flagged
