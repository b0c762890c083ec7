#!/usr/bin/env python
"""Regenerate the CDNOW reference files in this folder with lifetimes 0.11.3.

NOT run by the test suite, and not importable by it: it needs the separate
"lifetimes" virtualenv described in README.md (lifetimes pins old pandas/numpy
APIs and must never be installed into the project's own environment).

    python3 -m venv /work/lifetimes-venv
    /work/lifetimes-venv/bin/pip install lifetimes==0.11.3 pandas==1.5.3 \
        numpy==1.26.4 scipy==1.11.4 autograd==1.6.2 dill==0.3.8 \
        python-dateutil==2.9.0.post0 pytz==2024.1
    /work/lifetimes-venv/bin/python tests/data/cdnow/make_expected.py [--outdir DIR]

What it writes (into --outdir, default: the folder of this script):

  CDNOW_sample.txt                      byte-for-byte copy of lifetimes/datasets/CDNOW_sample.txt
  cdnow_sample_orders.csv               the same rows as plain CSV (customer_id,order_date,cds,amount)
  summary_days.csv                      freq='D', observation_period_end='1998-06-30'
  summary_weeks.csv                     freq='D', freq_multiplier=7, observation_period_end='1998-06-30'
  calibration_holdout_weeks.csv         calibration_period_end='1997-09-30',
                                        observation_period_end='1998-06-30', freq='D', freq_multiplier=7
  summary_days_asof_1997-09-30.csv      freq='D', observation_period_end='1997-09-30'
  facts.json                            counts and BG/NBD (+ Gamma-Gamma) fits quoted in README.md

All summaries use monetary_value_col='amount' and the customer id of the
*sample* (column 2 of CDNOW_sample.txt, 1..2357, the ID used in Hardie's own
summary file), as an integer. Floats are written with repr() (shortest string
that round-trips to the same IEEE double).
"""
from __future__ import print_function

import argparse
import csv
import hashlib
import json
import os
import platform
import shutil
import sys

import numpy as np
import pandas as pd
import scipy
import autograd
import lifetimes
from lifetimes import BetaGeoFitter, GammaGammaFitter
from lifetimes.utils import calibration_and_holdout_data, summary_data_from_transaction_data

HERE = os.path.dirname(os.path.abspath(__file__))
DATASETS = os.path.join(os.path.dirname(lifetimes.__file__), "datasets")
SRC = os.path.join(DATASETS, "CDNOW_sample.txt")

OBS_END = "1998-06-30"
CAL_END = "1997-09-30"

# Fader, Hardie & Lee (2005), Marketing Science 24(2); full precision as in CLVTools' tests.
PUBLISHED_BGNBD = {"r": 0.2425945, "alpha": 4.4136019, "a": 0.7929199, "b": 2.4258881, "ll": -9582.429}
PUBLISHED_GG = {"p": 6.25, "q": 3.74, "v": 15.44}


def read_sample(path):
    """Parse CDNOW_sample.txt keeping the original tokens.

    Each line: ' <master id, 5 digits> <sample id, 4 digits> <yyyymmdd> <cds> <dollars>' with CRLF.
    """
    rows = []
    with open(path, "r") as fh:  # universal newlines: CRLF -> \n
        for lineno, line in enumerate(fh, 1):
            tok = line.split()
            if not tok:
                continue
            if len(tok) != 5:
                raise ValueError("line %d: expected 5 fields, got %r" % (lineno, line))
            master_id, sample_id, ymd, cds, amount = tok
            rows.append((int(master_id), int(sample_id), ymd, int(cds), amount))
    return rows


def fmt(v):
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    return str(v)


def write_frame(df, path, index_label="customer_id"):
    df = df.sort_index()
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow([index_label] + list(df.columns))
        for idx, row in zip(df.index, df.itertuples(index=False)):
            w.writerow([fmt(idx)] + [fmt(v) for v in row])


def bgnbd_ll(params, f, r, T):
    """Un-scaled BG/NBD log-likelihood (sum over customers) with lifetimes' own formula."""
    f = np.asarray(f).astype(int)
    nll = BetaGeoFitter._negative_log_likelihood(
        np.log(np.asarray(params, dtype=float)), f, np.asarray(r, float), np.asarray(T, float),
        np.ones_like(f), 0.0)
    return float(-nll * len(f))


def gg_ll(params, f, m):
    nll = GammaGammaFitter._negative_log_likelihood(
        np.log(np.asarray(params, dtype=float)), np.asarray(f, float), np.asarray(m, float),
        np.ones(len(f), dtype=int), 0.0)
    return float(-nll * len(f))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--outdir", default=HERE)
    args = ap.parse_args()
    out = args.outdir
    if not os.path.isdir(out):
        os.makedirs(out)

    versions = {
        "python": platform.python_version(),
        "lifetimes": lifetimes.__version__,
        "pandas": pd.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "autograd": getattr(autograd, "__version__", "unknown"),
    }
    try:  # autograd < 1.7 has no __version__
        from importlib.metadata import version as _v
        versions["autograd"] = _v("autograd")
    except Exception:
        pass

    # 1. raw copy + plain CSV
    dst = os.path.join(out, "CDNOW_sample.txt")
    if os.path.abspath(dst) != os.path.abspath(SRC):
        shutil.copyfile(SRC, dst)
    with open(SRC, "rb") as fh:
        sha = hashlib.sha256(fh.read()).hexdigest()

    rows = read_sample(SRC)
    with open(os.path.join(out, "cdnow_sample_orders.csv"), "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["customer_id", "order_date", "cds", "amount"])
        for _master, sid, ymd, cds, amount in rows:
            w.writerow([sid, "%s-%s-%s" % (ymd[:4], ymd[4:6], ymd[6:]), cds, amount])

    df = pd.DataFrame(
        {
            "customer_id": [r[1] for r in rows],
            "date": pd.to_datetime([r[2] for r in rows], format="%Y%m%d"),
            "amount": [float(r[4]) for r in rows],
        }
    )

    # 2. summaries, exactly the calls documented in README.md
    s_days = summary_data_from_transaction_data(
        df, "customer_id", "date", monetary_value_col="amount", observation_period_end=OBS_END, freq="D")
    s_weeks = summary_data_from_transaction_data(
        df, "customer_id", "date", monetary_value_col="amount", observation_period_end=OBS_END, freq="D",
        freq_multiplier=7)
    cal = calibration_and_holdout_data(
        df, "customer_id", "date", calibration_period_end=CAL_END, observation_period_end=OBS_END, freq="D",
        freq_multiplier=7, monetary_value_col="amount")
    s_asof = summary_data_from_transaction_data(
        df, "customer_id", "date", monetary_value_col="amount", observation_period_end=CAL_END, freq="D")

    write_frame(s_days, os.path.join(out, "summary_days.csv"))
    write_frame(s_weeks, os.path.join(out, "summary_weeks.csv"))
    write_frame(cal, os.path.join(out, "calibration_holdout_weeks.csv"))
    write_frame(s_asof, os.path.join(out, "summary_days_asof_%s.csv" % CAL_END))

    # 3. facts
    cal_end = pd.Timestamp(CAL_END)
    obs_end = pd.Timestamp(OBS_END)
    days = df.drop_duplicates(["customer_id", "date"])
    hold_rows = df[(df.date > cal_end) & (df.date <= obs_end)]
    hold_days = days[(days.date > cal_end) & (days.date <= obs_end)]
    cal_rows = df[df.date <= cal_end]
    cal_days = days[days.date <= cal_end]

    hardie = pd.read_csv(os.path.join(DATASETS, "cdnow_customers_summary.csv"), index_col=0)
    hardie_m = pd.read_csv(os.path.join(DATASETS, "cdnow_customers_summary_with_transactions.csv"), index_col=0)
    c = cal.loc[hardie.index]

    bg = BetaGeoFitter().fit(cal["frequency_cal"], cal["recency_cal"], cal["T_cal"])
    fitted = [float(bg.params_[k]) for k in ("r", "alpha", "a", "b")]
    ll_fit = bgnbd_ll(fitted, cal["frequency_cal"], cal["recency_cal"], cal["T_cal"])
    pub = [PUBLISHED_BGNBD[k] for k in ("r", "alpha", "a", "b")]
    ll_pub = bgnbd_ll(pub, cal["frequency_cal"], cal["recency_cal"], cal["T_cal"])
    ll_pub_hardie = bgnbd_ll(pub, hardie["frequency"], hardie["recency"], hardie["T"])
    ll_fit_hardie_bg = BetaGeoFitter().fit(hardie["frequency"], hardie["recency"], hardie["T"])
    fitted_h = [float(ll_fit_hardie_bg.params_[k]) for k in ("r", "alpha", "a", "b")]

    pred_fit = bg.conditional_expected_number_of_purchases_up_to_time(
        39, cal["frequency_cal"], cal["recency_cal"], cal["T_cal"])
    bg_pub = BetaGeoFitter()
    bg_pub.params_ = pd.Series(pub, index=["r", "alpha", "a", "b"])
    pred_pub = bg_pub.conditional_expected_number_of_purchases_up_to_time(
        39, cal["frequency_cal"], cal["recency_cal"], cal["T_cal"])
    ce_example = float(bg_pub.conditional_expected_number_of_purchases_up_to_time(39, 2, 30.43, 38.86))

    rep = cal[cal["frequency_cal"] > 0]
    gg = GammaGammaFitter().fit(rep["frequency_cal"], rep["monetary_value_cal"])
    gg_params = [float(gg.params_[k]) for k in ("p", "q", "v")]

    facts = {
        "generated_with": versions,
        "source_file": {"path_in_wheel": "lifetimes/datasets/CDNOW_sample.txt", "sha256": sha,
                        "rows": len(rows), "line_endings": "CRLF"},
        "customers": int(df.customer_id.nunique()),
        "first_purchase_min": str(df.groupby("customer_id").date.min().min().date()),
        "first_purchase_max": str(df.groupby("customer_id").date.min().max().date()),
        "last_date": str(df.date.max().date()),
        "zero_amount_rows": int((df.amount == 0).sum()),
        "rows": len(df),
        "distinct_customer_days": len(days),
        "same_day_duplicate_rows": len(df) - len(days),
        "calibration": {
            "rows": len(cal_rows),
            "customer_days": len(cal_days),
            "repeat_buyers": int((cal["frequency_cal"] > 0).sum()),
            "sum_frequency_cal": float(cal["frequency_cal"].sum()),
            "repeat_rows_raw": int(len(cal_rows) - df.customer_id.nunique()),
        },
        "holdout": {
            "rows": len(hold_rows),
            "customer_days": len(hold_days),
            "sum_frequency_holdout": float(cal["frequency_holdout"].sum()),
            "customers_with_holdout_purchase": int((cal["frequency_holdout"] > 0).sum()),
            "duration_holdout": float(cal["duration_holdout"].iloc[0]),
        },
        "full_period": {
            "repeat_buyers": int((s_days["frequency"] > 0).sum()),
            "sum_frequency": float(s_days["frequency"].sum()),
        },
        "vs_hardie_summary": {
            "frequency_max_abs_diff": float((c["frequency_cal"] - hardie["frequency"]).abs().max()),
            "recency_max_abs_diff": float((c["recency_cal"] - hardie["recency"]).abs().max()),
            "T_max_abs_diff": float((c["T_cal"] - hardie["T"]).abs().max()),
            "monetary_max_abs_diff": float(
                (cal.loc[hardie_m.index, "monetary_value_cal"] - hardie_m["zbar"]).abs().max()),
        },
        "bgnbd": {
            "fit_call": "BetaGeoFitter().fit(frequency_cal, recency_cal, T_cal)  # defaults: penalizer 0, tol 1e-7",
            "fitted": dict(zip(("r", "alpha", "a", "b"), fitted)),
            "fitted_ll": ll_fit,
            "published": PUBLISHED_BGNBD,
            "ll_at_published_params": ll_pub,
            "ll_at_published_params_on_hardie_rounded_summary": ll_pub_hardie,
            "fitted_on_hardie_rounded_summary": dict(zip(("r", "alpha", "a", "b"), fitted_h)),
            "sum_expected_holdout_purchases_39w_fitted": float(np.sum(pred_fit)),
            "sum_expected_holdout_purchases_39w_published": float(np.sum(pred_pub)),
            "cond_expected_39w_x2_tx30.43_T38.86_published": ce_example,
        },
        "gamma_gamma": {
            "fit_call": "GammaGammaFitter().fit(frequency_cal, monetary_value_cal) on frequency_cal > 0",
            "n": int(len(rep)),
            "fitted": dict(zip(("p", "q", "v"), gg_params)),
            "fitted_ll_mean_spend_density": gg_ll(gg_params, rep["frequency_cal"], rep["monetary_value_cal"]),
            "published": PUBLISHED_GG,
            "ll_at_published_params": gg_ll([PUBLISHED_GG[k] for k in ("p", "q", "v")],
                                             rep["frequency_cal"], rep["monetary_value_cal"]),
            "mean_monetary_value_cal": float(rep["monetary_value_cal"].mean()),
        },
    }
    with open(os.path.join(out, "facts.json"), "w") as fh:
        json.dump(facts, fh, indent=2, sort_keys=False)
        fh.write("\n")
    json.dump(facts, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
