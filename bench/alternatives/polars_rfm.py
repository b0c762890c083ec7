#!/usr/bin/env python
"""The same RFM as pandas_rfm.py with a Polars lazy query, for benchmarking.

    python polars_rfm.py INPUT.parquet OUTPUT.parquet [--as-of YYYY-MM-DD]

Same steps and output columns as pandas_rfm.py. The qcut-on-rank scores are reproduced
exactly: with n customers and ordinal ranks 1..n (ties by customer_id order, as pandas'
sorted groupby gives), pandas' qcut edges are 1 + (n - 1) * k / 5, right-closed, so
score = 1 + #{k in 1..4 : rank > 1 + (n - 1) * k / 5}. One query from scan to sink.
"""

import argparse
import datetime as dt
import time

import polars as pl

COLUMNS = ["order_id", "customer_id", "order_ts", "amount", "status"]


def qcut5_of_rank(rank):
    n = pl.len().cast(pl.Float64)
    r = rank.cast(pl.Float64)
    score = pl.lit(1, dtype=pl.Int64)
    for k in range(1, 5):
        score = score + (r > 1 + (n - 1) * k / 5).cast(pl.Int64)
    return score


def rfm(lf, as_of=None):
    orders = (
        lf.select(COLUMNS)
        .filter(pl.col("status") != "cancelled")
        .group_by(["customer_id", "order_id"])
        .agg(pl.col("order_ts").min(), pl.col("amount").sum())
    )
    cust = (
        orders.group_by("customer_id")
        .agg(
            pl.col("order_ts").max().alias("last_purchase"),
            pl.len().cast(pl.Int64).alias("frequency"),
            pl.col("amount").sum().alias("monetary"),
        )
        .sort("customer_id")
    )
    as_of_expr = pl.col("last_purchase").max().dt.date() if as_of is None else pl.lit(as_of)
    return (
        cust.with_columns(
            (as_of_expr - pl.col("last_purchase").dt.date()).dt.total_days().alias("recency_days")
        )
        .with_columns(
            qcut5_of_rank(pl.col("recency_days").rank("ordinal", descending=True)).alias("r_score"),
            qcut5_of_rank(pl.col("frequency").rank("ordinal")).alias("f_score"),
            qcut5_of_rank(pl.col("monetary").rank("ordinal")).alias("m_score"),
        )
        .with_columns(
            (pl.col("r_score") * 100 + pl.col("f_score") * 10 + pl.col("m_score")).alias(
                "rfm_score"
            )
        )
        .select(
            "customer_id",
            "last_purchase",
            "recency_days",
            "frequency",
            "monetary",
            "r_score",
            "f_score",
            "m_score",
            "rfm_score",
        )
    )


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--as-of", default=None, type=dt.date.fromisoformat)
    a = ap.parse_args()
    t0 = time.perf_counter()
    rfm(pl.scan_parquet(a.input), a.as_of).sink_parquet(a.output)
    t1 = time.perf_counter()
    print(f"polars {pl.__version__}: total {t1 - t0:.2f}s (scan + rfm + sink, lazy)")


if __name__ == "__main__":
    main()
