-- Status history, step 3 of 3: customers and net revenue in the VIP window per status at
-- every snapshot (the end of every period), the same classification as sql/status.sql.
-- Within a cell (sql/status_history_cells.sql) the status depends only on the snapshot
-- date D: new while D - first_purchase <= new_days, then active (reactivated when the gap
-- before the last purchase is longer than inactive_days) while D - last_purchase <=
-- active_days, then at_risk while D - last_purchase <= inactive_days, then inactive. So
-- each cell splits into at most four ranges of snapshot indexes with one base status;
-- a range adds +1 at its first snapshot and -1 after its last, and running sums give the
-- counts without visiting every (customer, snapshot) pair. Only ranges that can be VIP
-- (active, reactivated or at_risk, with revenue_window >= $tmin, the lowest cut-off of
-- any snapshot) are expanded to their snapshots and compared with that snapshot's cut-off
-- (_sh_vip). CRM customers are prospects at every snapshot before their first purchase.
-- Input: _sh_cells, _sh_snaps(i), _sh_vip(i, cutoff), _st_crm(customer_id),
-- _st_statuses(status, ord).
-- Parameters: $every, $i0, $i1, $new_days, $active_days, $inactive_days,
-- $tmin DECIMAL(38, 6) or NULL (no snapshot has a VIP).
WITH c AS (
    SELECT revenue_window AS v, lo, hi, previous_gap_days AS gap,
           CASE WHEN $every = 'week'
                THEN date_diff('day', DATE '0001-01-01',
                               first_purchase + CAST($new_days + 1 AS INTEGER)) // 7
                ELSE year(first_purchase + CAST($new_days + 1 AS INTEGER)) * 12
                     + month(first_purchase + CAST($new_days + 1 AS INTEGER)) - 1 END
                                                                             AS e_new,
           CASE WHEN $every = 'week'
                THEN date_diff('day', DATE '0001-01-01',
                               last_purchase + CAST($active_days + 1 AS INTEGER)) // 7
                ELSE year(last_purchase + CAST($active_days + 1 AS INTEGER)) * 12
                     + month(last_purchase + CAST($active_days + 1 AS INTEGER)) - 1 END
                                                                             AS e_act,
           CASE WHEN $every = 'week'
                THEN date_diff('day', DATE '0001-01-01',
                               last_purchase + CAST($inactive_days + 1 AS INTEGER)) // 7
                ELSE year(last_purchase + CAST($inactive_days + 1 AS INTEGER)) * 12
                     + month(last_purchase + CAST($inactive_days + 1 AS INTEGER)) - 1 END
                                                                             AS e_risk
    FROM _sh_cells
    WHERE last_purchase IS NOT NULL
), first_purchases AS (
    SELECT customer_id, min(first_purchase) AS first_purchase
    FROM _sh_cells
    WHERE first_purchase IS NOT NULL
    GROUP BY customer_id
), ranges AS MATERIALIZED (
    SELECT 'new' AS base, v, lo AS a, least(hi, e_new) AS b, 1 AS w FROM c
    UNION ALL
    SELECT CASE WHEN gap > $inactive_days THEN 'reactivated' ELSE 'active' END, v,
           greatest(lo, e_new), least(hi, e_act), 1
    FROM c
    UNION ALL
    SELECT 'at_risk', v, greatest(lo, e_new, e_act), least(hi, e_risk), 1 FROM c
    UNION ALL
    SELECT 'inactive', v, greatest(lo, e_new, e_risk), hi, 1 FROM c
    UNION ALL  -- the net revenue (refunds only) of CRM customers before their first purchase
    SELECT 'prospect', x.revenue_window, x.lo, x.hi, 0
    FROM _sh_cells AS x
    WHERE x.last_purchase IS NULL
      AND x.customer_id IN (SELECT customer_id FROM _st_crm)
    UNION ALL  -- every CRM customer is a prospect until the snapshot of its first purchase
    SELECT 'prospect', CAST(0 AS DECIMAL(38, 6)), $i0,
           CASE WHEN f.first_purchase IS NULL THEN $i1 + 1  -- (greatest() skips NULLs)
                ELSE least(greatest(CASE WHEN $every = 'week'
                    THEN date_diff('day', DATE '0001-01-01', f.first_purchase) // 7
                    ELSE year(f.first_purchase) * 12 + month(f.first_purchase) - 1 END, $i0),
                    $i1 + 1) END, 1
    FROM _st_crm AS k
    LEFT JOIN first_purchases AS f ON f.customer_id = k.customer_id
), flagged AS MATERIALIZED (
    SELECT *,
           coalesce(base IN ('active', 'reactivated', 'at_risk') AND v > 0 AND v >= $tmin,
                    false) AS may_be_vip
    FROM ranges
    WHERE a < b
), pairs AS (
    SELECT base, v, unnest(generate_series(a, b - 1)) AS i
    FROM flagged
    WHERE may_be_vip
), pair_counts AS (
    SELECT p.i,
           CASE WHEN z.cutoff IS NOT NULL AND p.v >= z.cutoff THEN 'vip' ELSE p.base END
                                AS status,
           count(*)             AS customers,
           sum(p.v)             AS revenue
    FROM pairs AS p JOIN _sh_vip AS z ON z.i = p.i
    GROUP BY ALL
), moves AS (
    SELECT base AS status, a AS i, w AS dn, v AS dv FROM flagged WHERE NOT may_be_vip
    UNION ALL
    SELECT base, b, -w, -v FROM flagged WHERE NOT may_be_vip AND b <= $i1
), moved AS (
    SELECT status, i, sum(dn) AS dn, sum(dv) AS dv FROM moves GROUP BY status, i
), grid AS (
    SELECT s.i, t.status, t.ord FROM _sh_snaps AS s CROSS JOIN _st_statuses AS t
), running AS (
    SELECT g.i, g.status, g.ord,
           sum(coalesce(m.dn, 0)) OVER (PARTITION BY g.status ORDER BY g.i) AS customers,
           sum(coalesce(m.dv, 0)) OVER (PARTITION BY g.status ORDER BY g.i) AS revenue
    FROM grid AS g LEFT JOIN moved AS m ON m.status = g.status AND m.i = g.i
)
SELECT r.i, r.status, r.ord,
       r.customers + coalesce(p.customers, 0) AS customers,
       r.revenue + coalesce(p.revenue, 0)     AS revenue_window
FROM running AS r
LEFT JOIN pair_counts AS p ON p.i = r.i AND p.status = r.status
