"""Loader throughput: clientela's load() vs a bare DuckDB read of the same file.

Run by hand (not in CI):

    python bench/bench_load.py --rows 10000000 --repeat 3

It generates order lines with clientela's sample generator (seed 7), writes them as CSV and
Parquet under bench/data/, then times, interleaved in one run:
  - duckdb_read: ``CREATE TABLE t AS SELECT * FROM read_csv/read_parquet(file)`` (DuckDB
    sniffs and types the file itself; everything materialised, as the loader does);
  - clientela_load: ``clientela.load([file])``: detection, parsing, duplicate removal,
    lines -> orders, counts and quality checks (the canonical ``orders`` table).
Prints a Markdown table (median seconds, rows per second, ratio).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent


def make_data(rows: int, out: Path) -> tuple[Path, Path]:
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from clientela import sample

    out.mkdir(parents=True, exist_ok=True)
    csv_path, pq_path = out / f"orders_{rows}.csv", out / f"orders_{rows}.parquet"
    if csv_path.exists() and pq_path.exists():
        return csv_path, pq_path
    orders = max(1, int(rows / 1.25))
    table = sample.generate(orders=orders, seed=7).orders
    while table.num_rows < rows:  # top up deterministically
        more = sample.generate(orders=orders // 4 + 1, seed=table.num_rows).orders
        table = pa.concat_tables([table, more])
    table = table.slice(0, rows)
    # plain string columns, as exports written by pandas, Spark or DuckDB have them (the
    # generator's dictionary columns would make pandas read categoricals)
    table = pa.table(
        {
            name: col.cast(pa.string()) if pa.types.is_dictionary(col.type) else col
            for name, col in zip(table.column_names, table.columns, strict=True)
        }
    )
    pq.write_table(table, pq_path, compression="zstd")
    pacsv.write_csv(table, csv_path)
    return csv_path, pq_path


def time_duckdb(path: Path) -> float:
    import duckdb

    con = duckdb.connect()
    reader = "read_parquet" if path.suffix == ".parquet" else "read_csv"
    t = time.perf_counter()
    con.execute(f"CREATE TABLE t AS SELECT * FROM {reader}(?)", [str(path)])
    elapsed = time.perf_counter() - t
    con.close()
    return elapsed


def time_clientela(path: Path) -> float:
    from clientela.load import load

    t = time.perf_counter()
    loaded = load([str(path)])
    elapsed = time.perf_counter() - t
    loaded.con.close()
    return elapsed


def size_args(
    description: str, extra: Callable[[argparse.ArgumentParser], None] | None = None
) -> argparse.Namespace:
    """The options every benchmark shares: --rows, --repeat, --data (plus ``extra``)."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--data", type=Path, default=HERE / "data")
    if extra is not None:
        extra(ap)
    return ap.parse_args()


def main() -> None:
    args = size_args(__doc__.splitlines()[0])
    csv_path, pq_path = make_data(args.rows, args.data)
    print(
        f"rows: {args.rows:,}; csv {csv_path.stat().st_size / 1e6:,.0f} MB, "
        f"parquet {pq_path.stat().st_size / 1e6:,.0f} MB"
    )
    results: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.repeat):
        for path in (csv_path, pq_path):
            fmt = "CSV" if path.suffix == ".csv" else "Parquet"
            results.setdefault((fmt, "duckdb_read"), []).append(time_duckdb(path))
            results.setdefault((fmt, "clientela_load"), []).append(time_clientela(path))
    print("\n| file | what | median s | rows/s | ratio to bare DuckDB |")
    print("|---|---|---:|---:|---:|")
    for fmt in ("CSV", "Parquet"):
        base = statistics.median(results[(fmt, "duckdb_read")])
        for what in ("duckdb_read", "clientela_load"):
            med = statistics.median(results[(fmt, what)])
            print(f"| {fmt} | {what} | {med:.2f} | {args.rows / med:,.0f} | {med / base:.2f}x |")


if __name__ == "__main__":
    main()
