#!/usr/bin/env python
"""Regenerate lifetimes_cdnow_predictions.csv and lifetimes_facts.json with lifetimes 0.11.3.

NOT run by the test suite: it needs the separate lifetimes virtualenv of
tests/data/cdnow/README.md (lifetimes must never be installed into the project's venv).

    /work/lifetimes-venv/bin/python -W ignore tests/data/clv/make_expected.py

Input: ../cdnow/calibration_holdout_weeks.csv (lifetimes' own calibration summary of the
CDNOW sample, weeks = days / 7, calibration to 1997-09-30). Every prediction is made at
the PUBLISHED parameters (set on the fitters, not fitted), so the file checks formulas
only:

  lifetimes_cdnow_predictions.csv  per customer (sorted by customer_id):
    p_alive               BetaGeoFitter.conditional_probability_alive(x, t_x, T)
    expected_39           BetaGeoFitter.conditional_expected_number_of_purchases_up_to_time(39, x, t_x, T)
    expected_avg_value    GammaGammaFitter.conditional_expected_average_profit(x, m)
    clv_12_months_w       GammaGammaFitter.customer_lifetime_value(bgf, x, t_x, T, m, time=12,
                          discount_rate=0.01, freq='W')   (months of 4.345 weeks)
  lifetimes_facts.json   unconditional E[X(t)] and P(X(t) = n) at the published parameters.

Floats are written with repr().
"""
import csv
import json
import os
from collections import OrderedDict

import numpy as np
import pandas as pd
import lifetimes
from lifetimes import BetaGeoFitter, GammaGammaFitter

HERE = os.path.dirname(os.path.abspath(__file__))
CAL = os.path.join(HERE, "..", "cdnow", "calibration_holdout_weeks.csv")
BG = OrderedDict([("r", 0.2425945), ("alpha", 4.4136019), ("a", 0.7929199), ("b", 2.4258881)])
GG = OrderedDict([("p", 6.25), ("q", 3.74), ("v", 15.44)])


def main():
    df = pd.read_csv(CAL, dtype={"customer_id": str}).set_index("customer_id")
    x, t_x, T, m = df["frequency_cal"], df["recency_cal"], df["T_cal"], df["monetary_value_cal"]
    bgf = BetaGeoFitter()
    bgf.params_ = pd.Series(BG)
    bgf.predict = bgf.conditional_expected_number_of_purchases_up_to_time  # as fit() sets it
    ggf = GammaGammaFitter()
    ggf.params_ = pd.Series(GG)
    out = pd.DataFrame(index=df.index)
    out["p_alive"] = bgf.conditional_probability_alive(x, t_x, T)
    out["expected_39"] = bgf.conditional_expected_number_of_purchases_up_to_time(39, x, t_x, T)
    out["expected_avg_value"] = ggf.conditional_expected_average_profit(x, m)
    out["clv_12_months_w"] = ggf.customer_lifetime_value(
        bgf, x, t_x, T, m, time=12, discount_rate=0.01, freq="W"
    ).values
    out = out.sort_index()
    with open(os.path.join(HERE, "lifetimes_cdnow_predictions.csv"), "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["customer_id", *out.columns])
        for cid, row in out.iterrows():
            w.writerow([cid, *(repr(float(v)) for v in row.values)])
    times = [0.1429, 1.0, 3.0, 31.8571, 39.0, 78.0]
    facts = {
        "generated_with": {"lifetimes": lifetimes.__version__, "pandas": pd.__version__,
                           "numpy": np.__version__},
        "bgnbd_params": dict(BG),
        "gamma_gamma_params": dict(GG),
        "expected_purchases_new": {
            repr(t): float(bgf.expected_number_of_purchases_up_to_time(t)) for t in times
        },
        "probability_of_n_purchases_t39": {
            str(n): float(bgf.probability_of_n_purchases_up_to_time(39, n)) for n in range(0, 8)
        },
    }
    with open(os.path.join(HERE, "lifetimes_facts.json"), "w") as fh:
        json.dump(facts, fh, indent=2)
        fh.write("\n")


if __name__ == "__main__":
    main()
