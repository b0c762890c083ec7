"""Status benchmark: whole processes side by side, interleaved, in one run.

Run by hand (not in CI):

    python bench/bench_status.py --rows 10000000 --repeat 3

Data: order lines made by clientela's sample generator (seed 7), written once to
bench/data/orders_<rows>.parquet (shared with bench_load.py and bench_rfm.py; about 2.7
years of orders). Each contender runs as its own process (start-up included) and writes
its result to Parquet:
  - clientela status: ``clientela status FILE -o out.parquet`` (one row per customer)
  - floor: the bare DuckDB query of bench_rfm.py (collapse lines into orders, group orders
    by customer), written to Parquet: the least any per-customer analysis must do
  - clientela status --history --every week: the status at the end of every week of the
    data (set-based, sql/status_history_*.sql), long format
  - clientela status --history --every month
Goals (issue 5): status within 1.3x the floor; the weekly history in under 10x one status
run. Prints a Markdown table: median wall seconds, the ratio to the floor and to status.
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

STATUS = "clientela status"
FLOOR_NAME = "floor (bare DuckDB)"


def contenders() -> dict[str, list[str]]:
    from bench_rfm import FLOOR

    cli = [sys.executable, "-m", "clientela", "status", "{in}", "-o", "{out}"]
    return {
        STATUS: cli,
        FLOOR_NAME: [sys.executable, "-c", FLOOR, "{in}", "{out}"],
        "clientela status --history --every week": [*cli, "--history", "--every", "week"],
        "clientela status --history --every month": [*cli, "--history", "--every", "month"],
    }


def run(cmd: list[str], data: Path, out: Path) -> float:
    args = [c.replace("{in}", str(data)).replace("{out}", str(out)) for c in cmd]
    t = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args[:6])} failed:\n{proc.stderr[-2000:]}")
    return elapsed


def main() -> None:
    from bench_load import make_data

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--data", type=Path, default=HERE / "data")
    ap.add_argument(
        "--skip", action="append", default=[], help="skip a contender whose name starts with this"
    )
    args = ap.parse_args()
    _, data = make_data(args.rows, args.data)
    cons = {k: v for k, v in contenders().items() if not any(k.startswith(s) for s in args.skip)}
    times: dict[str, list[float]] = {k: [] for k in cons}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeat):
            for name, cmd in cons.items():
                times[name].append(run(cmd, data, Path(tmp) / "out.parquet"))
    med = {k: statistics.median(v) for k, v in times.items()}
    floor, status = med.get(FLOOR_NAME), med.get(STATUS)
    print(f"rows: {args.rows:,} order lines ({data.name}); median of {args.repeat} runs\n")
    print("| contender | median s | runs (s) | ratio to floor | ratio to status |")
    print("|---|---:|---|---:|---:|")
    for name, ts in times.items():
        runs = ", ".join(f"{t:.2f}" for t in ts)
        to_floor = f"{med[name] / floor:.2f}x" if floor else "-"
        to_status = f"{med[name] / status:.2f}x" if status else "-"
        print(f"| {name} | {med[name]:.2f} | {runs} | {to_floor} | {to_status} |")


if __name__ == "__main__":
    main()
