-- Status history, step 1 of 3: every customer's timeline cut into "cells", stretches of
-- time over which the last purchase, the gap before it, the first purchase and the net
-- revenue in the VIP window stay the same (DESIGN.md, Definitions: Status; the history is
-- the same classification at every period end).
-- A cell starts on an order day or on the day an order leaves the VIP window (order day +
-- vip_window_days + 1) and lasts until the customer's next such day. Each cell is mapped
-- onto the snapshots it contains, as snapshot indexes [lo, hi): snapshot i is the end of
-- period i (ISO weeks, Monday to Sunday: i = days since 0001-01-01 // 7; months:
-- i = year * 12 + month - 1), and the first snapshot on or after a day x is the end of
-- x's own period, so a stretch of days [x, y) holds exactly the snapshots [idx(x), idx(y)).
-- Input: _days (sql/customer_days.sql: the orders grouped by customer and day).
-- Parameters: $every ('week' | 'month'), $i0, $i1 (first and last snapshot index),
-- $first_end DATE (end of snapshot $i0), $until DATE (the last day the timeline covers: the
-- end of snapshot $i1, or the as-of date when the report also reads the status at two
-- dates from it), $vip_window_days INTEGER.
-- Output columns, one row per cell: customer_id, start, stop (the next cell's start; NULL
-- for the last), revenue_window (DECIMAL, exact), revenue (net revenue of every order up to
-- the cell, exact), purchases (purchase orders up to the cell), last_purchase (NULL before
-- the first purchase), previous_gap_days, first_purchase, lo, hi. The history keeps the
-- cells holding at least one snapshot (lo < hi) and reads none of start, stop, revenue and
-- purchases (DuckDB then leaves their window sums out). The report also keeps the cell
-- holding the as-of date and the one holding the previous period's end (start <= D < stop):
-- the status at D (sql/status_dated_timeline.sql) when D is not before $first_end, where
-- revenue_window is exactly the net revenue of the orders at most $vip_window_days days
-- before D. Ties (an order day that is also another order's exit day) give an empty cell
-- (start = stop) for the first row of the tie; it holds no day and no snapshot.
-- One window pass (one sort) over the events: a purchase row's previous purchase is the
-- last purchase day before it (lag 1, purchase days only); after an exit row the last
-- purchase is lag 1 and the one before it lag 2, so every row knows the gap before its
-- last purchase without a second window over the purchase days (the last row of a tie
-- gets the same values whichever order the tie is in).
WITH days AS (
    SELECT customer_id, day, purchases, net
    FROM _days
    WHERE day <= $until
), events AS (
    -- a day more than vip_window_days before the first snapshot ($first_end) is in no
    -- snapshot's window (nor in that of a date after it): it carries no window revenue and
    -- needs no exit row (its exit would be on or before $first_end, so every cell holding
    -- a snapshot or such a date starts after it either way)
    SELECT customer_id, day,
           CASE WHEN day + CAST($vip_window_days AS INTEGER) >= $first_end THEN net
                ELSE 0 END AS delta,
           net AS total,
           purchases,
           CASE WHEN purchases > 0 THEN day END AS pd
    FROM days
    UNION ALL
    SELECT customer_id, CAST(day + CAST($vip_window_days + 1 AS INTEGER) AS DATE), -net, 0, 0,
           NULL
    FROM days
    WHERE day + CAST($vip_window_days + 1 AS INTEGER) <= $until
      AND day + CAST($vip_window_days AS INTEGER) >= $first_end
), timeline AS (
    SELECT customer_id,
           day                                                             AS start,
           lead(day) OVER w                                                AS stop,
           sum(delta) OVER (w ROWS UNBOUNDED PRECEDING)                    AS revenue_window,
           sum(total) OVER (w ROWS UNBOUNDED PRECEDING)                    AS revenue,
           CAST(sum(purchases) OVER (w ROWS UNBOUNDED PRECEDING) AS BIGINT) AS purchases,
           pd,
           lag(pd IGNORE NULLS) OVER w                                     AS p1,  -- purchase
           lag(pd, 2 IGNORE NULLS) OVER w                                  AS p2,  -- days only
           first_value(pd IGNORE NULLS) OVER (w ROWS UNBOUNDED PRECEDING)   AS first_purchase
    FROM events
    WINDOW w AS (PARTITION BY customer_id ORDER BY day)
), shaped AS (
    SELECT customer_id, start, stop, revenue_window, revenue, purchases,
           coalesce(pd, p1) AS last_purchase,
           first_purchase,
           CASE WHEN pd IS NOT NULL THEN coalesce(date_diff('day', p1, pd), -1)
                WHEN p1 IS NOT NULL THEN coalesce(date_diff('day', p2, p1), -1) END AS gap
    FROM timeline
), indexed AS (
    SELECT *,
           greatest(CASE WHEN $every = 'week' THEN date_diff('day', DATE '0001-01-01', start) // 7
                         ELSE year(start) * 12 + month(start) - 1 END, $i0)            AS lo,
           least(coalesce(CASE WHEN $every = 'week'
                               THEN date_diff('day', DATE '0001-01-01', stop) // 7
                               ELSE year(stop) * 12 + month(stop) - 1 END, $i1 + 1),
                 $i1 + 1)                                                               AS hi
    FROM shaped
)
SELECT customer_id,
       start,
       stop,
       revenue_window,
       revenue,
       purchases,
       last_purchase,
       nullif(gap, -1) AS previous_gap_days,
       first_purchase,
       lo,
       hi
FROM indexed
