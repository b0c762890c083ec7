"""Presets on files in each vendor's real export layout (tests/data/presets/).

The expected facts in expected.json were computed independently of the loader (by hand and
with a plain csv-module script); see tests/data/presets/EXPECTED.md for the layouts' sources.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from clientela.columns import suggest_preset
from clientela.load import LoadOptions, load
from tests.conftest import DATA, run_cli

PRESETS = DATA / "presets"
EXPECTED = json.loads((PRESETS / "expected.json").read_text())
FILES = {
    "shopify_orders_export.csv": "shopify",
    "woocommerce_orders_export.csv": "woocommerce",
    "woocommerce_analytics_orders.csv": "woocommerce",
    "online_retail.csv": "online-retail",
    "online_retail_ii.csv": "online-retail",
}


def _utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)


@pytest.mark.parametrize(("name", "preset"), FILES.items())
def test_preset_matches_expected_facts(name: str, preset: str) -> None:
    exp = EXPECTED[name]
    loaded = load([str(PRESETS / name)], LoadOptions(preset=preset))
    rep = loaded.report
    assert rep.rows["read"] == exp["rows_read"]
    assert rep.rows["no_customer"] == exp["rows_no_customer"]
    assert rep.rows["duplicate"] == exp["rows_duplicate"]
    o = rep.orders
    assert o["orders"] == exp["orders"]
    assert o["excluded_by_status"] == exp["orders_excluded_by_status"]
    assert o["customers"] == exp["customers"]
    assert o["purchases"] == exp["purchases"]
    assert o["refunds"] == exp["refund_orders"]
    assert o["net_revenue"] == pytest.approx(exp["net_revenue"], abs=0.005)
    con = loaded.con
    first, last = con.execute("SELECT min(order_ts), max(order_ts) FROM orders").fetchone()
    assert (first, last) == (_utc(exp["first_order_ts"]), _utc(exp["last_order_ts"]))
    values = dict(
        con.execute(
            "SELECT order_id, round(sum(amount), 2) FROM orders GROUP BY order_id"
        ).fetchall()
    )
    assert values == pytest.approx(exp["order_values"], abs=0.005)
    per_customer = dict(
        con.execute("SELECT customer_id, round(sum(amount), 2) FROM orders GROUP BY 1").fetchall()
    )
    for cust, value in exp["customer_net_revenue"].items():
        assert per_customer[cust] == pytest.approx(value, abs=0.005), cust
    counts = dict(con.execute("SELECT customer_id, count(*) FROM orders GROUP BY 1").fetchall())
    for cust, n in exp["customer_orders"].items():
        assert counts[cust] == n, cust


@pytest.mark.parametrize(("name", "preset"), FILES.items())
def test_preset_is_suggested_from_the_header(name: str, preset: str) -> None:
    header = (PRESETS / name).read_text(encoding="utf-8").splitlines()[0]
    import csv

    cols = next(csv.reader([header]))
    found = suggest_preset(cols)
    assert found is not None and found.name == preset


def test_generic_header_suggests_no_preset() -> None:
    assert suggest_preset(["order_id", "customer_id", "order_date", "amount", "status"]) is None


def test_inspect_suggests_preset(tmp_path: Path) -> None:
    res = run_cli("inspect", str(PRESETS / "online_retail.csv"), "--format", "json")
    assert res.code == 0, res.err
    doc = json.loads(res.out)
    assert doc["suggested_preset"] == "online-retail"
    assert "preset_suggested" in [w["code"] for w in doc["warnings"]]
