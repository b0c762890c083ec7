"""The Python API: the same names and defaults as the CLI (README's examples)."""

from __future__ import annotations

import csv
import io

import polars as pl

import clientela
from tests.conftest import SAMPLE, run_cli


def test_rfm_api_matches_cli() -> None:
    df = clientela.rfm(str(SAMPLE / "orders.csv"))
    again = clientela.rfm(str(SAMPLE / "orders.csv"))  # callable after the module is imported
    assert isinstance(df, pl.DataFrame) and df.equals(again)
    res = run_cli("rfm", str(SAMPLE / "orders.csv"), "-o", "-")
    assert res.code == 0, res.err
    rows = list(csv.DictReader(io.StringIO(res.out)))
    assert len(rows) == df.height
    first = df.row(0, named=True)
    assert rows[0]["customer_id"] == first["customer_id"]
    assert rows[0]["segment"] == first["segment"] and int(rows[0]["r_score"]) == first["r_score"]


def test_summary_lang_and_lazy_path() -> None:
    seg = clientela.rfm(str(SAMPLE / "orders.csv"), summary=True, lang="pt")
    assert "Campeões" in seg["segment_label"].to_list()
    loaded = clientela.load([str(SAMPLE / "orders.csv")])
    res = clientela.compute_rfm(loaded, clientela.RfmParams())
    ((n,),) = loaded.con.sql("SELECT count(*) FROM rfm").fetchall()
    assert n == res.customers == seg["customers"].sum()
    report = clientela.inspect(str(SAMPLE / "pt-BR" / "orders.csv"))
    assert report.orders["customers"] == loaded.report.orders["customers"]


def test_btyd_through_the_api() -> None:
    df = clientela.rfm(str(SAMPLE / "orders.csv"), model="btyd", unit="weeks")
    assert df.columns == ["customer_id", "frequency", "recency", "T", "monetary_value"]
    assert (df["T"] >= df["recency"]).all()
