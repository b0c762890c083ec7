-- Holdout columns of a calibration/holdout split, as lifetimes' calibration_and_holdout_data:
-- frequency_holdout = distinct purchase days in ($cal_end, $end]; monetary_value_holdout =
-- mean of the holdout purchases themselves (not of per-day sums, as lifetimes does);
-- duration_holdout = ($as_of - $cal_end) in units (computed by the caller). Parameters:
-- $cal_end, $as_of.
SELECT
    customer_id,
    count(DISTINCT order_date)::DOUBLE                        AS frequency_holdout,
    coalesce(CAST(sum(CAST(amount AS DECIMAL(38, 6))) AS DOUBLE) / nullif(count(*), 0), 0)
                                                              AS monetary_value_holdout
FROM orders
WHERE is_purchase AND order_date > $cal_end AND order_date <= $as_of
GROUP BY customer_id
