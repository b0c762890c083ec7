#!/usr/bin/env python
"""Write a synthetic order-lines Parquet file for the alternative RFM scripts.

    python make_orders.py OUTPUT.parquet [--rows 1000000] [--seed 7]

Columns: order_id (str), customer_id (str, zero-padded), order_ts (timestamp[us], whole
seconds, 2023-01-01 .. 2024-12-31), amount (float64, cents), status (str: 'paid' ~97%,
'cancelled' ~2%, 'returned' ~1% with a negative amount). 1-4 lines per order, all lines
of an order share customer, timestamp and status; customers drawn with a skew so that
many buy once and a few buy often. Needs only numpy + pandas (+ pyarrow to write).
"""

import argparse

import numpy as np
import pandas as pd


def make(rows, seed=7):
    rng = np.random.default_rng(seed)
    n_orders = max(1, int(rows / 2.5)) + 1
    lines = rng.integers(1, 5, n_orders)  # 1..4 lines per order
    order_of_line = np.repeat(np.arange(n_orders), lines)[:rows]
    n_orders = int(order_of_line[-1]) + 1
    n_customers = max(1, n_orders // 3)
    # skew: u**3 concentrates orders on low customer numbers
    cust = (rng.random(n_orders) ** 3 * n_customers).astype(np.int64)
    start = np.datetime64("2023-01-01T00:00:00", "s").astype(np.int64)
    span = 2 * 365 * 86400
    ts = start + rng.integers(0, span, n_orders)
    status = rng.choice(np.array(["paid", "cancelled", "returned"]), n_orders, p=[0.97, 0.02, 0.01])
    amount = rng.integers(100, 50000, rows) / 100.0
    amount = np.where(status[order_of_line] == "returned", -amount, amount)
    width = len(str(n_customers))
    df = pd.DataFrame(
        {
            "order_id": pd.Series(np.char.add("O", (order_of_line + 1000000).astype(str))).astype(
                str
            ),
            "customer_id": pd.Series(
                np.char.zfill((cust[order_of_line] + 1).astype(str), width)
            ).astype(str),
            "order_ts": pd.to_datetime(ts[order_of_line], unit="s").astype("datetime64[us]"),
            "amount": amount.astype("float64"),
            "status": pd.Series(status[order_of_line]).astype(str),
        }
    )
    return df.sort_values(["order_ts", "order_id"], kind="stable").reset_index(drop=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("output")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    make(a.rows, a.seed).to_parquet(a.output, index=False)


if __name__ == "__main__":
    main()
