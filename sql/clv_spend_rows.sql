-- The rows the Gamma-Gamma likelihood is summed over: repeat buyers (frequency > 0) with a
-- positive mean spend of their repeat purchases (monetary_value), grouped by the distinct
-- (frequency, monetary_value) with the number of customers sharing each. Repeat buyers
-- whose repeat purchases sum to 0 are left out of the fit and counted (sql/clv_stats.sql).
-- No parameters.
SELECT frequency, monetary_value, count(*) AS weight
FROM btyd
WHERE frequency > 0 AND monetary_value > 0
GROUP BY frequency, monetary_value
ORDER BY frequency, monetary_value
