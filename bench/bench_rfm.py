"""RFM benchmark: whole processes side by side, interleaved, in one run.

Run by hand (not in CI):

    python bench/bench_rfm.py --rows 10000000 --repeat 3 [--lifetimes-python PATH]

Data: order lines made by clientela's sample generator (seed 7), written once to
bench/data/orders_<rows>.parquet (shared with bench_load.py). Each contender runs as its
own process (start-up included) and writes its result to Parquet:
  - clientela: ``clientela rfm FILE -o out.parquet``
  - floor: a bare DuckDB query that only collapses lines into orders and groups orders by
    customer (recency, frequency, monetary), written to Parquet: the least any RFM must do
  - pandas: bench/alternatives/pandas_rfm.py (groupby + qcut), run by ``--alt-python``
  - polars: bench/alternatives/polars_rfm.py (lazy), run by ``--alt-python``
  - lifetimes: bench/alternatives/lifetimes_summary.py in a separate venv
    (``--lifetimes-python``), if given
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
  SELECT customer_id, max(order_ts)::DATE AS last_purchase, count(*) AS frequency,
         sum(amount) AS monetary
  FROM (SELECT customer_id, order_id, min(order_ts) AS order_ts, sum(amount) AS amount
        FROM read_parquet('{sys.argv[1]}') GROUP BY customer_id, order_id)
  GROUP BY customer_id
) TO '{sys.argv[2]}' (FORMAT parquet)''')
"""


def contenders(lifetimes_python: str | None, alt_python: str) -> dict[str, list[str]]:
    alt = HERE / "alternatives"
    out = {
        "clientela rfm": [sys.executable, "-m", "clientela", "rfm", "{in}", "-o", "{out}"],
        "floor (bare DuckDB)": [sys.executable, "-c", FLOOR, "{in}", "{out}"],
    }
    if (alt / "pandas_rfm.py").exists():
        out["pandas (groupby + qcut)"] = [alt_python, str(alt / "pandas_rfm.py"), "{in}", "{out}"]
    if (alt / "polars_rfm.py").exists():
        out["polars (lazy)"] = [alt_python, str(alt / "polars_rfm.py"), "{in}", "{out}"]
    if lifetimes_python and (alt / "lifetimes_summary.py").exists():
        out["lifetimes summary"] = [
            lifetimes_python,
            str(alt / "lifetimes_summary.py"),
            "{in}",
            "{out}",
        ]
    return out


def run(cmd: list[str], data: Path, out: Path) -> float:
    args = [c.replace("{in}", str(data)).replace("{out}", str(out)) for c in cmd]
    t = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args[:4])} failed:\n{proc.stderr[-2000:]}")
    return elapsed


def main() -> None:
    from bench_load import make_data

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--data", type=Path, default=HERE / "data")
    ap.add_argument("--lifetimes-python", default=None, help="python of the lifetimes venv")
    ap.add_argument(
        "--alt-python",
        default=sys.executable,
        help="python with pandas and polars (bench/alternatives/README.md)",
    )
    ap.add_argument(
        "--skip", action="append", default=[], help="skip a contender whose name starts with this"
    )
    args = ap.parse_args()
    _, data = make_data(args.rows, args.data)
    cons = {
        k: v
        for k, v in contenders(args.lifetimes_python, args.alt_python).items()
        if not any(k.startswith(s) for s in args.skip)
    }
    times: dict[str, list[float]] = {k: [] for k in cons}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeat):
            for name, cmd in cons.items():
                times[name].append(run(cmd, data, Path(tmp) / "out.parquet"))
    floor = statistics.median(times["floor (bare DuckDB)"])
    print(f"rows: {args.rows:,} order lines ({data.name}); median of {args.repeat} runs\n")
    print("| contender | median s | runs (s) | ratio to floor |")
    print("|---|---:|---|---:|")
    for name, ts in times.items():
        med = statistics.median(ts)
        runs = ", ".join(f"{t:.2f}" for t in ts)
        print(f"| {name} | {med:.2f} | {runs} | {med / floor:.2f}x |")


if __name__ == "__main__":
    main()
