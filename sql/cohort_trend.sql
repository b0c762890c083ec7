-- Cohorts, retention over time (clientela cohorts --trend): one row per calendar period (and
-- --by group) from the first period shown to the last observed period, periods without
-- activity included (with zeros).
-- Inputs: _coh_activity (step 1), _coh_customers (step 2) and _coh_groups (the --by group);
-- only customers with a purchase up to the last observed day take part (a customer whose
-- orders are all refunds or zero-value orders is in no cohort).
-- Parameters: $period, $step, $first, $last_period, $partial (as in sql/cohort_cells.sql) and
-- $has_amount (BOOLEAN: the input has an amount column; without one money columns are NULL).
-- With A(p) = customers with a purchase in period p and p-1 the previous calendar period:
--   active       |A(p)|
--   new          customers whose first purchase (over all the history) is in p
--   returning    active - new: active customers acquired before p
--   retained     |A(p) ∩ A(p-1)|: active in p and in the previous period
--   reactivated  returning - retained: active in p, not in p-1, acquired before p-1
--   churned      |A(p-1) \ A(p)|: active in the previous period, not in p
--   retention_rate  retained / |A(p-1)|;  churn_rate = churned / |A(p-1)| (NULL when A(p-1)
--                is empty)
--   revenue      net amount (refunds included) of every order in p of the customers above
--   net_revenue_retention  net revenue in p of the customers of A(p-1) divided by their net
--                revenue in p-1 (NULL when that is not positive): above 1 when those
--                customers spent more, below when they left or spent less
WITH members AS (
    SELECT customer_id, cohort, grp FROM _coh_customers WHERE cohort IS NOT NULL
),
activity AS MATERIALIZED (  -- the members' periods, with their group (used twice below);
    -- with $first only the periods shown and the one before them (a period's row needs no
    -- other), so a short --since window does not carry the whole history through the joins.
    -- Members are the customers less the few without a cohort, so those are taken out (an
    -- anti-join with a small table) instead of joining every row to the members (0.3 s of
    -- 0.8 s at 10M order lines); the group is members.grp, the same lookup of _coh_groups
    -- (empty without --by)
    SELECT a.customer_id, coalesce(g.grp, '') AS grp, a.period_start, a.purchases, a.revenue
    FROM _coh_activity AS a
    LEFT JOIN _coh_groups AS g ON g.customer_id = a.customer_id
    WHERE a.customer_id NOT IN (SELECT customer_id FROM _coh_customers WHERE cohort IS NULL)
      AND a.period_start <= $last_period
      AND ($first IS NULL
           OR a.period_start >= CAST(CAST($first AS DATE) - CAST($step AS INTERVAL) AS DATE))
),
periods AS (
    SELECT
        g.grp,
        CAST(unnest(generate_series(b.lo, $last_period, CAST($step AS INTERVAL))) AS DATE)
            AS period_start
    FROM (SELECT DISTINCT grp FROM members) AS g
    CROSS JOIN (SELECT coalesce($first, min(cohort)) AS lo FROM members) AS b
),
active AS (
    SELECT
        grp,
        period_start,
        count(*) FILTER (WHERE purchases > 0)  AS active,
        sum(revenue)                           AS revenue
    FROM activity
    GROUP BY grp, period_start
),
acquired AS (
    SELECT grp, cohort AS period_start, count(*) AS new
    FROM members
    GROUP BY grp, cohort
),
moves AS (
    -- every customer active in a period, followed into the next period
    SELECT
        a.grp,
        CAST(a.period_start + CAST($step AS INTERVAL) AS DATE)  AS period_start,
        count(*)                                                AS previous_active,
        count(*) FILTER (WHERE b.purchases > 0)                 AS retained,
        sum(a.revenue)                                          AS previous_revenue,
        sum(coalesce(b.revenue, 0))                             AS kept_revenue
    FROM activity AS a
    LEFT JOIN activity AS b
        ON b.customer_id = a.customer_id
        AND b.period_start = CAST(a.period_start + CAST($step AS INTERVAL) AS DATE)
    WHERE a.purchases > 0
    GROUP BY a.grp, CAST(a.period_start + CAST($step AS INTERVAL) AS DATE)
),
joined AS (
    SELECT
        p.grp,
        p.period_start,
        coalesce(x.active, 0)                                   AS active,
        coalesce(n.new, 0)                                      AS new,
        coalesce(v.retained, 0)                                 AS retained,
        coalesce(v.previous_active, 0)                          AS previous_active,
        CASE WHEN $has_amount THEN coalesce(x.revenue, 0) END   AS revenue,
        v.previous_revenue,
        v.kept_revenue
    FROM periods AS p
    LEFT JOIN active AS x ON x.grp = p.grp AND x.period_start = p.period_start
    LEFT JOIN acquired AS n ON n.grp = p.grp AND n.period_start = p.period_start
    LEFT JOIN moves AS v ON v.grp = p.grp AND v.period_start = p.period_start
)
SELECT
    grp,
    CASE $period
        WHEN 'day' THEN strftime(period_start, '%Y-%m-%d')
        WHEN 'week' THEN strftime(period_start, '%G-W%V')
        WHEN 'month' THEN strftime(period_start, '%Y-%m')
        WHEN 'quarter' THEN strftime(period_start, '%Y') || '-Q'
                            || CAST(quarter(period_start) AS VARCHAR)
        ELSE strftime(period_start, '%Y')
    END                                                                 AS period,
    period_start,
    active,
    new,
    active - new                                                        AS "returning",
    retained,
    active - new - retained                                             AS reactivated,
    previous_active - retained                                          AS churned,
    round(CAST(retained AS DOUBLE) / nullif(previous_active, 0), 6)     AS retention_rate,
    round(CAST(previous_active - retained AS DOUBLE) / nullif(previous_active, 0), 6)
                                                                        AS churn_rate,
    round(CAST(revenue AS DOUBLE), 2)                                   AS revenue,
    round(CASE WHEN previous_revenue > 0
               THEN CAST(kept_revenue AS DOUBLE) / CAST(previous_revenue AS DOUBLE) END, 6)
                                                                        AS net_revenue_retention,
    ($partial AND period_start = $last_period)                          AS partial
FROM joined
