-- Transition matrix between two dates: every customer's status at the earlier date
-- (from_status; 'none' for customers who were not yet customers then: no purchase and
-- not in the CRM file) against the later one (to_status), with the number of customers,
-- their share of the from_status group, and their net revenue between the two dates
-- (orders after the earlier date, up to and including the later one).
-- Input: _st_from and _st_to (sql/status.sql at the two dates), _st_statuses(status, ord).
SELECT coalesce(f.status, 'none')                                        AS from_status,
       t.status                                                          AS to_status,
       count(*)                                                          AS customers,
       round(count(*) / sum(count(*)) OVER (PARTITION BY coalesce(f.status, 'none')), 4)
                                                                         AS share_from,
       round(CAST(sum(t.revenue - coalesce(f.revenue, 0)) AS DOUBLE), 2) AS revenue
FROM _st_to AS t
LEFT JOIN _st_from AS f ON f.customer_id = t.customer_id
LEFT JOIN _st_statuses AS a ON a.status = f.status
JOIN _st_statuses AS b ON b.status = t.status
GROUP BY coalesce(f.status, 'none'), t.status, coalesce(a.ord, -1), b.ord
ORDER BY coalesce(a.ord, -1), b.ord
