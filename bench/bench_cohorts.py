"""Cohort benchmark: whole processes side by side, interleaved, in one run.

Run by hand (not in CI):

    python bench/bench_cohorts.py --rows 10000000 --repeat 3 \\
        --alt-python /work/bench-alt-venv/bin/python

Data: order lines made by clientela's sample generator (seed 7), written once to
bench/data/orders_<rows>.parquet (shared with bench_load.py and bench_rfm.py). Each contender
runs as its own process (start-up included) and writes its result to Parquet:
  - clientela: ``clientela cohorts FILE -o out.parquet`` (monthly cohorts, share of the
    cohort with a purchase in each later month; the partial as-of month left out)
  - floor: a bare DuckDB ``GROUP BY customer_id`` over the same file written to Parquet
    (DESIGN.md, Budgets: the least any per-customer analysis must do)
  - duckdb (hand-written): the same cohort table as one plain DuckDB query, no loading
    rules (no duplicate removal, no checks): what a careful analyst would write by hand
  - pandas / polars: the same table the way people write it in those libraries
    (``--alt-python``: a Python with pandas and Polars, see bench/alternatives/README.md)
All contenders follow clientela's definitions (cancelled orders out; lines -> orders;
purchases = orders with positive net value; cohort = month of the first purchase; the
partial as-of month left out), and ``--check`` compares their tables cell by cell.
Prints a Markdown table: median wall seconds and the ratio to the floor.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

FLOOR = """
import duckdb, sys
duckdb.sql(f'''
COPY (
  SELECT customer_id, min(order_ts) AS first_order, max(order_ts) AS last_order,
         count(*) AS lines, sum(amount) AS amount
  FROM read_parquet('{sys.argv[1]}') GROUP BY customer_id
) TO '{sys.argv[2]}' (FORMAT parquet)''')
"""

# one query: lines -> orders -> (customer, month) -> cohorts -> rates, pivoted by month index
DUCKDB = """
import duckdb, sys
con = duckdb.connect()
con.execute(f'''
CREATE TABLE o AS
SELECT customer_id, min(order_ts) AS ts, sum(amount) AS amount
FROM read_parquet('{sys.argv[1]}') WHERE status <> 'cancelled'
GROUP BY customer_id, order_id''')
as_of = con.execute("SELECT max(ts)::DATE FROM o").fetchall()[0][0]
con.execute(f'''
CREATE TABLE cells AS
WITH p AS (
  SELECT DISTINCT customer_id, date_trunc('month', ts)::DATE AS m FROM o
  WHERE amount > 0 AND ts::DATE <= CASE WHEN (DATE '{as_of}' + 1) = date_trunc('month',
    DATE '{as_of}' + 1) THEN DATE '{as_of}' ELSE date_trunc('month', DATE '{as_of}')::DATE - 1
    END),
c AS (SELECT customer_id, min(m) AS cohort FROM p GROUP BY customer_id)
SELECT cohort, date_diff('month', cohort, m) AS k, count(*) AS n
FROM p JOIN c USING (customer_id) GROUP BY ALL''')
last = con.execute("SELECT max(cohort) FROM cells").fetchall()[0][0]
kmax = con.execute("SELECT max(k) FROM cells").fetchall()[0][0]
cols = ', '.join(
    f'CASE WHEN {k} <= date_diff(\\'month\\', cohort, DATE \\'{last}\\') THEN '
    f'coalesce(sum(n) FILTER (WHERE k = {k}), 0) / sum(n) FILTER (WHERE k = 0) END AS "{k}"'
    for k in range(kmax + 1))
con.execute(f'''COPY (SELECT strftime(cohort, '%Y-%m') AS cohort,
  sum(n) FILTER (WHERE k = 0) AS cohort_size, {cols} FROM cells GROUP BY cohort ORDER BY cohort)
  TO '{sys.argv[2]}' (FORMAT parquet)''')
"""

PANDAS = """
import sys
import pandas as pd
lines = pd.read_parquet(sys.argv[1], columns=["order_id", "customer_id", "order_ts", "amount",
                                               "status"])
lines = lines[lines["status"] != "cancelled"]
orders = lines.groupby(["customer_id", "order_id"], as_index=False, sort=False).agg(
    order_ts=("order_ts", "min"), amount=("amount", "sum"))
as_of = orders["order_ts"].max().normalize()
month = lambda ts: ts.dt.year * 12 + ts.dt.month - 1
last = as_of.year * 12 + as_of.month - 1
if (as_of + pd.Timedelta(days=1)).month == as_of.month:  # the as-of month is partial
    last -= 1
buys = orders[orders["amount"] > 0]
active = pd.DataFrame({"customer_id": buys["customer_id"], "m": month(buys["order_ts"])})
active = active[active["m"] <= last].drop_duplicates()
active["cohort"] = active.groupby("customer_id")["m"].transform("min")
active["k"] = active["m"] - active["cohort"]
table = active.groupby(["cohort", "k"]).size().unstack("k")
sizes = table[0]
rates = table.fillna(0).div(sizes, axis=0)
for k in rates.columns:  # months after the last complete one are unknown, not 0
    rates.loc[rates.index + k > last, k] = float("nan")
rates.columns = [str(k) for k in rates.columns]
out = rates.reset_index()
out.insert(1, "cohort_size", sizes.values)
out["cohort"] = [f"{c // 12}-{c % 12 + 1:02d}" for c in out["cohort"]]
out.to_parquet(sys.argv[2], index=False)
"""

POLARS = """
import datetime
import sys
import polars as pl
lines = pl.scan_parquet(sys.argv[1]).select("order_id", "customer_id", "order_ts", "amount",
                                            "status")
orders = (lines.filter(pl.col("status") != "cancelled")
          .group_by("customer_id", "order_id")
          .agg(pl.col("order_ts").min(), pl.col("amount").sum())).collect()
as_of = orders["order_ts"].max().date()
last = as_of.year * 12 + as_of.month - 1
if (as_of + datetime.timedelta(days=1)).month == as_of.month:  # the as-of month is partial
    last -= 1
m = pl.col("order_ts").dt.year().cast(pl.Int64) * 12 + pl.col("order_ts").dt.month() - 1
active = (orders.lazy().filter(pl.col("amount") > 0).select("customer_id", m.alias("m"))
          .filter(pl.col("m") <= last).unique()
          .with_columns(pl.col("m").min().over("customer_id").alias("cohort"))
          .with_columns((pl.col("m") - pl.col("cohort")).alias("k"))
          .group_by("cohort", "k").len().collect())
kmax = active["k"].max()
sizes = active.filter(pl.col("k") == 0).select("cohort", pl.col("len").alias("cohort_size"))
wide = active.pivot(on="k", index="cohort", values="len", sort_columns=True)
out = sizes.join(wide, on="cohort").sort("cohort").with_columns(
    [pl.when(pl.col("cohort") + k <= last)
       .then(pl.col(str(k)).fill_null(0) / pl.col("cohort_size")).alias(str(k))
     for k in range(kmax + 1)])
out = out.with_columns((pl.col("cohort") // 12).cast(pl.Utf8) + "-"
                       + (pl.col("cohort") % 12 + 1).cast(pl.Utf8).str.zfill(2))
out.select("cohort", "cohort_size", *[str(k) for k in range(kmax + 1)]).write_parquet(sys.argv[2])
"""


def contenders(alt_python: str) -> dict[str, list[str]]:
    return {
        "clientela cohorts": [sys.executable, "-m", "clientela", "cohorts", "{in}", "-o",
                              "{out}"],
        "floor (bare DuckDB GROUP BY customer_id)": [sys.executable, "-c", FLOOR, "{in}",
                                                     "{out}"],
        "duckdb (hand-written cohort query)": [sys.executable, "-c", DUCKDB, "{in}", "{out}"],
        "pandas": [alt_python, "-c", PANDAS, "{in}", "{out}"],
        "polars": [alt_python, "-c", POLARS, "{in}", "{out}"],
    }  # fmt: skip


def run(cmd: list[str], data: Path, out: Path) -> float:
    args = [c.replace("{in}", str(data)).replace("{out}", str(out)) for c in cmd]
    t = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args[:4])} failed:\n{proc.stderr[-2000:]}")
    return elapsed


def check(outputs: dict[str, Path]) -> None:
    """The cohort tables agree cell by cell (rates to 1e-6)."""
    import pyarrow.parquet as pq

    tables = {
        name: pq.read_table(path).to_pylist()
        for name, path in outputs.items()
        if not name.startswith("floor")
    }
    want = tables.pop("clientela cohorts")
    want = [r for r in want if r["cohort"] != "all cohorts"]
    for name, rows in tables.items():
        assert len(rows) == len(want), (name, len(rows), len(want))
        for got, exp in zip(rows, want, strict=True):
            assert got["cohort"] == exp["cohort"], (name, got["cohort"], exp["cohort"])
            assert int(got["cohort_size"]) == exp["cohort_size"], (name, exp["cohort"])
            for k, v in exp.items():
                if not k.isdigit():
                    continue
                g = got.get(k)
                g = None if g is None or g != g else g  # NaN = unknown
                assert (g is None) == (v is None), (name, exp["cohort"], k, g, v)
                if v is not None:
                    assert abs(g - v) <= 1e-6, (name, exp["cohort"], k, g, v)
    print(f"check: {', '.join(tables)} agree with clientela cell by cell ({len(want)} cohorts)\n")


def main() -> None:
    from bench_load import make_data

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--data", type=Path, default=HERE / "data")
    ap.add_argument(
        "--alt-python",
        default=sys.executable,
        help="python with pandas and polars (bench/alternatives/README.md)",
    )
    ap.add_argument(
        "--skip", action="append", default=[], help="skip a contender whose name starts with this"
    )
    ap.add_argument("--check", action="store_true", help="compare the tables cell by cell")
    args = ap.parse_args()
    _, data = make_data(args.rows, args.data)
    cons = {
        k: v
        for k, v in contenders(args.alt_python).items()
        if not any(k.startswith(s) for s in args.skip)
    }
    times: dict[str, list[float]] = {k: [] for k in cons}
    with tempfile.TemporaryDirectory() as tmp:
        outs = {name: Path(tmp) / f"out{i}.parquet" for i, name in enumerate(cons)}
        for _ in range(args.repeat):
            for name, cmd in cons.items():
                times[name].append(run(cmd, data, outs[name]))
        if args.check:
            check(outs)
    floor = statistics.median(times["floor (bare DuckDB GROUP BY customer_id)"])
    print(f"rows: {args.rows:,} order lines ({data.name}); median of {args.repeat} runs\n")
    print("| contender | median s | runs (s) | ratio to floor |")
    print("|---|---:|---|---:|")
    for name, ts in times.items():
        med = statistics.median(ts)
        runs = ", ".join(f"{t:.2f}" for t in ts)
        print(f"| {name} | {med:.2f} | {runs} | {med / floor:.2f}x |")


if __name__ == "__main__":
    main()
