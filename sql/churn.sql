-- Churn flags per customer at the as-of date (DESIGN.md, Definitions: Churn), one row per
-- customer with a purchase up to the as-of date.
-- Input: _days (sql/customer_days.sql: one row per customer and day with an order);
-- _ch_scores(customer_id, p_alive) (the BG/NBD probability alive with --method model;
-- empty otherwise).
-- Parameters: $as_of DATE; $method ('threshold' | 'cadence' | 'model'); $churn_days INTEGER;
-- $k DOUBLE; $min_purchase_days INTEGER (3); $alive_threshold DOUBLE.
-- days_since_last = as-of - last purchase date. Gaps are counted between consecutive
-- purchase days (distinct calendar days, so two orders on one day are one visit);
-- expected_gap_days is the median gap (the middle gap, or the mean of the two middle gaps
-- for an even count; NULL with a single purchase day).
-- Rules (the column rule says which one decided the row):
--   threshold: churned when days_since_last > churn_days (no purchase within churn_days);
--   cadence: churned when days_since_last > k * expected_gap_days, for customers with at
--     least $min_purchase_days purchase days; others fall back to the threshold
--     (rule 'threshold_fallback');
--   model: churned when p_alive < alive_threshold, for customers with at least two
--     purchase days (BG/NBD gives every one-time buyer P(alive) = 1 by construction, so it
--     cannot judge them); they, and customers the model did not score, fall back to the
--     threshold (rule 'threshold_fallback').
WITH days AS MATERIALIZED (
    SELECT customer_id, day
    FROM _days
    WHERE purchases > 0 AND day <= $as_of
), span AS MATERIALIZED (
    SELECT customer_id, max(day) AS last_purchase, min(day) AS first_day,
           count(*) AS purchase_days
    FROM days
    GROUP BY customer_id
), gaps AS (
    -- with at most 3 purchase days the median gap needs no gaps: one gap is the span, and
    -- the median of two is their mean, half the span; only customers with more are ranked
    SELECT customer_id,
           date_diff('day', lag(day) OVER (PARTITION BY customer_id ORDER BY day), day) AS gap
    FROM days
    WHERE customer_id IN (SELECT customer_id FROM span WHERE purchase_days > 3)
), ranked AS (
    -- the median by rank, not median(): DuckDB's median keeps every customer's gaps in
    -- memory and cannot spill, so 100M order lines ran out of memory under --memory-limit
    SELECT customer_id, gap,
           row_number() OVER (PARTITION BY customer_id ORDER BY gap NULLS LAST) AS gap_rank,
           count(gap) OVER (PARTITION BY customer_id) AS n_gaps
    FROM gaps
), median_gap AS (
    SELECT customer_id,
           avg(gap) FILTER (WHERE gap_rank IN ((n_gaps + 1) // 2, (n_gaps + 2) // 2)) AS gap
    FROM ranked
    GROUP BY customer_id
), per AS (
    SELECT s.customer_id, s.last_purchase, s.purchase_days,
           CASE WHEN s.purchase_days <= 3
                THEN date_diff('day', s.first_day, s.last_purchase)
                     / nullif(s.purchase_days - 1, 0)
                ELSE m.gap END AS expected_gap_days
    FROM span AS s
    LEFT JOIN median_gap AS m ON m.customer_id = s.customer_id
), ruled AS (
    SELECT p.*,
           s.p_alive,
           date_diff('day', p.last_purchase, $as_of) AS days_since_last,
           CASE
               WHEN $method = 'model' AND s.p_alive IS NOT NULL AND p.purchase_days >= 2
                   THEN 'model'
               WHEN $method = 'cadence' AND p.purchase_days >= $min_purchase_days THEN 'cadence'
               WHEN $method = 'threshold' THEN 'threshold'
               ELSE 'threshold_fallback'
           END AS rule
    FROM per AS p
    LEFT JOIN _ch_scores AS s ON s.customer_id = p.customer_id
), decided AS (
    SELECT *,
           CASE rule
               WHEN 'model' THEN NULL
               WHEN 'cadence' THEN $k * expected_gap_days
               ELSE CAST($churn_days AS DOUBLE)
           END AS threshold_days
    FROM ruled
)
SELECT customer_id,
       CASE WHEN rule = 'model' THEN p_alive < $alive_threshold
            ELSE days_since_last > threshold_days END AS churned,
       rule,
       last_purchase,
       days_since_last,
       purchase_days,
       expected_gap_days,
       threshold_days,
       p_alive
FROM decided
