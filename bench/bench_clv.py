"""CLV benchmark: BG/NBD + Gamma-Gamma fit and scoring, clientela vs lifetimes, same summary.

Run by hand (not in CI):

    python bench/bench_clv.py --rows 10000000 --repeat 3 \\
        --lifetimes-python /work/lifetimes-venv/bin/python

Data: order lines made by clientela's sample generator (seed 7), written once to
bench/data/orders_<rows>.parquet by bench_load.make_data (shared with the other benchmarks).

1. The whole run, as a user runs it: ``clientela clv FILE -o out.parquet`` (a process:
   start-up, load, BTYD summary, fits, scoring, Parquet), median of ``--repeat`` runs.
2. Fit + scoring on the same BTYD summary (weeks), written once to Parquet by clientela:
   - clientela: the summary read into DuckDB, then ``clientela.clv.score_summary``
     (grouping, both fits, p_alive, expected purchases over 12 months, expected average
     value, CLV over 12 months at 1% a month, the per-customer table), in-process;
   - lifetimes 0.11.3 in its own venv (``--lifetimes-python``), the usual calls:
     ``BetaGeoFitter().fit(frequency, recency, T)``, ``GammaGammaFitter().fit`` on repeat
     buyers with positive spend, ``conditional_probability_alive``,
     ``conditional_expected_number_of_purchases_up_to_time(52.18)``,
     ``conditional_expected_average_profit`` and ``customer_lifetime_value(time=12,
     discount_rate=0.01, freq='W')``; read and write excluded from its times.
   Both fits are compared (parameters, and p_alive per customer) to show they solve the
   same problem.
Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

LIFETIMES = r"""
import json, sys, time, warnings
warnings.simplefilter("ignore")
import pandas as pd
import lifetimes
from lifetimes import BetaGeoFitter, GammaGammaFitter

summary, out_path, horizon = sys.argv[1], sys.argv[2], float(sys.argv[3])
s = pd.read_parquet(summary)
f, r, T, m = s["frequency"], s["recency"], s["T"], s["monetary_value"]
t0 = time.perf_counter()
bgf = BetaGeoFitter().fit(f, r, T)
rep = s[(f > 0) & (m > 0)]
ggf = GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"])
t1 = time.perf_counter()
out = pd.DataFrame({"customer_id": s["customer_id"]})
out["p_alive"] = bgf.conditional_probability_alive(f, r, T)
out["expected_purchases"] = bgf.conditional_expected_number_of_purchases_up_to_time(
    horizon, f, r, T)
out["expected_avg_value"] = ggf.conditional_expected_average_profit(f, m).values
out["clv"] = ggf.customer_lifetime_value(bgf, f, r, T, m, time=12, discount_rate=0.01,
                                         freq="W").values
t2 = time.perf_counter()
out.to_parquet(out_path, index=False)
print(json.dumps({"fit": t1 - t0, "score": t2 - t1, "version": lifetimes.__version__,
                  "bgnbd": dict(bgf.params_), "gamma_gamma": dict(ggf.params_)}))
"""


def run(cmd: list[str]) -> tuple[float, str]:
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} failed:\n{proc.stderr[-3000:]}")
    return elapsed, proc.stdout


def write_summary(data: Path, out: Path) -> dict[str, object]:
    """The BTYD summary (weeks) of the benchmark file, as clientela computes it."""
    from clientela.load import load
    from clientela.rfm import compute_btyd

    loaded = load([str(data)])
    res = compute_btyd(loaded, "weeks")
    loaded.con.execute(f"COPY btyd TO '{out}' (FORMAT parquet)")
    ((distinct,),) = loaded.con.sql(
        "SELECT count(*) FROM (SELECT DISTINCT frequency, recency, T FROM btyd)"
    ).fetchall()
    ((repeat,),) = loaded.con.sql("SELECT count(*) FROM btyd WHERE frequency > 0").fetchall()
    loaded.con.close()
    return {
        "customers": res.customers,
        "repeat_buyers": repeat,
        "distinct_rows": distinct,
        "as_of": res.as_of,
    }


def clientela_fit_score(summary: Path, as_of: object) -> dict[str, object]:
    """clientela's fit + scoring on the summary file, in-process (like lifetimes')."""
    import duckdb

    from clientela.clv import ClvParams, score_summary
    from clientela.rfm import BtydResult

    con = duckdb.connect()
    con.execute(f"CREATE TABLE btyd AS SELECT * FROM read_parquet('{summary}')")
    ((n,),) = con.sql("SELECT count(*) FROM btyd").fetchall()
    t = time.perf_counter()
    res = score_summary(BtydResult(con, as_of, "weeks", None, n), ClvParams())  # type: ignore[arg-type]
    elapsed = time.perf_counter() - t
    assert res.bgnbd_fit is not None and res.gamma_gamma_fit is not None
    out = {
        "seconds": elapsed,
        "bgnbd": res.bgnbd_fit.params.as_dict(),
        "gamma_gamma": res.gamma_gamma_fit.params.as_dict(),
        "converged": res.bgnbd_fit.diagnostics.converged
        and res.gamma_gamma_fit.diagnostics.converged,
        "con": con,
    }
    return out


def main() -> None:
    from bench_load import make_data

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--data", type=Path, default=HERE / "data")
    ap.add_argument("--lifetimes-python", default=None, help="python of the lifetimes venv")
    args = ap.parse_args()
    _, data = make_data(args.rows, args.data)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        whole = []
        cli_out = tmp / "clv.parquet"
        for _ in range(args.repeat):
            t, _ = run([sys.executable, "-m", "clientela", "clv", str(data), "-o", str(cli_out)])
            whole.append(t)
        summary = tmp / "btyd.parquet"
        info = write_summary(data, summary)
        ours = [clientela_fit_score(summary, info["as_of"]) for _ in range(args.repeat)]
        theirs = None
        if args.lifetimes_python:
            horizon = str(365.25 / 7)
            _, stdout = run(
                [args.lifetimes_python, "-c", LIFETIMES, str(summary), str(tmp / "lt.parquet"),
                 horizon]
            )  # fmt: skip
            theirs = json.loads(stdout.strip().splitlines()[-1])
            con = ours[-1]["con"]
            ((dmax, e_ours, e_theirs),) = con.sql(
                "SELECT max(abs(c.p_alive - l.p_alive)), sum(c.expected_purchases), "
                f"sum(l.expected_purchases) FROM clv c JOIN read_parquet('{tmp / 'lt.parquet'}')"
                " l USING (customer_id)"
            ).fetchall()

    med = statistics.median(whole)
    fit_score = statistics.median(float(o["seconds"]) for o in ours)  # type: ignore[arg-type]
    print(
        f"rows: {args.rows:,} order lines ({data.name}); {info['customers']:,} customers, "
        f"{info['repeat_buyers']:,} repeat buyers, {info['distinct_rows']:,} distinct "
        f"(frequency, recency, T) rows\n"
    )
    print("| what | median s | runs (s) |")
    print("|---|---:|---|")
    print(f"| `clientela clv FILE -o out.parquet` (whole process) | {med:.2f} | "
          + ", ".join(f"{t:.2f}" for t in whole) + " |")  # fmt: skip
    print(f"| clientela fit + scoring on the summary | {fit_score:.2f} | "
          + ", ".join(f"{float(o['seconds']):.2f}" for o in ours) + " |")  # type: ignore[arg-type]  # fmt: skip
    if theirs is not None:
        total = theirs["fit"] + theirs["score"]
        print(f"| lifetimes {theirs['version']} fit + scoring (fit {theirs['fit']:.1f} s, "
              f"scoring {theirs['score']:.1f} s) | {total:.2f} | 1 run |")  # fmt: skip
        print(f"\nlifetimes / clientela (fit + scoring): {total / fit_score:.1f}x\n")
        print("| parameter | clientela | lifetimes |")
        print("|---|---:|---:|")
        for name, ours_v in {**ours[-1]["bgnbd"], **ours[-1]["gamma_gamma"]}.items():  # type: ignore[dict-item]
            key = "v" if name == "gamma" else name
            ref = {**theirs["bgnbd"], **theirs["gamma_gamma"]}[key]
            print(f"| {name} | {ours_v:.6g} | {ref:.6g} |")
        print(
            f"\nmax |p_alive difference| over customers: {dmax:.2e}; expected purchases in "
            f"12 months: clientela {e_ours:,.1f}, lifetimes {e_theirs:,.1f}"
        )


if __name__ == "__main__":
    main()
