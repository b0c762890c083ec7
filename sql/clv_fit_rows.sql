-- The rows the BG/NBD likelihood is summed over: the distinct (frequency, recency, T) of the
-- BTYD summary `btyd` (sql/btyd_summary.sql) with the number of customers sharing each, so
-- a fit on millions of customers costs what a fit on the distinct rows costs. Sorted, so
-- the weighted sums (and the fit) are the same on every run. No parameters.
SELECT frequency, recency, T, count(*) AS weight
FROM btyd
GROUP BY frequency, recency, T
ORDER BY frequency, recency, T
