-- Per-customer CLV (docs/clv.md; the caller rounds money to cents and sorts): the BTYD
-- summary `btyd` joined with the BG/NBD scores of its distinct (frequency, recency, T) rows
-- in `_clv_scores` (p_alive, expected_purchases over the horizon, discounted_purchases =
-- the same purchases month by month, each discounted to today; computed by clientela.clv
-- from the fitted parameters).
-- expected_avg_value is the Gamma-Gamma expectation of the customer's mean spend:
--   repeat buyers   p (gamma + x m) / (p x + q - 1), x = frequency, m = monetary_value
--                   (floored at 0);
--   one-time buyers the population mean p gamma / (q - 1) (NULL when q <= 1);
--   NULL for everyone when Gamma-Gamma was not fitted ($p NULL).
-- clv = expected_avg_value * discounted_purchases.
-- churn: repeat buyers when p_alive < $alive_threshold; one-time buyers (P(alive) = 1 by
-- the model's assumptions) when their only purchase is more than $churn_days days old.
-- Parameters: $p, $q, $gamma, $alive_threshold, $churn_days, $unit_days (1 or 7).
WITH scored AS (
    SELECT
        b.*,
        s.* EXCLUDE (frequency, recency, T),
        CASE
            WHEN b.frequency > 0
                 AND CAST($p AS DOUBLE) * b.frequency + CAST($q AS DOUBLE) > 1
                THEN CAST($p AS DOUBLE) * (CAST($gamma AS DOUBLE)
                     + b.frequency * greatest(b.monetary_value, 0))
                     / (CAST($p AS DOUBLE) * b.frequency + CAST($q AS DOUBLE) - 1)
            WHEN b.frequency = 0 AND CAST($q AS DOUBLE) > 1
                THEN CAST($p AS DOUBLE) * CAST($gamma AS DOUBLE) / (CAST($q AS DOUBLE) - 1)
        END AS expected_avg_value
    FROM btyd b
    JOIN _clv_scores s USING (frequency, recency, T)
)
SELECT
    *,
    expected_avg_value * discounted_purchases AS clv,
    CASE
        WHEN frequency > 0 THEN p_alive < $alive_threshold
        ELSE round(T * $unit_days) > $churn_days
    END AS churn,
    CASE WHEN frequency > 0 THEN 'p_alive' ELSE 'recency' END AS churn_rule
FROM scored
