-- Cohorts, step 2: one row per customer with an order up to the as-of date.
-- Inputs: _coh_activity (step 1) and _coh_groups (customer_id, grp: the --by group of the
-- first purchase, sql/cohort_first_group.sql; empty without --by).
-- Parameters: $last_period (DATE: the first day of the last observed period; a later period
-- is the partial as-of period, left out).
-- Columns:
--   cohort       first day of the period of the customer's first purchase over all the
--                history up to the last observed period; NULL when the customer has no
--                purchase there (only refunds or zero-value orders, or a first purchase in the
--                partial period left out): such a customer is in no cohort
--   last_active  first day of the period of the customer's last purchase (observed periods)
--   grp          the --by group ('' without --by)
--   buyer        the customer has a purchase up to the as-of date
WITH c AS (
    SELECT
        customer_id,
        min(period_start) FILTER (WHERE purchases > 0 AND period_start <= $last_period)
            AS cohort,
        max(period_start) FILTER (WHERE purchases > 0 AND period_start <= $last_period)
            AS last_active,
        bool_or(purchases > 0) AS buyer
    FROM _coh_activity
    GROUP BY customer_id
)
SELECT c.customer_id, c.cohort, c.last_active, coalesce(g.grp, '') AS grp, c.buyer
FROM c
LEFT JOIN _coh_groups AS g ON g.customer_id = c.customer_id
