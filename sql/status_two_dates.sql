-- Status of every customer at two dates: the same classification as sql/status.sql
-- (DESIGN.md, Definitions: Status; its comments give the rules), at $as_of and at an earlier
-- $as_of_2, for the report's previous-period KPIs and the transition matrix.
-- A fragment: the caller puts WITH and the rows to classify (`dated`) before it, from the
-- orders (sql/status_dated_orders.sql: one aggregation for both dates instead of two; a
-- one-date run uses sql/status.sql, since carrying a second date's columns through its
-- per-customer pass cost time and memory at 100M order lines) or in the report from the
-- status history's timeline (sql/status_dated_timeline.sql). Tests check both sources
-- against one reference.
-- Input: dated (as_of, customer_id, first_purchase, last_purchase, purchases, revenue,
-- revenue_window, previous_gap_days), and _st_crm (customer_id of the CRM file; empty
-- without one).
-- Parameters: $as_of DATE; $as_of_2 DATE, earlier than $as_of; $new_days, $active_days,
-- $inactive_days INTEGER, $vip_share DECIMAL(9, 6) or NULL, $vip_min_revenue DECIMAL(38, 6)
-- or NULL.
-- Output: one row per customer and date (sql/status.sql's columns after as_of, the date
-- of the row). A customer with no order up to a date is not a row at that date unless the
-- CRM file has them (a prospect). Each date's VIP cut-off is its own.
dates AS (
    SELECT $as_of AS as_of
    UNION ALL
    SELECT CAST($as_of_2 AS DATE)
), people AS MATERIALIZED (  -- buyers, and with a CRM file its customers (prospects when they never bought)
    SELECT coalesce(p.as_of, c.as_of)                                AS as_of,
           coalesce(p.customer_id, c.customer_id)                    AS customer_id,
           p.first_purchase, p.last_purchase,
           coalesce(p.purchases, 0)                                  AS purchases,
           coalesce(p.revenue, 0)                                    AS revenue,
           coalesce(p.revenue_window, 0)                             AS revenue_window,
           p.previous_gap_days,
           c.customer_id IS NOT NULL                                 AS in_crm
    FROM dated AS p
    FULL OUTER JOIN (SELECT d.as_of, k.customer_id FROM _st_crm AS k CROSS JOIN dates AS d) AS c
      ON p.customer_id = c.customer_id AND p.as_of = c.as_of
), vip_k AS (  -- k = floor(share * P) at each date: how many customers the VIP share admits
    SELECT CAST(floor($vip_share * count(*) FILTER (WHERE as_of = $as_of)) AS BIGINT) AS k0,
           CAST(floor($vip_share * count(*) FILTER (WHERE as_of = CAST($as_of_2 AS DATE)))
                AS BIGINT)                                                         AS k1
    FROM people
    WHERE revenue_window > 0
), vip_cut AS (  -- the k-th largest revenue_window at each date (a top-k, not a rank)
    SELECT $as_of AS as_of, (SELECT k0 FROM vip_k) AS k,
           (SELECT revenue_window FROM people WHERE as_of = $as_of AND revenue_window > 0
            ORDER BY revenue_window DESC
            LIMIT 1 OFFSET (SELECT greatest(coalesce(k0, 0) - 1, 0) FROM vip_k)) AS cut
    UNION ALL
    SELECT CAST($as_of_2 AS DATE), (SELECT k1 FROM vip_k),
           (SELECT revenue_window FROM people
            WHERE as_of = CAST($as_of_2 AS DATE) AND revenue_window > 0
            ORDER BY revenue_window DESC
            LIMIT 1 OFFSET (SELECT greatest(coalesce(k1, 0) - 1, 0) FROM vip_k))
), flagged AS (
    -- RANK() <= k exactly when revenue_window >= the k-th largest value: customers tied
    -- with the last one inside the share are all VIPs
    SELECT p.*,
           date_diff('day', last_purchase, p.as_of) AS days_since_last,
           coalesce(revenue_window > 0 AND CASE
               WHEN $vip_min_revenue IS NOT NULL THEN revenue_window >= $vip_min_revenue
               ELSE c.k >= 1 AND revenue_window >= c.cut END, false) AS is_vip
    FROM people AS p
    JOIN vip_cut AS c ON c.as_of = p.as_of
)
SELECT as_of,
       customer_id,
       CASE
           WHEN purchases = 0 THEN CASE WHEN in_crm THEN 'prospect' END  -- NULL: left out
           WHEN date_diff('day', first_purchase, as_of) <= $new_days THEN 'new'
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
