-- Holdout validation of a --calibration-end run, as in Fader, Hardie & Lee (2005), figure 4:
-- customers grouped by their number of repeat purchases in the calibration period (0 .. 6,
-- then 7+), with actual holdout purchases (frequency_holdout: distinct purchase days after
-- the calibration end) against the BG/NBD conditional expectation over the same holdout
-- length (expected_holdout_purchases), as totals and means per customer. Over the
-- per-customer table `clv`. No parameters.
SELECT
    CASE WHEN frequency >= 7 THEN '7+' ELSE CAST(CAST(frequency AS INTEGER) AS VARCHAR) END
                                                AS calibration_purchases,
    count(*)                                    AS customers,
    sum(frequency_holdout)                      AS actual,
    sum(expected_holdout_purchases)             AS predicted,
    avg(frequency_holdout)                      AS actual_mean,
    avg(expected_holdout_purchases)             AS predicted_mean
FROM clv
GROUP BY 1
ORDER BY min(frequency)
