#!/usr/bin/env python
"""A typical pandas RFM, as found in tutorials, for benchmarking clientela against.

    python pandas_rfm.py INPUT.parquet OUTPUT.parquet [--as-of YYYY-MM-DD]

Input: order lines with columns order_id, customer_id, order_ts, amount, status.
Steps: drop status 'cancelled'; collapse lines into orders (first timestamp, summed
amount); per customer: last purchase, frequency = number of orders, monetary = sum of
order amounts; recency_days = as-of date (default: date of the last order) - date of the
last purchase; scores 1..5 with ``pd.qcut(x.rank(method='first'), 5)`` (ties broken by
order of appearance, i.e. customer_id order; recency ranked descending so recent = 5);
rfm_score = R*100 + F*10 + M. Writes one row per customer, sorted by customer_id.
Returned orders (negative amounts) are left in, as naive scripts do.
"""

import argparse
import time

import pandas as pd

COLUMNS = ["order_id", "customer_id", "order_ts", "amount", "status"]
LABELS = [1, 2, 3, 4, 5]


def rfm(lines, as_of=None):
    lines = lines[lines["status"] != "cancelled"]
    orders = lines.groupby(["customer_id", "order_id"], as_index=False, sort=False).agg(
        order_ts=("order_ts", "min"), amount=("amount", "sum")
    )
    if as_of is None:
        as_of = orders["order_ts"].max().normalize()
    as_of = pd.Timestamp(as_of)
    out = orders.groupby("customer_id").agg(
        last_purchase=("order_ts", "max"),
        frequency=("order_id", "count"),
        monetary=("amount", "sum"),
    )
    out["recency_days"] = (as_of - out["last_purchase"].dt.normalize()).dt.days
    out["r_score"] = pd.qcut(
        out["recency_days"].rank(method="first", ascending=False), 5, labels=LABELS
    ).astype(int)
    out["f_score"] = pd.qcut(out["frequency"].rank(method="first"), 5, labels=LABELS).astype(int)
    out["m_score"] = pd.qcut(out["monetary"].rank(method="first"), 5, labels=LABELS).astype(int)
    out["rfm_score"] = out["r_score"] * 100 + out["f_score"] * 10 + out["m_score"]
    out = out.reset_index()
    return out[
        [
            "customer_id",
            "last_purchase",
            "recency_days",
            "frequency",
            "monetary",
            "r_score",
            "f_score",
            "m_score",
            "rfm_score",
        ]
    ]


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--as-of", default=None)
    a = ap.parse_args()
    t0 = time.perf_counter()
    lines = pd.read_parquet(a.input, columns=COLUMNS)
    t1 = time.perf_counter()
    out = rfm(lines, a.as_of)
    t2 = time.perf_counter()
    out.to_parquet(a.output, index=False)
    t3 = time.perf_counter()
    print(
        f"pandas {pd.__version__}: read {t1 - t0:.2f}s, rfm {t2 - t1:.2f}s, write {t3 - t2:.2f}s, "
        f"total {t3 - t0:.2f}s, {len(lines)} lines -> {len(out)} customers"
    )


if __name__ == "__main__":
    main()
