-- One row per status (display order), from the per-customer table _st_exact built by
-- sql/status.sql: customers, their share, net revenue in the VIP window, its share, and the
-- median days since the last purchase (the middle value; the mean of the two middle values
-- for an even count; NULL for prospects). Statuses without customers are listed with 0.
-- Input: _st_exact, _st_statuses(status, ord).
SELECT
    s.status,
    count(e.customer_id)                                                 AS customers,
    round(count(e.customer_id) / nullif(sum(count(e.customer_id)) OVER (), 0), 4)
                                                                         AS share_customers,
    round(CAST(coalesce(sum(e.revenue_window), 0) AS DOUBLE), 2)        AS revenue_window,
    round(CAST(coalesce(sum(e.revenue_window), 0)
               / nullif(sum(sum(e.revenue_window)) OVER (), 0) AS DOUBLE), 4)
                                                                         AS share_revenue,
    round(median(e.days_since_last), 1)                                  AS median_days_since_last
FROM _st_statuses AS s
LEFT JOIN _st_exact AS e ON e.status = s.status
GROUP BY s.status, s.ord
ORDER BY s.ord
