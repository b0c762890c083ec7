"""`clientela churn`: threshold and cadence flags against the plain-Python reference, the
model method (BG/NBD P(alive) from clientela.clv), the win-back list with consent, every
usage error, and the Python API."""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import io
import json
import sys
import tempfile
import types
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientela.churn import ChurnParams, compute_churn
from clientela.errors import UsageError
from clientela.load import LoadOptions, load
from tests.conftest import SAMPLE, Result, run_cli, write
from tests.test_status_reference import AS_OF, _load, reference_churn, scenario

ORDERS = str(SAMPLE / "orders.csv")
CRM = str(SAMPLE / "customers.csv")
COLUMNS = ["customer_id", "churned", "rule", "last_purchase", "days_since_last",
           "purchase_days", "expected_gap_days", "threshold_days"]  # fmt: skip


def _parallel(calls: list[list[str]]) -> list[Result]:
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda args: run_cli(*args), calls))


def _cadence_edge(k: float) -> list[tuple]:
    """Three purchase days 10 days apart: silent for exactly k x 10 days (k0, kept) and one
    day more (k1, churned); two purchase days only (k2: falls back to the threshold)."""
    edge = round(k * 10)
    out = []
    for cust, last in (("k0", edge), ("k1", edge + 1)):
        out += [(cust, AS_OF - dt.timedelta(days=last + d), "10") for d in (0, 10, 20)]
    out += [("k2", AS_OF - dt.timedelta(days=d), "10") for d in (1, 50)]
    return out


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=12)
@given(sc=scenario(), method=st.sampled_from(["threshold", "cadence"]),
       k=st.sampled_from([1.5, 2.0, 3.0]))  # fmt: skip
def test_churn_matches_reference(sc: dict, method: str, k: float) -> None:
    from decimal import Decimal

    sc = {**sc, "orders": sc["orders"] + [(c, d, Decimal(a)) for c, d, a in _cadence_edge(k)]}
    churn_days = sc["th"]["inactive_days"]
    with tempfile.TemporaryDirectory() as d:
        loaded = _load(Path(d), sc, AS_OF)
        res = compute_churn(loaded, ChurnParams(method=method, churn_days=churn_days, k=k))
        cur = loaded.con.execute("SELECT * FROM churn")
        names = [c[0] for c in cur.description]
        got = {r[0]: dict(zip(names[1:], r[1:], strict=True)) for r in cur.fetchall()}
        loaded.con.close()
    want = reference_churn(sc["orders"], AS_OF, method=method, churn_days=churn_days, k=k)
    assert got == want
    assert res.customers == len(want) and res.churned == sum(r["churned"] for r in want.values())
    # the edges: exactly on the threshold is not churned, one day past it is
    assert got["i0"]["churned"] is False and got["i1"]["churned"] is True  # threshold
    if method == "cadence":
        assert (got["k0"]["churned"], got["k1"]["churned"]) == (False, True)
        assert got["k0"]["rule"] == "cadence" and got["k2"]["rule"] == "threshold_fallback"


def test_only_churned_since_days_and_consent_from_the_crm_file(tmp_path: Path) -> None:
    orders = write(
        tmp_path / "o.csv",
        "customer_id,order_date,amount\n"
        + "".join(f"{c},2024-0{m}-01,10\n" for c, m in
                  [("y1", 1), ("y2", 2), ("n1", 3), ("n2", 4), ("e1", 5), ("s1", 6), ("x1", 7)])
        + "z,2025-03-01,10\n",
    )  # fmt: skip
    crm = write(
        tmp_path / "crm.csv",
        "customer_id;aceita_marketing;segmento\n"
        "y1;Sim;a\ny2; yes ;a\nn1;NÃO;b\nn2;0;b\ne1;;a\ns1;s;a\nz;n;a\n",
        encoding="cp1252",
    )
    winback, everyone = _parallel(
        [
            ["churn", str(orders), "--customers", str(crm), "--consent-col", "Aceita Marketing",
             "--only-churned", "--since-days", "420", "-o", "-"],
            ["churn", str(orders), "--customers", str(crm), "--consent-col", "aceita_marketing",
             "-o", "-", "--meta", str(tmp_path / "m.json")],
        ]
    )  # fmt: skip
    assert winback.code == 0, winback.err
    rows = list(csv.DictReader(io.StringIO(winback.out)))
    assert list(rows[0]) == [*COLUMNS, "consent"]
    # churned (no purchase in 180 days before 2025-03-01), bought at most 420 days ago
    # (y1 bought 425 days ago), and consented: y2, s1; x1 is not in the CRM file
    assert [r["customer_id"] for r in rows] == ["s1", "y2"]
    assert all(r["churned"] == "true" and r["consent"] == "true" for r in rows)
    assert (
        "left out 4 customers without consent (column 'aceita_marketing' of the crm file; 2 of "
        "them with no value)"
    ) in winback.err
    assert "list: 2 customers" in winback.err
    assert everyone.code == 0, everyone.err
    all_rows = {r["customer_id"]: r for r in csv.DictReader(io.StringIO(everyone.out))}
    assert {c: r["consent"] for c, r in all_rows.items()} == {
        "y1": "true", "y2": "true", "n1": "false", "n2": "false", "e1": "false", "s1": "true",
        "x1": "false", "z": "false",
    }  # fmt: skip
    meta = json.loads((tmp_path / "m.json").read_text())
    assert meta["consent"]["column"] == "aceita_marketing" and meta["only_churned"] is False
    assert meta["rule"] == "no purchase in the last 180 days"


def test_consent_from_the_orders_uses_the_latest_answer_and_bad_values_fail(
    tmp_path: Path,
) -> None:
    orders = write(
        tmp_path / "o.csv",
        "customer_id,order_date,amount,accepts_marketing\n"
        "a,2024-01-01,10,yes\na,2024-02-01,10,no\nb,2024-01-01,10,no\nb,2024-02-01,10,\n"
        "c,2024-01-01,10,Y\nd,2025-06-01,10,yes\n",
    )
    bad = write(
        tmp_path / "bad.csv", "customer_id,order_date,amount,optin\na,2024-01-01,10,maybe\n"
    )
    ok, wrong, missing, missing_crm = _parallel(
        [
            ["churn", str(orders), "--consent-col", "accepts_marketing", "--only-churned", "-o",
             "-"],
            ["churn", str(bad), "--consent-col", "optin", "-o", str(tmp_path / "x.csv")],
            ["churn", str(orders), "--consent-col", "consent", "-o", str(tmp_path / "x.csv")],
            ["churn", str(orders), "--customers", str(orders), "--consent-col", "consent", "-o",
             str(tmp_path / "x.csv")],
        ]
    )  # fmt: skip
    assert ok.code == 0, ok.err
    assert [r["customer_id"] for r in csv.DictReader(io.StringIO(ok.out))] == ["c"]
    assert (
        "left out 2 customers without consent (column 'accepts_marketing' of the orders; 0"
        in ok.err
    )  # a's latest answer is no; b's latest non-empty answer is no
    assert wrong.code == 1
    assert "consent column 'optin' has 1 value that are not yes/no answers ('maybe')" in wrong.err
    assert missing.code == 2
    assert "--consent-col 'consent': no such column in the orders" in missing.err
    assert missing_crm.code == 2 and "in the CRM file or in the orders" in missing_crm.err
    assert not (tmp_path / "x.csv").exists()


def test_every_usage_error_is_one_line_exit_2_and_writes_nothing(tmp_path: Path) -> None:
    f = write(tmp_path / "o.csv", "customer_id,order_date,amount\na,2025-01-01,10\n")
    model = tmp_path / "model.json"
    out = tmp_path / "out.csv"
    cases = [
        (["--method", "magic"], "--method 'magic': use threshold, cadence or model"),
        (["--churn-days", "-1"], "--churn-days -1"),
        (["--k", "0"], "--k 0.0: give a factor above 0"),
        (["--alive-threshold", "1.5"], "--alive-threshold 1.5"),
        (["--since-days", "-3"], "--since-days -3"),
        (["--model", str(model)], "needs --method model"),
        (["--method", "model", "--model", str(model)], "no such file"),
        (
            ["--only-churned", "--since-days", "90"],
            "--since-days 90: with --only-churned and "
            "--method threshold it must be above "
            "--churn-days 180",
        ),
        (["--consent-col", "nope"], "--consent-col 'nope'"),
    ]
    results = _parallel([["churn", str(f), *args, "-o", str(out)] for args, _ in cases])
    for (args, needle), res in zip(cases, results, strict=True):
        assert res.code == 2, (args, res.code, res.err)
        assert needle in res.err, (args, res.err)
        errors = [line for line in res.err.splitlines() if line.startswith("clientela:")]
        assert len(errors) == 1 and errors[0].startswith("clientela: error: "), res.err
        assert not res.out and not out.exists(), args


def test_model_method_uses_clv_p_alive(tmp_path: Path) -> None:
    """Runs the real BG/NBD (clientela.clv): rule model decides repeat buyers by P(alive),
    one-time buyers (P(alive) = 1 by construction) fall back to the threshold."""
    if importlib.util.find_spec("clientela.clv") is None:  # pragma: no cover - before clv
        res = run_cli("churn", ORDERS, "--method", "model", "-o", "-")
        assert res.code == 2 and "the clv module (clientela.clv, BG/NBD) is unavailable" in res.err
        return
    meta = tmp_path / "m.json"
    res = run_cli("churn", ORDERS, "--method", "model", "--alive-threshold", "0.6", "-o", "-",
                  "--meta", str(meta))  # fmt: skip
    assert res.code == 0, res.err
    rows = list(csv.DictReader(io.StringIO(res.out)))
    assert list(rows[0]) == [*COLUMNS, "p_alive"]
    model_rows = [r for r in rows if r["rule"] == "model"]
    fallback = [r for r in rows if r["rule"] == "threshold_fallback"]
    assert model_rows and fallback and len(model_rows) + len(fallback) == len(rows)
    assert all((r["churned"] == "true") == (float(r["p_alive"]) < 0.6) for r in model_rows)
    assert all(r["threshold_days"] == "" for r in model_rows)
    assert all(r["purchase_days"] == "1" for r in fallback)
    assert all((r["churned"] == "true") == (int(r["days_since_last"]) > 180) for r in fallback)
    doc = json.loads(meta.read_text())
    assert doc["method"] == "model" and doc["alive_threshold"] == 0.6
    assert doc["model"] is not None and doc["customers_by_rule"]["model"] == len(model_rows)
    assert "one-time buyers (BG/NBD deems them alive by construction)" in res.err


def test_model_method_wiring_with_a_stand_in_clv(monkeypatch: pytest.MonkeyPatch) -> None:
    """compute_churn passes the model file to clv.score_p_alive and reads clv_p_alive."""
    calls: list[Any] = []

    def score_p_alive(loaded: Any, *, model_path: str | None = None) -> dict[str, Any]:
        calls.append(model_path)
        loaded.con.execute(
            "CREATE OR REPLACE TEMP TABLE clv_p_alive AS SELECT * FROM (VALUES ('a', 0.2), "
            "('b', 0.9)) t(customer_id, p_alive)"
        )
        return {"model": "stand-in"}

    fake = types.ModuleType("clientela.clv")
    fake.score_p_alive = score_p_alive  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "clientela.clv", fake)
    with tempfile.TemporaryDirectory() as d:
        f = write(
            Path(d) / "o.csv",
            "customer_id,order_date,amount\na,2025-01-01,10\na,2025-02-01,10\n"
            "b,2025-01-01,10\nb,2025-03-01,10\nc,2025-03-01,5\n",
        )
        model = write(Path(d) / "m.json", "{}")
        loaded = load([str(f)], LoadOptions(dimensions=[]))
        res = compute_churn(loaded, ChurnParams(method="model", model=str(model)))
        got = loaded.con.execute("SELECT customer_id, churned, rule, p_alive FROM churn").fetchall()
        loaded.con.close()
    assert calls == [str(model)]
    assert got == [("a", True, "model", 0.2), ("b", False, "model", 0.9),
                   ("c", False, "threshold_fallback", None)]  # fmt: skip
    assert res.model == {"model": "stand-in"}


def test_model_method_without_the_clv_module_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(UsageError, match="--method model: the clv module"):
        ChurnParams(method="model").validate()


def test_python_api() -> None:
    import clientela.churn

    df = clientela.churn(ORDERS, method="cadence", k=2.0)
    assert isinstance(df, pl.DataFrame) and df.columns == COLUMNS
    assert set(df["rule"].unique().to_list()) == {"cadence", "threshold_fallback"}
    lst = clientela.churn(ORDERS, LoadOptions(customers=CRM), only_churned=True,
                          since_days=400, consent_col="marketing_consent")  # fmt: skip
    assert lst["churned"].all() and lst["consent"].all()
    assert (lst["days_since_last"] <= 400).all()


def test_a_day_table_does_not_survive_a_new_load_on_the_same_connection(tmp_path: Path) -> None:
    """The report's table of orders by customer and day (_days) belongs to the data it came
    from: loading other data on the same connection drops it, so churn reads the new data."""
    from clientela.load import customer_days

    orders = Path(SAMPLE) / "orders.csv"
    lines = orders.read_text(encoding="utf-8").splitlines(keepends=True)
    half = tmp_path / "half.csv"  # the header and every other line
    half.write_text(lines[0] + "".join(lines[1::2]), encoding="utf-8")
    opts = LoadOptions(as_of="2025-12-31")

    first = load(str(orders), opts)
    customer_days(first.con, materialize=True)
    again = load(str(half), opts, con=first.con)
    compute_churn(again, ChurnParams())
    got = again.con.execute("SELECT * FROM churn").fetchall()

    alone = load(str(half), opts)
    compute_churn(alone, ChurnParams())
    assert got == alone.con.execute("SELECT * FROM churn").fetchall()
    assert len(got) > 1
