"""Report benchmark (issue 7): the whole weekly report against ``clientela rfm`` alone.

Run by hand (not in CI):

    python bench/bench_report.py --rows 10000000 --repeat 3

Data: the Parquet file of bench_load.py (clientela's sample generator, seed 7). Both
contenders run as whole processes (start-up included), interleaved in each repeat:
  - ``clientela rfm FILE -o out.parquet``
  - ``clientela report FILE --out-dir DIR --quiet``: every table as Parquet and CSV, the
    workbook, the page, summary.json and manifest.json (its default outputs), from one load
The goal of issue 7: the report within 3x the time of rfm alone. Peak RSS is the process's
maximum resident set (os.wait4). Prints a Markdown table, and whether every table file
(Parquet and CSV) had the same bytes in every run (issue 7: same input, identical tables).
"""

from __future__ import annotations

import hashlib
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def run(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one process; a failure stops the benchmark."""
    from bench_scale import run as run_process

    wall, rss, code = run_process(cmd)  # (prints the failing command and its stderr)
    if code != 0:
        raise SystemExit(f"{' '.join(cmd[:5])} failed (exit {code})")
    return wall, rss


def main() -> None:
    from bench_load import make_data, size_args

    args = size_args(__doc__.splitlines()[0])
    _, data = make_data(args.rows, args.data)
    clientela = [sys.executable, "-m", "clientela"]
    times: dict[str, list[tuple[float, float]]] = {"clientela rfm": [], "clientela report": []}
    tables: list[dict[str, str]] = []  # per run: table file -> sha256
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "rfm.parquet"
        folder = Path(tmp) / "report"
        for _ in range(args.repeat):
            out.unlink(missing_ok=True)
            times["clientela rfm"].append(run([*clientela, "rfm", str(data), "-o", str(out)]))
            shutil.rmtree(folder, ignore_errors=True)
            times["clientela report"].append(
                run([*clientela, "report", str(data), "--out-dir", str(folder), "--quiet"])
            )
            tables.append({
                f.name: hashlib.sha256(f.read_bytes()).hexdigest()
                for f in sorted(folder.iterdir()) if f.suffix in (".csv", ".parquet")
            })  # fmt: skip
    base = statistics.median(t for t, _ in times["clientela rfm"])
    print(f"rows: {args.rows:,} order lines ({data.name}); median of {args.repeat} runs\n")
    print("| contender | median s | runs (s) | peak RSS MB | ratio to rfm |")
    print("|---|---:|---|---:|---:|")
    for name, runs in times.items():
        med = statistics.median(t for t, _ in runs)
        shown = ", ".join(f"{t:.2f}" for t, _ in runs)
        rss = max(m for _, m in runs)
        print(f"| {name} | {med:.2f} | {shown} | {rss:,.0f} | {med / base:.2f}x |")
    differing = sorted({n for t in tables[1:] for n in t if t[n] != tables[0].get(n)})
    print(
        f"\ntable files identical in all {len(tables)} report runs: "
        + ("yes" if not differing else "NO, " + ", ".join(differing))
    )


if __name__ == "__main__":
    main()
