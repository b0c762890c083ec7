-- Tie-aware quantile scores within each group (used with --by), exactly as DESIGN.md:
-- score = 1 + floor(N * (rank - 1) / n), rank = RANK() from worst to best, n = customers
-- scored in the group. Worst first: longest-ago last purchase, fewest purchases, least net
-- revenue. Parameter: $bins (N).
SELECT
    v.*,
    1 + floor($bins * (rank() OVER (PARTITION BY _grp ORDER BY recency_days DESC) - 1)
              / count(*) OVER (PARTITION BY _grp))::INTEGER AS r_score,
    1 + floor($bins * (rank() OVER (PARTITION BY _grp ORDER BY frequency) - 1)
              / count(*) OVER (PARTITION BY _grp))::INTEGER AS f_score,
    1 + floor($bins * (rank() OVER (PARTITION BY _grp ORDER BY monetary) - 1)
              / count(*) OVER (PARTITION BY _grp))::INTEGER AS m_score
FROM _rfm_values AS v
