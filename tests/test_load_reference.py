"""The loader against a plain-Python reference of DESIGN.md's loading rules (property test).

Random order lines (duplicates, missing customers, cancelled statuses, refunds, zero orders,
lines after the as-of date) are written as CSV in English or Brazilian format; the
canonical ``orders`` table must match what the reference computes row for row.
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from collections import defaultdict
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientela.load import LoadOptions, load

STATUSES = ["paid", "paid", "paid", "cancelled", "Cancelado", "wc-refunded", "pending"]
EXCLUDED = {"cancelled", "Cancelado", "wc-refunded"}

line = st.tuples(
    st.sampled_from(["", "c1", "c2", "007", "C1"]),  # customer ("" = missing)
    st.sampled_from(["o1", "o2", "o3", "o4", "o5", "o6"]),  # order id
    st.integers(0, 40),  # day offset from 2025-01-01
    st.integers(0, 23),  # hour
    st.sampled_from([0, 1, 5, 12.5, 99.99, 1234.56, -5, -12.5]),  # amount
    st.sampled_from(STATUSES),
)


def reference(lines: list[tuple], as_of: dt.date, zero_purchase: bool) -> dict:
    """Orders as DESIGN.md defines them, computed in plain Python."""
    seen: set[tuple] = set()
    kept = []
    for ln in lines:
        if ln[0] == "":
            continue
        if ln in seen:  # exact duplicate
            continue
        seen.add(ln)
        kept.append(ln)
    groups: dict[tuple[str, str], list[tuple]] = defaultdict(list)
    for ln in kept:
        groups[(ln[0], ln[1])].append(ln)
    out = {}
    for key, lns in groups.items():
        first = min(lns, key=lambda x: (x[2], x[3]))
        ts = dt.datetime(2025, 1, 1, first[3]) + dt.timedelta(days=first[2])
        excluded = any(x[5] in EXCLUDED for x in lns)
        if excluded or ts.date() > as_of:
            continue
        amount = round(sum(x[4] for x in lns), 2)
        earliest = [x for x in lns if (x[2], x[3]) == (first[2], first[3])]
        out[key] = {
            "order_ts": ts,
            # the status of the earliest line; among lines at that time, the smallest
            "status": min(x[5] for x in earliest),
            "amount": amount,
            "n_lines": len(lns),
            "is_purchase": amount > 0 or (zero_purchase and amount == 0),
            "is_refund": amount < 0,
        }
    return out


def _fmt_br(x: float) -> str:
    s = f"{x:,.2f}"  # 1,234.56
    return s.replace(",", "X").replace(".", ",").replace("X", ".")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(line, min_size=1, max_size=30),
    as_of_day=st.integers(10, 45),
    zero_purchase=st.booleans(),
    brazilian=st.booleans(),
)
def test_loader_matches_reference(
    lines: list[tuple], as_of_day: int, zero_purchase: bool, brazilian: bool
) -> None:
    # "007" and "C1"/"c1" must stay distinct: ids are text, compared exactly
    lines = [*lines, ("c1", "o9", 0, 0, 1, "paid")]  # at least one order always kept
    as_of = dt.date(2025, 1, 1) + dt.timedelta(days=as_of_day)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "orders.csv"
        with path.open("w", newline="", encoding="cp1252" if brazilian else "utf-8") as fh:
            w = csv.writer(fh, delimiter=";" if brazilian else ",")
            w.writerow(
                ["cliente", "pedido", "data_pedido", "valor_total", "situação"]
                if brazilian
                else ["customer_id", "order_id", "order_ts", "amount", "status"]
            )
            for cust, oid, day, hour, amount, status in lines:
                ts = dt.datetime(2025, 1, 1, hour) + dt.timedelta(days=day)
                w.writerow(
                    [
                        cust,
                        oid,
                        ts.strftime("%d/%m/%Y %H:%M:%S" if brazilian else "%Y-%m-%d %H:%M:%S"),
                        _fmt_br(amount) if brazilian else f"{amount}",
                        status,
                    ]
                )
            # a day above 12 so that the day/month order is decidable
            w.writerow(
                [
                    "",
                    "o0",
                    "31/01/2025 00:00:00" if brazilian else "2025-01-31 00:00:00",
                    "1",
                    "paid",
                ]
            )
        opts = LoadOptions(as_of=as_of, zero_orders="purchase" if zero_purchase else "ignore")
        loaded = load([str(path)], opts)
        cur = loaded.con.execute(
            "SELECT customer_id, order_id, order_ts, round(amount, 2), n_lines, is_purchase, "
            "is_refund, status FROM orders"
        )
        got = {
            (r[0], r[1]): {
                "order_ts": r[2],
                "amount": r[3],
                "n_lines": r[4],
                "is_purchase": r[5],
                "is_refund": r[6],
                "status": r[7],
            }
            for r in cur.fetchall()
        }
        loaded.con.close()
    expected = reference(lines, as_of, zero_purchase)
    assert got == expected
    rep = loaded.report
    assert rep.rows["read"] == len(lines) + 1
    assert rep.rows["no_customer"] == sum(1 for ln in lines if ln[0] == "") + 1
    assert rep.orders["orders"] == len(expected)
    assert rep.orders["purchases"] == sum(o["is_purchase"] for o in expected.values())
