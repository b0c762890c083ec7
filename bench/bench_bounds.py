"""Lower bounds: what the floors of the rfm, cohorts and status benchmarks cost once exact
duplicate lines are dropped, beside clientela with and without its duplicate check.

Run by hand (not in CI):

    python bench/bench_bounds.py --rows 10000000 --repeat 3

Why: DESIGN.md (Canonical input) has the loader drop exact duplicate rows, and the floors
of bench_rfm.py and bench_cohorts.py do not. Dropping exact duplicates needs at least one
aggregation over every line keyed by the whole row, which no floor pays. This benchmark
measures the cheapest form of it in bare DuckDB, so the budgets "within 1.2x / 1.3x of the
floor" can be read against what is possible at all. Contenders, each its own process,
interleaved, writing Parquet:
  - floor (rfm, status): bench_rfm.FLOOR (lines -> orders -> customers)
  - floor + dedup: the same query over lines first grouped by (customer, order, hash of the
    whole row), which drops exact duplicates (a hash collision would also merge two
    different lines, so this is cheaper than exact and a true lower bound)
  - floor (cohorts): bench_cohorts.FLOOR (one GROUP BY customer_id over the lines)
  - floor (cohorts) + dedup: the same over lines grouped by (customer, hash of the row)
  - clientela rfm / cohorts / status, as in their benchmarks, and rfm with
    ``--duplicates keep`` (no duplicate check) for the check's own cost
Prints a Markdown table: median wall seconds and the ratio to each floor.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

# every column of the generated files: the hash of the whole row
_ROW = (
    "hash(order_id, customer_id, order_ts, status, channel, state, category, product, "
    "quantity, unit_price, amount)"
)

FLOOR_DEDUP = f"""
import duckdb, sys
duckdb.sql(f'''
COPY (
  SELECT customer_id, max(order_ts)::DATE AS last_purchase, count(*) AS frequency,
         sum(amount) AS monetary
  FROM (SELECT customer_id, order_id, min(order_ts) AS order_ts, sum(amount) AS amount
        FROM (SELECT customer_id, order_id, any_value(order_ts) AS order_ts,
                     any_value(amount) AS amount
              FROM read_parquet('{{sys.argv[1]}}')
              GROUP BY customer_id, order_id, {_ROW})
        GROUP BY customer_id, order_id)
  GROUP BY customer_id
) TO '{{sys.argv[2]}}' (FORMAT parquet)''')
"""

COHORT_FLOOR_DEDUP = f"""
import duckdb, sys
duckdb.sql(f'''
COPY (
  SELECT customer_id, min(order_ts) AS first_order, max(order_ts) AS last_order,
         count(*) AS lines, sum(amount) AS amount
  FROM (SELECT customer_id, any_value(order_ts) AS order_ts, any_value(amount) AS amount
        FROM read_parquet('{{sys.argv[1]}}') GROUP BY customer_id, {_ROW})
  GROUP BY customer_id
) TO '{{sys.argv[2]}}' (FORMAT parquet)''')
"""

RFM_FLOOR = "floor (rfm, status)"
COHORT_FLOOR = "floor (cohorts)"


def contenders() -> dict[str, tuple[list[str], str]]:
    """name -> (command, the floor its ratio is taken against)."""
    from bench_cohorts import FLOOR as COHORT_FLOOR_SQL
    from bench_rfm import FLOOR

    py = sys.executable
    cli = [py, "-m", "clientela"]
    return {
        RFM_FLOOR: ([py, "-c", FLOOR, "{in}", "{out}"], RFM_FLOOR),
        "floor (rfm, status) + duplicate lines dropped": (
            [py, "-c", FLOOR_DEDUP, "{in}", "{out}"],
            RFM_FLOOR,
        ),
        "clientela rfm": ([*cli, "rfm", "{in}", "-o", "{out}"], RFM_FLOOR),
        "clientela rfm --duplicates keep": (
            [*cli, "rfm", "{in}", "-o", "{out}", "--duplicates", "keep"],
            RFM_FLOOR,
        ),
        "clientela status": ([*cli, "status", "{in}", "-o", "{out}"], RFM_FLOOR),
        COHORT_FLOOR: ([py, "-c", COHORT_FLOOR_SQL, "{in}", "{out}"], COHORT_FLOOR),
        "floor (cohorts) + duplicate lines dropped": (
            [py, "-c", COHORT_FLOOR_DEDUP, "{in}", "{out}"],
            COHORT_FLOOR,
        ),
        "clientela cohorts": ([*cli, "cohorts", "{in}", "-o", "{out}"], COHORT_FLOOR),
    }


def main() -> None:
    from bench_load import make_data, size_args
    from bench_rfm import run

    args = size_args(__doc__.splitlines()[0])
    _, data = make_data(args.rows, args.data)
    cons = contenders()
    times: dict[str, list[float]] = {k: [] for k in cons}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeat):
            for name, (cmd, _floor) in cons.items():
                times[name].append(run(cmd, data, Path(tmp) / "out.parquet"))
    print(f"rows: {args.rows:,} order lines ({data.name}); median of {args.repeat} runs\n")
    print("| contender | median s | runs (s) | ratio to its floor |")
    print("|---|---:|---|---:|")
    for name, ts in times.items():
        med = statistics.median(ts)
        floor = statistics.median(times[cons[name][1]])
        runs = ", ".join(f"{t:.2f}" for t in ts)
        print(f"| {name} | {med:.2f} | {runs} | {med / floor:.2f}x ({cons[name][1]}) |")


if __name__ == "__main__":
    main()
