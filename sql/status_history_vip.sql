-- Status history, step 2 of 3: the VIP cut-off at every snapshot with --vip-share, exactly
-- the value sql/status.sql would use at that date, without ranking every customer at every
-- snapshot. P(i) = customers with revenue_window > 0 at snapshot i, k(i) =
-- floor($vip_share * P(i)); the cut-off is the k-th largest revenue_window (duplicates
-- counted), so "RANK() <= k" is "revenue_window >= cut-off" (NULL when k = 0: no VIP).
-- How: (1) count customers per snapshot and value bucket from +1/-1 events at each cell's
-- lo/hi (buckets are exact and monotone: the column bucket of _sh_cells, ~3 significant
-- digits of the value in cents); (2) per snapshot, the bucket holding the k-th largest
-- value and the rank r it has inside the bucket; (3) only the cells of that bucket that
-- contain the snapshot are ranked, and the r-th largest value is the cut-off.
-- Input: _sh_cells (with bucket), _sh_snaps(i). Parameters: $vip_share DECIMAL(9, 6), $i1.
WITH hist AS (
    SELECT bucket, lo AS i, 1 AS delta FROM _sh_cells WHERE revenue_window > 0
    UNION ALL
    SELECT bucket, hi, -1 FROM _sh_cells WHERE revenue_window > 0 AND hi <= $i1
), moves AS (
    SELECT bucket, i, sum(delta) AS delta FROM hist GROUP BY bucket, i
), grid AS (
    SELECT s.i, b.bucket
    FROM _sh_snaps AS s CROSS JOIN (SELECT DISTINCT bucket FROM moves) AS b
), counts AS (
    SELECT g.i, g.bucket,
           sum(coalesce(m.delta, 0)) OVER (PARTITION BY g.bucket ORDER BY g.i) AS n
    FROM grid AS g LEFT JOIN moves AS m ON m.bucket = g.bucket AND m.i = g.i
), cumulated AS (
    SELECT i, bucket, n,
           sum(n) OVER (PARTITION BY i ORDER BY bucket DESC ROWS UNBOUNDED PRECEDING) - n
                                                  AS above,
           sum(n) OVER (PARTITION BY i)           AS population
    FROM counts
), sizes AS (
    SELECT s.i,
           coalesce(max(c.population), 0)                                  AS population,
           CAST(floor($vip_share * coalesce(max(c.population), 0)) AS BIGINT) AS vip_count
    FROM _sh_snaps AS s LEFT JOIN cumulated AS c ON c.i = s.i
    GROUP BY s.i
), targets AS (
    SELECT c.i, c.bucket, z.vip_count - c.above AS r
    FROM cumulated AS c JOIN sizes AS z ON z.i = c.i
    WHERE z.vip_count > 0 AND c.n > 0 AND c.above < z.vip_count AND z.vip_count <= c.above + c.n
), candidates AS (
    SELECT t.i, t.r, x.revenue_window,
           row_number() OVER (PARTITION BY t.i ORDER BY x.revenue_window DESC) AS rn
    FROM targets AS t
    JOIN _sh_cells AS x
      ON x.bucket = t.bucket AND x.revenue_window > 0 AND x.lo <= t.i AND t.i < x.hi
)
SELECT z.i, z.population, z.vip_count, c.revenue_window AS cutoff
FROM sizes AS z
LEFT JOIN candidates AS c ON c.i = z.i AND c.rn = c.r
