"""Scaling benchmark (issue 8): the analyses at 1M, 10M and 100M order lines, under a memory
limit, with wall time, peak RSS and time per million rows.

Run by hand (not in CI):

    python bench/bench_scale.py --sizes 1000000,10000000,100000000 --formats parquet,csv \
        --commands rfm,cohorts,status,churn --memory-limit 4GB

With ``--repeat N`` every command runs N times, in rounds (each round runs every size once),
and the tables show the median: a single 10M run lasts 7-17 s and moves by about 10% from
one run to the next, enough to move the 100M / 10M ratio by as much.

Data: 1M and 10M lines are the files of bench_load.py (clientela's sample generator, seed
7). 100M lines are ten 10M parts, each the 10M file with customer and order ids made
distinct per part (``<id>-p<k>``), written as a folder of Parquet files and a folder of CSV
files: one input, many files, as exports arrive. Every command runs as its own process and
writes Parquet; peak RSS is the process's maximum resident set (os.wait4), start-up included.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
PARTS = 10


def ensure_data(rows: int, fmt: str) -> Path:
    """The input for ``rows`` lines in ``fmt``: a file (1M, 10M) or a folder of parts."""
    sys.path.insert(0, str(HERE))
    from bench_load import make_data  # the shared 1M / 10M files

    if rows <= 10_000_000:
        csv_path, pq_path = make_data(rows, DATA)
        return pq_path if fmt == "parquet" else csv_path
    import duckdb

    base_rows = rows // PARTS
    _, base = make_data(base_rows, DATA)
    folder = DATA / f"orders_{rows}_{fmt}"
    done = folder / ".complete"
    if done.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET enable_progress_bar = false")
    for k in range(PARTS):
        target = folder / f"part-{k:02d}.{'parquet' if fmt == 'parquet' else 'csv'}"
        if target.exists():
            continue
        options = "(FORMAT parquet, COMPRESSION zstd)" if fmt == "parquet" else "(HEADER)"
        tmp = target.with_suffix(target.suffix + ".tmp")
        con.execute(
            "COPY (SELECT * REPLACE (customer_id || '-p' || $k AS customer_id, "
            "order_id || '-p' || $k AS order_id) FROM read_parquet($base)) "
            f"TO '{tmp}' {options}",
            {"k": k, "base": str(base)},
        )
        tmp.rename(target)
        print(f"wrote {target}", file=sys.stderr)
    done.touch()
    return folder


def run(cmd: list[str]) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MB and the exit code of one process."""
    with tempfile.TemporaryFile() as errfile:  # a file, not a pipe: no deadlock
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=errfile)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        code = proc.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4
        errfile.seek(0)
        err = errfile.read().decode(errors="replace")
    if code != 0:
        print(f"FAILED ({code}): {' '.join(cmd)}\n{err}", file=sys.stderr)
    return wall, usage.ru_maxrss / 1024, code


COMMANDS = {
    "rfm": ["rfm"],
    "cohorts": ["cohorts"],
    "status": ["status"],
    "churn": ["churn"],
}


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000000,10000000")
    ap.add_argument("--formats", default="parquet")
    ap.add_argument("--commands", default="rfm,cohorts,status,churn")
    ap.add_argument("--memory-limit", default="4GB")
    ap.add_argument("--threads", default=None)
    ap.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run every command this many times, in rounds over all sizes (so that a slow "
        "spell of the machine falls on every size alike); the table shows the median",
    )
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    formats = args.formats.split(",")
    commands = args.commands.split(",")
    walls: dict[tuple[str, int, str], list[float]] = {}
    peaks: dict[tuple[str, int, str], float] = {}
    failed: set[tuple[str, int, str]] = set()
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in formats:
            data = {rows: ensure_data(rows, fmt) for rows in sizes}
            for round_ in range(1, args.repeat + 1):
                for rows in sizes:
                    for name in commands:
                        out = Path(tmp) / f"{name}.parquet"
                        cmd = [sys.executable, "-m", "clientela", *COMMANDS[name],
                               str(data[rows]), "-o", str(out),
                               "--memory-limit", args.memory_limit]  # fmt: skip
                        if args.threads:
                            cmd += ["--threads", args.threads]
                        wall, rss, code = run(cmd)
                        key = (fmt, rows, name)
                        walls.setdefault(key, []).append(wall)
                        peaks[key] = max(peaks.get(key, 0.0), rss)
                        if code != 0:
                            failed.add(key)
                        print(
                            f"round {round_}: {name} {fmt} {rows:,}: {wall:.1f} s, "
                            f"{rss:,.0f} MB" + ("" if code == 0 else f" (exit {code})"),
                            file=sys.stderr,
                            flush=True,
                        )
                        out.unlink(missing_ok=True)
    print(
        "| command | format | rows | wall s | peak RSS MB | s per M rows | runs (s) |\n"
        "|---|---|---:|---:|---:|---:|---|"
    )
    for (fmt, rows, name), times in walls.items():
        mark = " (failed)" if (fmt, rows, name) in failed else ""
        wall = median(times)
        runs = ", ".join(f"{t:.1f}" for t in times)
        print(
            f"| {name}{mark} | {fmt} | {rows:,} | {wall:.1f} | {peaks[(fmt, rows, name)]:,.0f} | "
            f"{wall / (rows / 1e6):.3f} | {runs} |"
        )
    if len(sizes) > 1:
        small, large = sorted(sizes)[-2:]
        print(f"\n| command | format | per-row time at {large:,} / at {small:,} |\n|---|---|---:|")
        for fmt in formats:
            for name in commands:
                ratio = (median(walls[(fmt, large, name)]) / large) / (
                    median(walls[(fmt, small, name)]) / small
                )
                print(f"| {name} | {fmt} | {ratio:.2f}x |")


if __name__ == "__main__":
    main()
