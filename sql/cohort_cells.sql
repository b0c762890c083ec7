-- Cohorts, step 4: the dense cohort x period-index grid, one row per cell that is observed.
-- Inputs: _coh_customers (step 2) and _coh_matrix (step 3).
-- Parameters:
--   $period       'day' | 'week' | 'month' | 'quarter' | 'year'
--   $step         the length of one period as an interval ('1 day', '7 days', '1 month',
--                 '3 months', '1 year')
--   $first        DATE or NULL: the first cohort shown (--since); membership is still decided
--                 over all the history, so earlier customers never count as new
--   $last_period  DATE: the first day of the last observed period
--   $partial      BOOLEAN: the last observed period is the partial as-of period
--   $fill_gaps    BOOLEAN: add cohorts without customers (size 0) for every period from the
--                 first cohort shown to the last observed period, in every --by group
-- A cohort has cells k = 0 .. (last observed period - cohort): periods with no activity are 0,
-- periods after the last observed one have no row (they are NULL in the wide table).
--   customers, orders, revenue  as in step 3 (0 when nothing happened)
--   *_on_or_after  "on or after" (unbounded) values: customers with a purchase in period k or
--                  any later observed period; orders and net revenue of periods k and later
--   revenue_0      the cohort's net revenue in period 0 (the denominator of revenue rates)
WITH sizes AS (
    SELECT grp, cohort, count(*) AS cohort_size
    FROM _coh_customers
    WHERE cohort IS NOT NULL AND ($first IS NULL OR cohort >= $first)
    GROUP BY grp, cohort
),
span AS (
    SELECT CAST(unnest(generate_series(b.lo, $last_period, CAST($step AS INTERVAL))) AS DATE)
               AS cohort
    FROM (SELECT coalesce($first, min(cohort)) AS lo FROM sizes) AS b
    WHERE $fill_gaps
),
cohorts AS (
    SELECT grp, cohort, cohort_size FROM sizes
    UNION ALL
    SELECT g.grp, s.cohort, 0 AS cohort_size
    FROM (SELECT DISTINCT grp FROM sizes) AS g
    CROSS JOIN span AS s
    WHERE NOT EXISTS (SELECT 1 FROM sizes AS z WHERE z.grp = g.grp AND z.cohort = s.cohort)
),
grid AS (
    SELECT grp, cohort, cohort_size,
           unnest(generate_series(0, date_diff($period, cohort, $last_period))) AS k
    FROM cohorts
),
cells AS (
    SELECT
        g.grp,
        g.cohort,
        g.cohort_size,
        g.k,
        CAST(g.cohort + g.k * CAST($step AS INTERVAL) AS DATE)  AS period_start,
        coalesce(m.customers, 0)                                AS customers,
        coalesce(m.orders, 0)                                   AS orders,
        coalesce(m.revenue, 0)                                  AS revenue,
        coalesce(m.last_here, 0)                                AS last_here
    FROM grid AS g
    LEFT JOIN _coh_matrix AS m ON m.grp = g.grp AND m.cohort = g.cohort AND m.k = g.k
)
SELECT
    grp,
    cohort,
    CASE $period
        WHEN 'day' THEN strftime(cohort, '%Y-%m-%d')
        WHEN 'week' THEN strftime(cohort, '%G-W%V')
        WHEN 'month' THEN strftime(cohort, '%Y-%m')
        WHEN 'quarter' THEN strftime(cohort, '%Y') || '-Q' || CAST(quarter(cohort) AS VARCHAR)
        ELSE strftime(cohort, '%Y')
    END                                                          AS cohort_label,
    k,
    period_start,
    cohort_size,
    customers,
    orders,
    revenue,
    sum(last_here) OVER later                                    AS customers_on_or_after,
    sum(orders) OVER later                                       AS orders_on_or_after,
    sum(revenue) OVER later                                      AS revenue_on_or_after,
    max(CASE WHEN k = 0 THEN revenue END) OVER (PARTITION BY grp, cohort)  AS revenue_0,
    ($partial AND period_start = $last_period)                   AS partial
FROM cells
WINDOW later AS (PARTITION BY grp, cohort ORDER BY k
                 ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING)
