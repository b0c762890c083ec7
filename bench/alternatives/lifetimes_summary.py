#!/usr/bin/env python
"""lifetimes' BTYD summary of an order-lines Parquet file, for benchmarking.

Runs in the separate lifetimes virtualenv (see README.md), not the project's.

    python lifetimes_summary.py INPUT.parquet OUTPUT.parquet [--as-of YYYY-MM-DD]

Input columns order_id, customer_id, order_ts, amount, status. Drops status 'cancelled',
then ``summary_data_from_transaction_data(lines, 'customer_id', 'order_ts',
monetary_value_col='amount', observation_period_end=as_of, freq='D')`` with as_of
defaulting to the date of the last line (lifetimes floors it to the day). lifetimes sums
rows of one customer on one day itself, so collapsing lines into orders first changes
nothing. Output: customer_id, frequency, recency, T, monetary_value (floats, days).
"""

import argparse
import time
import warnings

import pandas as pd

warnings.simplefilter("ignore", FutureWarning)

from lifetimes import __version__ as lifetimes_version  # noqa: E402
from lifetimes.utils import summary_data_from_transaction_data  # noqa: E402

COLUMNS = ["order_id", "customer_id", "order_ts", "amount", "status"]


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
    lines = lines[lines["status"] != "cancelled"]
    lines["customer_id"] = lines["customer_id"].astype(str)  # never a categorical group key
    as_of = a.as_of or lines["order_ts"].max().normalize()
    out = summary_data_from_transaction_data(
        lines,
        "customer_id",
        "order_ts",
        monetary_value_col="amount",
        observation_period_end=as_of,
        freq="D",
    )
    t2 = time.perf_counter()
    out = out.sort_index().reset_index()
    out.to_parquet(a.output, index=False)
    t3 = time.perf_counter()
    print(
        f"lifetimes {lifetimes_version} (pandas {pd.__version__}): read {t1 - t0:.2f}s, "
        f"summary {t2 - t1:.2f}s, write {t3 - t2:.2f}s, total {t3 - t0:.2f}s, "
        f"{len(lines)} lines -> {len(out)} customers"
    )


if __name__ == "__main__":
    main()
