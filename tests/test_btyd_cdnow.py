"""The BTYD summary equals lifetimes 0.11.3 on the CDNOW sample.

tests/data/cdnow holds the sample (shipped in the lifetimes wheel; attribution in its
README.md) and lifetimes' own output, generated once by make_expected.py in a separate
environment: lifetimes is not a dependency. The literature counts CDNOW's $0 orders as
transactions (--zero-orders purchase), and same-day identical rows are separate purchases
(--duplicates keep).
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from clientela.load import LoadOptions, load
from clientela.rfm import compute_btyd
from tests.conftest import DATA, run_cli

CDNOW = DATA / "cdnow"
ORDERS = str(CDNOW / "cdnow_sample_orders.csv")
OPTS = dict(as_of="1998-06-30", zero_orders="purchase", duplicates="keep", dimensions=[])


def expected(name: str) -> dict[str, dict[str, float]]:
    with (CDNOW / name).open() as fh:
        return {
            r.pop("customer_id"): {k: float(v) for k, v in r.items()} for r in csv.DictReader(fh)
        }


def actual(con, columns: dict[str, str]) -> dict[str, dict[str, float]]:
    cols = ", ".join(columns)
    rows = con.execute(f"SELECT customer_id, {cols} FROM btyd").fetchall()
    return {
        r[0]: {ref: float(v) for ref, v in zip(columns.values(), r[1:], strict=True)} for r in rows
    }


def assert_same(got: dict, want: dict) -> None:
    assert got.keys() == want.keys()
    for cust, row in want.items():
        for k, v in row.items():
            assert math.isclose(got[cust][k], v, rel_tol=1e-12, abs_tol=1e-12), (cust, k)


@pytest.mark.parametrize(
    ("unit", "name"), [("days", "summary_days.csv"), ("weeks", "summary_weeks.csv")]
)
def test_summary_equals_lifetimes(unit: str, name: str) -> None:
    loaded = load([ORDERS], LoadOptions(**OPTS))
    compute_btyd(loaded, unit)
    cols = {
        "frequency": "frequency",
        "recency": "recency",
        "T": "T",
        "monetary_value": "monetary_value",
    }
    assert_same(actual(loaded.con, cols), expected(name))


def test_summary_at_an_earlier_as_of_equals_lifetimes() -> None:
    loaded = load([ORDERS], LoadOptions(**{**OPTS, "as_of": "1997-09-30"}))
    compute_btyd(loaded, "days")
    cols = {
        "frequency": "frequency",
        "recency": "recency",
        "T": "T",
        "monetary_value": "monetary_value",
    }
    assert_same(actual(loaded.con, cols), expected("summary_days_asof_1997-09-30.csv"))


def test_calibration_holdout_equals_lifetimes() -> None:
    loaded = load([ORDERS], LoadOptions(**OPTS))
    compute_btyd(loaded, "weeks", "1997-09-30")
    cols = {
        "frequency": "frequency_cal",
        "recency": "recency_cal",
        "T": "T_cal",
        "monetary_value": "monetary_value_cal",
        "frequency_holdout": "frequency_holdout",
        "monetary_value_holdout": "monetary_value_holdout",
        "duration_holdout": "duration_holdout",
    }
    got = actual(loaded.con, cols)
    assert_same(got, expected("calibration_holdout_weeks.csv"))
    # the published figures: 2,357 customers, 946 repeat buyers, 1,882 holdout purchases
    assert len(got) == 2357
    assert sum(1 for r in got.values() if r["frequency_cal"] > 0) == 946
    assert sum(r["frequency_holdout"] for r in got.values()) == 1882


def test_cli_btyd(tmp_path: Path) -> None:
    out = tmp_path / "btyd.csv"
    meta = tmp_path / "meta.json"
    res = run_cli(
        "rfm",
        ORDERS,
        "--model",
        "btyd",
        "--unit",
        "weeks",
        "--as-of",
        "1998-06-30",
        "--zero-orders",
        "purchase",
        "--duplicates",
        "keep",
        "-o",
        str(out),
        "--meta",
        str(meta),
    )
    assert res.code == 0, res.err
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 2357 and list(rows[0]) == [
        "customer_id",
        "frequency",
        "recency",
        "T",
        "monetary_value",
    ]
    assert json.loads(meta.read_text())["unit"] == "weeks"
    bad = run_cli("rfm", ORDERS, "--model", "btyd", "--calibration-end", "1999-01-01")
    assert bad.code == 2 and "--calibration-end" in bad.err
