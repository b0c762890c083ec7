"""Status and churn as DESIGN.md words them, in plain Python, and the comparison of the
SQL with them, customer by customer, on generated data around every threshold.

The reference is written from the definitions, not from the SQL: orders are (customer,
date, amount) with exact Decimal amounts; a purchase is an order with a positive amount.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import itertools
import math
import statistics
import tempfile
from collections import Counter
from dataclasses import replace
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientela.errors import InputDataError
from clientela.load import Loaded, LoadOptions, load
from clientela.status import (
    StatusParams,
    compute_history,
    compute_status,
    compute_transitions,
    period_end,
    period_index,
)

Order = tuple[str, dt.date, Decimal]


def customer_facts(orders: list[Order], as_of: dt.date, window_days: int) -> dict[str, dict]:
    """Per customer with an order on or before ``as_of``."""
    facts: dict[str, dict] = {}
    for cust, day, amount in orders:
        if day > as_of:
            continue
        f = facts.setdefault(
            cust, {"days": set(), "purchases": 0, "revenue": Decimal(0), "window": Decimal(0)}
        )
        f["revenue"] += amount
        if (as_of - day).days <= window_days:
            f["window"] += amount
        if amount > 0:
            f["purchases"] += 1
            f["days"].add(day)
    return facts


def reference_status(
    orders: list[Order],
    as_of: dt.date,
    *,
    new_days: int = 30,
    active_days: int = 90,
    inactive_days: int = 180,
    vip_share: float | None = 0.1,
    vip_min_revenue: float | None = None,
    vip_window_days: int = 365,
    crm: set[str] | frozenset[str] = frozenset(),
) -> dict[str, dict]:
    facts = customer_facts(orders, as_of, vip_window_days)
    people = {c for c, f in facts.items() if f["purchases"] > 0} | set(crm)
    windows = [facts[c]["window"] for c in people if c in facts and facts[c]["purchases"] > 0]
    positive = [w for w in windows if w > 0]
    if vip_min_revenue is None:
        k = math.floor(Fraction(str(vip_share)) * len(positive))
    out: dict[str, dict] = {}
    for cust in people:
        f = facts.get(cust)
        if f is None or f["purchases"] == 0:
            out[cust] = {
                "status": "prospect",
                "is_vip": False,
                "first_purchase": None,
                "last_purchase": None,
                "days_since_last": None,
                "purchases": 0,
                "revenue": round(float(f["revenue"]), 2) if f else 0.0,
                "revenue_window": round(float(f["window"]), 2) if f else 0.0,
                "previous_gap_days": None,
            }
            continue
        days = sorted(f["days"])
        first, last = days[0], days[-1]
        since = (as_of - last).days
        gap = (last - days[-2]).days if len(days) > 1 else None
        w = f["window"]
        if vip_min_revenue is not None:
            is_vip = w > 0 and w >= Decimal(str(vip_min_revenue))
        else:  # RANK() <= k: fewer than k customers have strictly more
            is_vip = w > 0 and sum(1 for x in positive if x > w) < k
        if (as_of - first).days <= new_days:
            status = "new"
        elif since > inactive_days:
            status = "inactive"
        elif is_vip:
            status = "vip"
        elif since <= active_days and gap is not None and gap > inactive_days:
            status = "reactivated"
        elif since <= active_days:
            status = "active"
        else:
            status = "at_risk"
        out[cust] = {
            "status": status,
            "is_vip": is_vip,
            "first_purchase": first,
            "last_purchase": last,
            "days_since_last": since,
            "purchases": f["purchases"],
            "revenue": round(float(f["revenue"]), 2),
            "revenue_window": round(float(w), 2),
            "previous_gap_days": gap,
        }
    return out


def reference_churn(
    orders: list[Order],
    as_of: dt.date,
    *,
    method: str = "threshold",
    churn_days: int = 180,
    k: float = 3.0,
) -> dict[str, dict]:
    """Threshold and cadence churn flags (the model method is checked against p_alive)."""
    out: dict[str, dict] = {}
    facts = customer_facts(orders, as_of, 0)
    for cust, f in facts.items():
        if f["purchases"] == 0:
            continue
        days = sorted(f["days"])
        gaps = [(b - a).days for a, b in itertools.pairwise(days)]
        expected = statistics.median(gaps) if gaps else None
        since = (as_of - days[-1]).days
        if method == "cadence" and len(days) >= 3:
            rule, threshold = "cadence", k * expected
        else:
            rule = "threshold" if method == "threshold" else "threshold_fallback"
            threshold = float(churn_days)
        out[cust] = {
            "churned": since > threshold,
            "rule": rule,
            "last_purchase": days[-1],
            "days_since_last": since,
            "purchase_days": len(days),
            "expected_gap_days": None if expected is None else round(float(expected), 1),
            "threshold_days": round(threshold, 2),
        }
    return out


# ------------------------------------------------------------------ generated data

AS_OF = dt.date(2025, 6, 30)
THRESHOLDS = [
    {"new_days": 30, "active_days": 90, "inactive_days": 180, "vip_window_days": 365},
    {"new_days": 10, "active_days": 40, "inactive_days": 100, "vip_window_days": 200},
]
AMOUNTS = ["10", "20", "20", "35.5", "50", "100", "-10", "-20", "0"]
CUSTOMERS = ["a", "b", "c", "d", "e", "f", "g", "007"]


def offsets(th: dict[str, int]) -> list[int]:
    """Days before the as-of date: on, just inside and just outside every threshold, plus
    far away (for reactivations) and after the as-of date (negative: ignored)."""
    near = {t + d for t in th.values() for d in (-1, 0, 1)}
    return sorted({-5, 0, 3, 15, 250, 420, 700} | near)


def boundary_customers(th: dict[str, int]) -> list[tuple]:
    """Customers exactly on and one day past every threshold (x0: on it, x1: past it)."""
    n, a, i, w = th["new_days"], th["active_days"], th["inactive_days"], th["vip_window_days"]
    return [
        ("n0", n, "10"), ("n1", n + 1, "10"),  # first purchase: new / not new
        ("a0", a, "10"), ("a0", a + 10, "10"), ("a1", a + 1, "10"), ("a1", a + 11, "10"),
        ("i0", i, "10"), ("i0", i + 10, "10"), ("i1", i + 1, "10"), ("i1", i + 11, "10"),
        ("g0", 5, "10"), ("g0", 5 + i, "10"), ("g1", 5, "10"), ("g1", 6 + i, "10"),  # gaps
        ("w0", 5, "10"), ("w0", w, "35.5"), ("w1", 5, "10"), ("w1", w + 1, "35.5"),  # window
    ]  # fmt: skip


@st.composite
def customer_orders(draw: st.DrawFn, cust: str, offs: list[int]) -> list[tuple]:
    """One customer's orders: the last purchase and the first one on chosen offsets (so each
    threshold is hit exactly), some orders in between, refunds and zero orders anywhere."""
    last = draw(st.sampled_from(offs))
    first = draw(st.sampled_from([o for o in offs if o >= last]))
    between = [o for o in offs if last <= o <= first]
    amounts = st.sampled_from(AMOUNTS[:6])
    out = [(cust, last, draw(amounts)), (cust, first, draw(amounts))]
    out += [(cust, o, draw(amounts)) for o in draw(st.lists(st.sampled_from(between), max_size=3))]
    out += [(cust, o, draw(st.sampled_from(AMOUNTS[6:])))
            for o in draw(st.lists(st.sampled_from(offs), max_size=2))]  # fmt: skip
    return out


@st.composite
def scenario(draw: st.DrawFn) -> dict:
    th = draw(st.sampled_from(THRESHOLDS))
    offs = [o for o in offsets(th) if o >= 0]
    who = draw(st.lists(st.sampled_from(CUSTOMERS), min_size=1, max_size=8, unique=True))
    orders = [o for c in who for o in draw(customer_orders(c, offs))]
    # a customer who comes back after a long gap, and a prospect who buys after the as-of date
    orders += [("r", th["inactive_days"] + 60, "20"), ("r", 5, "20"), ("late", -3, "50")]
    orders += boundary_customers(th)
    vip = draw(st.sampled_from([("share", 0.1), ("share", 0.25), ("share", 0.5), ("share", 1.0),
                                ("min", 20.0), ("min", 100.0)]))  # fmt: skip
    crm = draw(st.sets(st.sampled_from(CUSTOMERS), max_size=4)) | {"p1", "late"}
    with_crm = draw(st.booleans())
    return {
        "th": th,
        "orders": [(c, AS_OF - dt.timedelta(days=o), Decimal(a)) for c, o, a in orders],
        "vip": vip,
        "crm": crm if with_crm else set(),
    }


def _load(d: Path, sc: dict, as_of: dt.date) -> Loaded:
    """Write the scenario as an orders CSV (and a CRM file) and load it."""
    path = d / "orders.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["customer_id", "order_id", "order_date", "amount"])
        for i, (cust, day, amount) in enumerate(sc["orders"]):
            w.writerow([cust, f"o{i}", day.isoformat(), str(amount)])
    crm = None
    if sc["crm"]:
        crm = d / "crm.csv"
        crm.write_text(
            "customer_id,segment\n" + "".join(f"{c},s\n" for c in sorted(sc["crm"])),
            encoding="utf-8",
        )
    opts = LoadOptions(dimensions=[], customers=str(crm) if crm else None, as_of=as_of)
    return load([str(path)], opts)


def _params(sc: dict) -> StatusParams:
    kind, value = sc["vip"]
    th = sc["th"]
    return StatusParams(
        new_days=th["new_days"],
        active_days=th["active_days"],
        inactive_days=th["inactive_days"],
        vip_window_days=th["vip_window_days"],
        vip_share=value if kind == "share" else None,
        vip_min_revenue=value if kind == "min" else None,
    )


def _reference(sc: dict, as_of: dt.date) -> dict[str, dict]:
    p = _params(sc)
    return reference_status(
        sc["orders"], as_of, new_days=p.new_days, active_days=p.active_days,
        inactive_days=p.inactive_days, vip_share=p.vip_share if p.vip_share else 0.1,
        vip_min_revenue=p.vip_min_revenue, vip_window_days=p.vip_window_days, crm=sc["crm"],
    )  # fmt: skip


def _at(loaded: Loaded, day: dt.date) -> Loaded:
    """The same connection, classified at another (earlier) date."""
    return Loaded(loaded.con, replace(loaded.report, as_of=day))


def _rows(loaded: Loaded) -> dict[str, dict]:
    cur = loaded.con.execute("SELECT * FROM status")
    names = [c[0] for c in cur.description]
    return {r[0]: dict(zip(names[1:], r[1:], strict=True)) for r in cur.fetchall()}


SLOW = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=15)


@SLOW
@given(sc=scenario())
def test_status_matches_reference_customer_by_customer(sc: dict) -> None:
    with tempfile.TemporaryDirectory() as d:
        loaded = _load(Path(d), sc, AS_OF)
        res = compute_status(loaded, _params(sc))
        got = _rows(loaded)
        loaded.con.close()
    want = _reference(sc, AS_OF)
    assert got == want
    # properties: every customer exactly once, in exactly one status; counts agree
    assert Counter(r["status"] for r in got.values()) == {k: v for k, v in res.counts.items() if v}
    assert sum(res.counts.values()) == len(got)
    assert "late" not in got or got["late"]["status"] == "prospect"  # buys after the as-of
    if "r" in got and got["r"]["status"] not in ("vip", "new"):
        assert got["r"]["status"] == "reactivated"


def _reference_counts(sc: dict, day: dt.date) -> dict[str, tuple[int, float]]:
    ref = _reference(sc, day)
    out: dict[str, tuple[int, Decimal]] = {}
    for r in ref.values():
        n, rev = out.get(r["status"], (0, Decimal(0)))
        out[r["status"]] = (n + 1, rev + Decimal(str(r["revenue_window"])))
    return {k: (n, round(float(v), 2)) for k, (n, v) in out.items()}


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=10)
@given(
    sc=scenario(),
    every=st.sampled_from(["week", "month"]),
    since=st.sampled_from([None, 100, 400]),
    probes=st.lists(st.integers(0, 200), max_size=3),
)
def test_history_snapshots_equal_status_at_each_period_end(
    sc: dict, every: str, since: int | None, probes: list[int]
) -> None:  # fmt: skip
    start = None if since is None else AS_OF - dt.timedelta(days=since)
    with tempfile.TemporaryDirectory() as d:
        loaded = _load(Path(d), sc, AS_OF)
        p = _params(sc)
        res = compute_history(loaded, p, every, start)
        rows = loaded.con.execute(
            "SELECT period_end, status, customers, revenue_window FROM status_history"
        ).fetchall()
        wide = loaded.con.execute("SELECT * FROM status_history_wide").fetchall()
        hist: dict[dt.date, dict[str, tuple[int, float]]] = {}
        for day, status, n, rev in rows:
            if n:
                hist.setdefault(day, {})[status] = (n, rev)
        # a snapshot is `status` at that date (same connection, classified at the period end)
        ends = sorted({r[0] for r in rows})
        for i in probes:
            day = ends[i % len(ends)]
            got = compute_status(_at(loaded, day), p).counts
            assert {k: v for k, v in got.items() if v} == {s: v[0] for s, v in hist[day].items()}
        loaded.con.close()
    first = min(o[1] for o in sc["orders"] if o[2] > 0 and o[1] <= AS_OF)
    i0 = period_index(max(first, start or first), every)
    i1 = period_index(AS_OF, every)
    if period_end(i1, every) != AS_OF:
        i1 -= 1
    assert ends == [period_end(i, every) for i in range(i0, i1 + 1)]  # complete periods only
    assert res.periods == len(ends) == len(wide)
    for day in ends:
        assert hist.get(day, {}) == _reference_counts(sc, day), day


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=10)
@given(sc=scenario(), a=st.integers(1, 500), b=st.integers(0, 300))
def test_transitions_match_reference_and_sum_to_populations(sc: dict, a: int, b: int) -> None:
    later = AS_OF - dt.timedelta(days=b)
    earlier = later - dt.timedelta(days=a)
    before, after = _reference(sc, earlier), _reference(sc, later)
    with tempfile.TemporaryDirectory() as d:
        loaded = _load(Path(d), sc, AS_OF)
        if not after:  # nobody is a customer yet at the later date
            with pytest.raises(InputDataError, match="no customer has a purchase up to"):
                compute_transitions(loaded, _params(sc), earlier, later)
            loaded.con.close()
            return
        res = compute_transitions(loaded, _params(sc), earlier, later)
        got = {
            (f, t): (n, rev)
            for f, t, n, _share, rev in loaded.con.execute(
                "SELECT * FROM status_transitions"
            ).fetchall()
        }
        loaded.con.close()
    want: dict[tuple[str, str], tuple[int, Decimal]] = {}
    for cust, r in after.items():
        f = before[cust]["status"] if cust in before else "none"
        moved = Decimal(str(r["revenue"])) - Decimal(str(before.get(cust, {}).get("revenue", 0)))
        n, rev = want.get((f, r["status"]), (0, Decimal(0)))
        want[(f, r["status"])] = (n + 1, rev + moved)
    assert got == {k: (n, round(float(v), 2)) for k, (n, v) in want.items()}
    # properties: everyone at the earlier date is somewhere later; the rest are entrants
    assert set(before) <= set(after)
    assert sum(n for (f, _), (n, _) in got.items() if f != "none") == len(before)
    assert sum(n for (f, _), (n, _) in got.items() if f == "none") == res.entrants
    assert res.population_from + res.entrants == len(after)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=15)
@given(
    sc=scenario(),
    every=st.sampled_from(["week", "month"]),
    since=st.sampled_from([None, 30, 100, 400]),
    back=st.integers(1, 120),
)
def test_status_at_two_dates_from_the_history_timeline_equals_the_orders_pass(
    sc: dict, every: str, since: int | None, back: int
) -> None:  # fmt: skip
    """The report reads the status at the as-of date and at the previous period's end from
    the status history's timeline (sql/status_dated_timeline.sql) when the history starts
    on or before the earlier date: the same rows, types and history as without it."""
    from clientela.load import temp_kind
    from clientela.status import TIMELINE

    start = None if since is None else AS_OF - dt.timedelta(days=since)
    earlier = AS_OF - dt.timedelta(days=back)
    p = _params(sc)
    with tempfile.TemporaryDirectory() as d:
        loaded = _load(Path(d), sc, AS_OF)
        con = loaded.con
        try:
            plain = compute_history(loaded, p, every, start)
            history = con.execute("SELECT * FROM status_history").fetchall()
            res = compute_history(loaded, p, every, start, status_dates=(AS_OF, earlier))
            assert con.execute("SELECT * FROM status_history").fetchall() == history
            assert res.metadata() == plain.metadata()
            assert res.timeline == (earlier >= res.first_period_end)
            assert (temp_kind(con, TIMELINE) == "TABLE") == res.timeline
            with pytest.raises(ValueError, match="status_dates"):  # the as-of date first
                compute_history(loaded, p, every, start, status_dates=(earlier, AS_OF))
            if not res.timeline:
                return
            table = "SELECT * FROM status_at_dates ORDER BY as_of, customer_id"
            both = None
            with contextlib.suppress(InputDataError):  # nobody has bought by the as-of date
                compute_status(loaded, p, earlier=earlier, from_timeline=True)
                rows = con.execute(table).fetchall()
                both = rows, con.execute("DESCRIBE status_at_dates").fetchall()
            con.execute(f"DROP TABLE {TIMELINE}")
            compute_history(loaded, p, every, start)  # (its cells a table again, not a view)
            assert con.execute("SELECT * FROM status_history").fetchall() == history
            if both is None:
                with pytest.raises(InputDataError):
                    compute_status(loaded, p, earlier=earlier)
                return
            compute_status(loaded, p, earlier=earlier)
            assert both[0] == con.execute(table).fetchall()
            assert both[1] == con.execute("DESCRIBE status_at_dates").fetchall()
            assert {r[1] for r in both[0] if r[0] == earlier and r[2]} == set(
                _reference(sc, earlier)
            )
        finally:
            con.close()
