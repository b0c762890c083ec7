"""Cohorts against an independent plain-Python reference, cell by cell.

The reference below is written from DESIGN.md's words (Definitions: Cohorts) and the issue,
not from the SQL: calendar periods come from ``datetime`` (ISO weeks from ``isocalendar``),
a period's end is found by asking whether the next day starts another period, periods are
enumerated by walking the calendar day by day, and every cell is counted over plain lists.

Generated order lines carry UTC instants (``+00:00``) that the loader converts to the
reporting zone, with orders placed on period boundaries (month, quarter and year ends, the
Sunday/Monday of ISO weeks) a few hours either side of midnight; customers whose first order
is a refund; cancelled orders; multi-line orders; an as-of date anywhere (often in the middle
of a period, sometimes on its last day).
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientela.cohorts import CohortParams, compute_cohorts
from clientela.errors import UsageError
from clientela.load import LoadOptions, load

PERIODS = ["day", "week", "month", "quarter", "year"]
START = dt.datetime(2024, 11, 20, tzinfo=dt.timezone.utc)
CHANNELS = {"o1": "web", "o2": "app", "o3": "web", "o4": "", "o5": "store", "o6": "app",
            "o7": "web", "o8": "store", "o9": "web"}  # fmt: skip
# instants a few hours from local midnight on period boundaries, for the zones used below
BOUNDARIES = [
    dt.datetime(2024, 12, 31, 23, 30, tzinfo=dt.timezone.utc),  # year end (UTC)
    dt.datetime(2025, 1, 1, 2, 30, tzinfo=dt.timezone.utc),  # still 2024 in São Paulo
    dt.datetime(2024, 12, 31, 16, 0, tzinfo=dt.timezone.utc),  # already 2025 in Tokyo
    dt.datetime(2025, 3, 31, 22, 0, tzinfo=dt.timezone.utc),  # Q2 in Tokyo, Q1 elsewhere
    dt.datetime(2025, 4, 1, 1, 0, tzinfo=dt.timezone.utc),  # Q1 in São Paulo
    dt.datetime(2025, 1, 6, 1, 0, tzinfo=dt.timezone.utc),  # Monday UTC, Sunday in São Paulo
    dt.datetime(2025, 1, 5, 20, 0, tzinfo=dt.timezone.utc),  # Sunday UTC, Monday in Tokyo
    dt.datetime(2025, 5, 31, 23, 59, tzinfo=dt.timezone.utc),
    dt.datetime(2025, 6, 1, 0, 0, tzinfo=dt.timezone.utc),
]
ZONES = ["UTC", "America/Sao_Paulo", "Asia/Tokyo"]


# ------------------------------------------------------------------------- reference


def start_of(day: dt.date, period: str) -> dt.date:
    """The first day of the calendar period holding ``day``."""
    if period == "day":
        return day
    if period == "week":
        year, week, _ = day.isocalendar()
        return dt.date.fromisocalendar(year, week, 1)
    if period == "month":
        return dt.date(day.year, day.month, 1)
    if period == "quarter":
        return dt.date(day.year, [1, 1, 1, 4, 4, 4, 7, 7, 7, 10, 10, 10][day.month - 1], 1)
    return dt.date(day.year, 1, 1)


def periods_between(first: dt.date, last: dt.date, period: str) -> list[dt.date]:
    """Every period start from the period of ``first`` to the period of ``last``."""
    out: list[dt.date] = []
    day = first
    while day <= last:
        s = start_of(day, period)
        if not out or out[-1] != s:
            out.append(s)
        day += dt.timedelta(days=1)
    return out


def label(start: dt.date, period: str) -> str:
    if period == "day":
        return start.strftime("%Y-%m-%d")
    if period == "week":
        y, w, _ = start.isocalendar()
        return f"{y}-W{w:02d}"
    if period == "month":
        return start.strftime("%Y-%m")
    if period == "quarter":
        return f"{start.year}-Q{(start.month + 2) // 3}"
    return f"{start.year}"


@dataclass
class Order:
    customer: str
    day: dt.date  # local calendar date
    ts: dt.datetime  # local wall time
    amount: Decimal
    channel: str


def reference_orders(lines: list[tuple], tz: str, as_of: dt.date) -> list[Order]:
    """Orders from order lines as DESIGN.md's loading rules say (duplicates dropped, lines of
    one order summed, cancelled orders out, later than the as-of date out)."""
    zone = ZoneInfo(tz)
    groups: dict[tuple[str, str], list[tuple]] = defaultdict(list)
    for ln in dict.fromkeys(lines):  # exact duplicate lines are one line
        groups[(ln[0], ln[1])].append(ln)
    out = []
    for (cust, oid), lns in groups.items():
        if any(ln[4] == "cancelled" for ln in lns):
            continue
        ts = min(ln[2] for ln in lns).astimezone(zone).replace(tzinfo=None)
        if ts.date() > as_of:
            continue
        amount = sum((Decimal(ln[3]) for ln in lns), Decimal(0))
        out.append(Order(cust, ts.date(), ts, amount, CHANNELS[oid] or "(none)"))
    return out


def observed(as_of: dt.date, period: str, include_partial: bool) -> tuple[dt.date, dt.date, bool]:
    """(last observed day, first day of the last observed period, is it partial)."""
    current = start_of(as_of, period)
    complete = start_of(as_of + dt.timedelta(days=1), period) != current
    if complete:
        return as_of, current, False
    if include_partial:
        return as_of, current, True
    end = current - dt.timedelta(days=1)
    return end, start_of(end, period), False


@dataclass
class Member:
    cohort: dt.date
    group: str
    purchases: list[Order]
    orders: list[Order]  # every order up to the last observed day


def members_of(orders: list[Order], period: str, end: dt.date, by: bool) -> dict[str, Member]:
    per: dict[str, list[Order]] = defaultdict(list)
    for o in orders:
        if o.day <= end:
            per[o.customer].append(o)
    out = {}
    for cust, os_ in per.items():
        purchases = [o for o in os_ if o.amount > 0]
        if not purchases:
            continue
        first = min(purchases, key=lambda o: (o.ts, o.channel))
        out[cust] = Member(start_of(first.day, period), first.channel if by else "", purchases, os_)
    return out


def reference_cells(
    orders: list[Order], as_of: dt.date, p: CohortParams
) -> tuple[list[dict[str, Any]], dict[str, dt.date]]:
    """Long cells: one dict per observed (group, cohort, k), k up to ``max_periods``."""
    end, last, partial = observed(as_of, p.period, p.include_partial)
    members = members_of(orders, p.period, end, p.by is not None)
    since = start_of(p.since, p.period) if isinstance(p.since, dt.date) else None
    chosen = {c: m for c, m in members.items() if since is None or m.cohort >= since}
    cohorts: dict[tuple[str, dt.date], list[Member]] = defaultdict(list)
    for m in chosen.values():
        cohorts[(m.group, m.cohort)].append(m)
    if p.fill_gaps and cohorts:
        lo = since or min(c for _, c in cohorts)
        for g in {g for g, _ in cohorts}:
            for c in periods_between(lo, last, p.period):
                cohorts.setdefault((g, c), [])
    # per member: purchases and net amount by period start
    bought: dict[int, dict[dt.date, int]] = {}
    spent: dict[int, dict[dt.date, Decimal]] = {}
    for m in chosen.values():
        b, sp = (
            bought.setdefault(id(m), defaultdict(int)),
            spent.setdefault(id(m), defaultdict(Decimal)),
        )
        for o in m.purchases:
            b[start_of(o.day, p.period)] += 1
        for o in m.orders:
            sp[start_of(o.day, p.period)] += o.amount
    cells = []
    for (g, c), ms in sorted(cohorts.items()):
        span = periods_between(c, last, p.period)
        revenue_0 = sum((spent[id(m)][c] for m in ms), Decimal(0))
        # per period: who bought, how many purchases, how much net; "on or after" = the
        # union / sum over this period and every later observed one
        buyers = [{id(m) for m in ms if bought[id(m)][q]} for q in span]
        n_orders = [sum(bought[id(m)][q] for m in ms) for q in span]
        net = [sum((spent[id(m)][q] for m in ms), Decimal(0)) for q in span]
        if p.cumulative:
            for k in range(len(span) - 2, -1, -1):
                buyers[k] = buyers[k] | buyers[k + 1]
                n_orders[k] += n_orders[k + 1]
                net[k] += net[k + 1]
        for k, ps in enumerate(span):
            if p.max_periods is not None and k > p.max_periods:
                break
            n_cust, n_ord, rev = len(buyers[k]), n_orders[k], net[k]
            value: Any = {"customers": n_cust, "orders": n_ord, "revenue": rev}[p.metric]
            if p.metric == "revenue":
                rate = float(rev) / float(revenue_0) if revenue_0 > 0 else None
                value = float(rev)
            else:
                rate = value / len(ms) if ms else None
            cells.append({"group": g, "cohort": c, "k": k, "period_start": ps,
                          "cohort_size": len(ms), "value": value, "rate": rate,
                          "partial": partial and ps == last})  # fmt: skip
    return cells, {"end": end, "last": last}


def reference_wide(cells: list[dict[str, Any]], p: CohortParams) -> list[dict[str, Any]]:
    """Wide rows (cells by period index) and, with rates, the weighted average rows."""
    kmax = max(c["k"] for c in cells)
    if p.max_periods is not None:
        kmax = min(kmax, p.max_periods)
    rows: dict[tuple[str, dt.date], dict[str, Any]] = {}
    for c in cells:
        key = (c["group"], c["cohort"])
        if key not in rows:
            rows[key] = {"group": c["group"], "cohort": label(c["cohort"], p.period),
                         "cohort_size": c["cohort_size"],
                         **{str(k): None for k in range(kmax + 1)}}  # fmt: skip
        row = rows[key]
        if c["k"] <= kmax:
            row[str(c["k"])] = c["rate"] if p.values == "rate" else c["value"]
    out = []
    for g in sorted({g for g, _ in rows}):
        block = [r for (gg, _), r in sorted(rows.items()) if gg == g]
        out += block
        if p.values == "rate":
            avg: dict[str, Any] = {"group": g, "cohort": "all cohorts",
                                   "cohort_size": sum(r["cohort_size"] for r in block)}  # fmt: skip
            mine = [c for c in cells if c["group"] == g]
            for k in range(kmax + 1):
                done = [c for c in mine
                        if c["k"] == k and not c["partial"] and c["rate"] is not None]  # fmt: skip
                weight = sum(c["cohort_size"] for c in done)
                avg[str(k)] = (
                    sum(c["cohort_size"] * c["rate"] for c in done) / weight if weight else None
                )
            out.append(avg)
    return out


def reference_trend(orders: list[Order], as_of: dt.date, p: CohortParams) -> list[dict[str, Any]]:
    end, last, partial = observed(as_of, p.period, p.include_partial)
    members = members_of(orders, p.period, end, p.by is not None)
    since = start_of(p.since, p.period) if isinstance(p.since, dt.date) else None
    first = since or min(m.cohort for m in members.values())
    out = []
    for g in sorted({m.group for m in members.values()}):
        ms = {c: m for c, m in members.items() if m.group == g}

        def active(ps: dt.date, ms: dict[str, Member] = ms) -> set[str]:
            return {c for c, m in ms.items() if any(start_of(o.day, p.period) == ps
                                                    for o in m.purchases)}  # fmt: skip

        def revenue(c: str, ps: dt.date, ms: dict[str, Member] = ms) -> Decimal:
            return sum((o.amount for o in ms[c].orders if start_of(o.day, p.period) == ps),
                       Decimal(0))  # fmt: skip

        for ps in periods_between(first, last, p.period):
            prev = start_of(ps - dt.timedelta(days=1), p.period)
            now, before = active(ps), active(prev)
            new = {c for c, m in ms.items() if m.cohort == ps}
            retained = now & before
            base = sum((revenue(c, prev) for c in before), Decimal(0))
            kept = sum((revenue(c, ps) for c in before), Decimal(0))
            out.append({
                "group": g, "period": label(ps, p.period), "period_start": ps,
                "active": len(now), "new": len(new), "returning": len(now - new),
                "retained": len(retained), "reactivated": len(now - new - before),
                "churned": len(before - now),
                "retention_rate": len(retained) / len(before) if before else None,
                "churn_rate": len(before - now) / len(before) if before else None,
                "revenue": float(sum((revenue(c, ps) for c in ms), Decimal(0))),
                "net_revenue_retention": float(kept / base) if base > 0 else None,
                "partial": partial and ps == last,
            })  # fmt: skip
    return out


# ------------------------------------------------------------------------ comparison


def close(a: Any, b: Any, what: str) -> None:
    if isinstance(a, float) or isinstance(b, float):
        assert a is not None and b is not None, (what, a, b)
        assert abs(a - b) <= 1.01e-4 * max(1.0, abs(b)), (what, a, b)
    else:
        assert a == b, (what, a, b)


def fetch(con: Any, sql: str = "SELECT * FROM cohorts") -> list[dict[str, Any]]:
    cur = con.execute(sql)
    names = [c[0] for c in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def check_all_shapes(
    loaded: Any, orders: list[Order], as_of: dt.date, p: CohortParams, wide: bool = True
) -> None:
    """Long and (with ``wide``) wide, in rates and counts, of ``p`` against the reference."""
    from dataclasses import replace

    by = "channel" if p.by else None
    cells, _ = reference_cells(orders, as_of, p)
    # long
    compute_cohorts(loaded, replace(p, shape="long"))
    got = fetch(loaded.con)
    want = cells
    assert len(got) == len(want), (p, len(got), len(want))
    for g, w in zip(got, want, strict=True):
        assert (g.get(by, "") if by else "", g["cohort"], g["period_index"]) == (
            w["group"], w["cohort"], w["k"]), (g, w)  # fmt: skip
        assert g["period_start"] == w["period_start"] and g["partial"] == w["partial"], (g, w)
        assert g["cohort_size"] == w["cohort_size"], (g, w)
        close(g["value"], w["value"], f"value {p} {w}")
        if w["rate"] is None:
            assert g["rate"] is None, (g, w)
        else:
            close(g["rate"], w["rate"], f"rate {p} {w}")
    # wide, rates and counts
    for values in ("rate", "count") if wide else ():
        q = replace(p, shape="wide", values=values)
        compute_cohorts(loaded, q)
        got_w = fetch(loaded.con)
        want_w = reference_wide(cells, q)
        assert len(got_w) == len(want_w), (q, got_w, want_w)
        for g, w in zip(got_w, want_w, strict=True):
            if by:
                assert g[by] == w["group"], (g, w)
            assert g["cohort"] == w["cohort"] and g["cohort_size"] == w["cohort_size"], (g, w)
            ks = [k for k in w if k.isdigit()]
            assert [k for k in g if k.isdigit()] == ks, (list(g), ks)
            for k in ks:
                if w[k] is None:
                    assert g[k] is None, (q, k, g, w)
                else:
                    close(g[k], w[k], f"wide {q} {k} {w}")


def check_trend(loaded: Any, orders: list[Order], as_of: dt.date, p: CohortParams) -> None:
    from dataclasses import replace

    q = replace(p, trend=True, metric="customers", values="rate", cumulative=False,
                shape="wide", max_periods=None, fill_gaps=False)  # fmt: skip
    compute_cohorts(loaded, q)
    got = fetch(loaded.con)
    want = reference_trend(orders, as_of, q)
    assert len(got) == len(want), (q, len(got), len(want))
    for g, w in zip(got, want, strict=True):
        for key, value in w.items():
            if key == "group":
                if q.by:
                    assert g["channel"] == value
                continue
            if value is None:
                assert g[key] is None, (key, g, w)
            else:
                close(g[key], value, f"trend {key} {w}")


# ------------------------------------------------------------------------- the data

line = st.tuples(
    st.sampled_from(["a", "b", "c", "d", "e", "007"]),
    st.sampled_from(list(CHANNELS)[:8]),
    st.one_of(
        st.builds(lambda d, m: START + dt.timedelta(days=d, minutes=m),
                  st.integers(0, 420), st.sampled_from([0, 90, 600, 1200, 1430])),
        st.sampled_from(BOUNDARIES),
    ),
    st.sampled_from(["10.00", "25.50", "99.99", "-10.00", "-25.50", "0.00", "100.00"]),
    st.sampled_from(["paid", "paid", "paid", "paid", "cancelled"]),
)  # fmt: skip


def write_lines(path: Path, lines: list[tuple]) -> None:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["customer_id", "order_id", "order_ts", "amount", "status", "channel"])
        for cust, oid, ts, amount, status in lines:
            w.writerow([cust, oid, ts.strftime("%Y-%m-%d %H:%M:%S+00:00"), amount, status,
                        CHANNELS[oid]])  # fmt: skip


def load_lines(folder: str, lines: list[tuple], tz: str, as_of: dt.date) -> Any:
    path = Path(folder) / "o.csv"
    write_lines(path, lines)
    return load([str(path)], LoadOptions(as_of=as_of, tz=tz, dimensions=["channel"]))


# ------------------------------------------------------------------------------ tests


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(line, min_size=1, max_size=35),
    as_of_day=st.integers(20, 430),
    tz=st.sampled_from(ZONES),
    period=st.sampled_from(PERIODS),
    metric=st.sampled_from(["customers", "orders", "revenue"]),
    cumulative=st.booleans(),
    include_partial=st.booleans(),
    fill_gaps=st.booleans(),
    by=st.booleans(),
    since_day=st.one_of(st.none(), st.integers(0, 200)),
    max_periods=st.one_of(st.none(), st.integers(0, 4)),
)
def test_matches_reference(
    lines: list[tuple], as_of_day: int, tz: str, period: str, metric: str, cumulative: bool,
    include_partial: bool, fill_gaps: bool, by: bool, since_day: int | None,
    max_periods: int | None,
) -> None:  # fmt: skip
    # a refund-first customer and one purchase on the first day, always
    lines = [*lines, ("r", "o1", START, "-25.50", "paid"),
             ("r", "o2", START + dt.timedelta(days=40), "25.50", "paid"),
             ("a", "o9", START, "5.00", "paid")]  # fmt: skip
    as_of = (START + dt.timedelta(days=as_of_day)).date()
    since = None if since_day is None else START.date() + dt.timedelta(days=since_day)
    p = CohortParams(period=period, metric=metric, cumulative=cumulative,
                     include_partial=include_partial, fill_gaps=fill_gaps,
                     by="channel" if by else None, max_periods=max_periods)  # fmt: skip
    with tempfile.TemporaryDirectory() as d:
        loaded = load_lines(d, lines, tz, as_of)
        orders = reference_orders(lines, tz, as_of)
        end, last, _ = observed(as_of, period, include_partial)
        members = members_of(orders, period, end, by)
        if not members:  # nothing observed yet: an error naming the fix (tested elsewhere)
            loaded.con.close()
            return
        if since is not None and (since > as_of or start_of(since, period) > last):
            since = None
        p.since = since
        try:
            if since is not None and all(m.cohort < start_of(since, period)
                                         for m in members.values()):  # fmt: skip
                with pytest.raises(UsageError, match="--since"):
                    compute_cohorts(loaded, p)
            else:
                check_all_shapes(loaded, orders, as_of, p)
            check_trend(loaded, orders, as_of, p)
        finally:
            loaded.con.close()


def _rich_lines(seed: int, n: int = 400) -> list[tuple]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        cust = f"c{rng.randint(1, 60):02d}"
        when = rng.choice([START + dt.timedelta(days=rng.randint(0, 560), hours=rng.randint(0, 23)),
                           rng.choice(BOUNDARIES)])  # fmt: skip
        amount = rng.choice(["10.00", "25.50", "99.99", "100.00", "-10.00", "0.00"])
        status = "cancelled" if rng.random() < 0.05 else "paid"
        out.append((cust, f"o{rng.randint(1, 9)}" if i % 3 else "o1", when, amount, status))
    return out


def test_every_period_metric_and_shape_on_one_history() -> None:
    """Every period x metric x cumulative in the long shape, the wide shape (rates and counts)
    and the trend for every period, with an as-of date in the middle of a month, in São Paulo
    time."""
    lines = [*_rich_lines(11), ("r", "o1", START, "-25.50", "paid"),
             ("r", "o2", START + dt.timedelta(days=40), "25.50", "paid")]  # fmt: skip
    as_of = dt.date(2026, 5, 17)  # a Sunday in the middle of a month, quarter and year
    with tempfile.TemporaryDirectory() as d:
        loaded = load_lines(d, lines, "America/Sao_Paulo", as_of)
        orders = reference_orders(lines, "America/Sao_Paulo", as_of)
        try:
            for i, period in enumerate(PERIODS):
                cap = {"day": 40, "week": 30}.get(period)  # keep the day grid small
                for j, metric in enumerate(("customers", "orders", "revenue")):
                    for cumulative in (False, True):
                        p = CohortParams(period=period, metric=metric, cumulative=cumulative,
                                         include_partial=cumulative, max_periods=cap)  # fmt: skip
                        # wide (rates and counts) for one metric per period, in turn
                        check_all_shapes(loaded, orders, as_of, p, wide=(i + j) % 3 == 0)
                trend = CohortParams(period=period, by="channel", include_partial=i % 2 == 0)
                check_trend(loaded, orders, as_of, trend)
        finally:
            loaded.con.close()
