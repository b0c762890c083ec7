"""`clientela clv` as a contract: the CDNOW validation run end to end, model files, the
churn interface (score_p_alive), the Python API, and bad inputs with their exit codes."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pytest

import clientela
import clientela.clv
from clientela.clv import ClvParams, compute_clv, load_model, score_p_alive
from clientela.errors import InputDataError, UsageError
from clientela.load import LoadOptions, load
from tests.conftest import DATA, run_cli, write

CDNOW = DATA / "cdnow"
ORDERS = str(CDNOW / "cdnow_sample_orders.csv")
FACTS = json.loads((CDNOW / "facts.json").read_text())
LITERATURE = ["--zero-orders", "purchase", "--duplicates", "keep"]
OPTS = dict(zero_orders="purchase", duplicates="keep")
COLUMNS = [
    "customer_id", "frequency", "recency", "T", "monetary_value", "p_alive",
    "expected_purchases", "expected_avg_value", "clv", "churn", "churn_rule",
]  # fmt: skip


@pytest.fixture(scope="module")
def validation(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("clv")
    paths = {k: tmp / f"{k}" for k in ("out.csv", "meta.json", "model.json")}
    res = run_cli(
        "clv", ORDERS, *LITERATURE, "--as-of", "1998-06-30", "--calibration-end", "1997-09-30",
        "-o", str(paths["out.csv"]), "--meta", str(paths["meta.json"]),
        "--save-model", str(paths["model.json"]),
    )  # fmt: skip
    assert res.code == 0, res.err
    return {
        "res": res,
        "rows": list(csv.DictReader(paths["out.csv"].open())),
        "meta": json.loads(paths["meta.json"].read_text()),
        "model": paths["model.json"],
        "tmp": tmp,
    }


def test_cdnow_validation_run_reproduces_the_paper(validation: dict) -> None:
    meta, rows, err = validation["meta"], validation["rows"], validation["res"].err
    assert validation["res"].out == ""  # the data went to the file
    pub = FACTS["bgnbd"]["published"]
    bg = meta["bgnbd"]
    for k in ("r", "alpha", "a", "b"):
        assert bg[k] == pytest.approx(pub[k], rel=1e-5), k
    assert bg["log_likelihood"] == pytest.approx(pub["ll"], abs=5e-4) and bg["converged"]
    gg = meta["gamma_gamma"]
    assert (round(gg["p"], 2), round(gg["q"], 2), round(gg["gamma"], 2)) == (6.25, 3.74, 15.44)
    assert gg["customers"] == 946 and gg["log_likelihood"] == pytest.approx(-4055.918, abs=1e-3)
    assert meta["customers"] == 2357 and meta["one_time_buyers"] == 1411
    assert meta["unit"] == "weeks" and meta["calibration_end"] == "1997-09-30"
    h = meta["holdout"]
    assert h["actual_total"] == 1882 and h["duration"] == 39
    assert h["predicted_total"] == pytest.approx(
        FACTS["bgnbd"]["sum_expected_holdout_purchases_39w_fitted"], rel=1e-6
    )
    table = h["by_calibration_purchases"]
    assert [r["calibration_purchases"] for r in table] == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert sum(r["customers"] for r in table) == 2357
    assert sum(r["actual"] for r in table) == 1882
    # the per-customer table
    assert list(rows[0]) == [*COLUMNS, "frequency_holdout", "expected_holdout_purchases"]
    assert len(rows) == 2357 and len({r["customer_id"] for r in rows}) == 2357
    assert sum(float(r["frequency_holdout"]) for r in rows) == 1882
    mae = sum(abs(float(r["frequency_holdout"]) - float(r["expected_holdout_purchases"]))
              for r in rows) / len(rows)  # fmt: skip
    assert mae == pytest.approx(h["mae"], abs=1e-5)
    one = next(r for r in rows if r["customer_id"] == "1")  # x = 2, t_x = 30.43, T = 38.86
    assert float(one["expected_holdout_purchases"]) == pytest.approx(1.226, abs=5e-4)
    for r in rows:
        assert 0 < float(r["p_alive"]) <= 1
        if r["frequency"] == "0":
            assert r["p_alive"] == "1.0" and r["churn_rule"] == "recency"
        else:
            assert (r["churn"] == "true") == (float(r["p_alive"]) < 0.5)
    # stderr: the fit, the holdout report and the one-time-buyer note
    assert "BG/NBD fitted on 2,357 customers at 1997-09-30 (unit weeks" in err
    assert "log-likelihood -9,582.429 (converged)" in err
    assert "p=6.25 q=3.744 gamma=15.44" in err
    assert "actual 1,882 purchases, predicted 1,653.4" in err
    assert "calibration purchases | customers | actual mean | predicted mean" in err
    assert "7+ |        64 |" in err
    assert "note: 1,411 one-time buyers have p_alive = 1" in err
    assert "wrote 2,357 rows to" in err and "wrote the model to" in err


def test_a_saved_model_scores_a_new_export(validation: dict) -> None:
    doc = json.loads(validation["model"].read_text())
    assert doc["kind"] == "clientela.clv" and doc["unit"] == "weeks"
    assert doc["bgnbd"]["r"] == validation["meta"]["bgnbd"]["r"]
    # the calibration data, scored with the saved model (no fit), to stdout as CSV
    res = run_cli("clv", ORDERS, *LITERATURE, "--as-of", "1997-09-30", "--model",
                  str(validation["model"]), "-o", "-")  # fmt: skip
    assert res.code == 0, res.err
    assert "BG/NBD from " in res.err and "log-likelihood" not in res.err
    scored = {r["customer_id"]: r for r in csv.DictReader(io.StringIO(res.out))}
    assert list(next(iter(scored.values()))) == COLUMNS
    for r in validation["rows"]:
        s = scored[r["customer_id"]]
        for k in ("p_alive", "expected_purchases", "expected_avg_value", "clv", "churn"):
            assert s[k] == r[k], (r["customer_id"], k)


def test_model_file_errors(tmp_path: Path, validation: dict) -> None:
    good = json.loads(validation["model"].read_text())
    cases = {
        "kind": ({**good, "kind": "something"}, "not a clientela CLV model"),
        "missing": ({**good, "bgnbd": {"r": 1, "alpha": 2, "a": 3}}, "'bgnbd' lacks b"),
        "nan": ({**good, "bgnbd": {**good["bgnbd"], "a": float("nan")}}, "bgnbd.a = nan"),
        "negative": ({**good, "gamma_gamma": {"p": 1, "q": -2, "gamma": 3}}, "gamma_gamma.q"),
        "version": ({**good, "format_version": 99}, "format_version 99"),
        "unit": ({**good, "unit": "months"}, "unit 'months'"),
    }
    for name, (doc, message) in cases.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(doc))
        with pytest.raises(UsageError, match=message.replace("(", r"\(")):
            load_model(path)
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(UsageError, match="not valid JSON"):
        load_model(tmp_path / "bad.json")
    with pytest.raises(UsageError, match="no such file"):
        load_model(tmp_path / "absent.json")
    res = run_cli("clv", ORDERS, "--model", str(tmp_path / "nan.json"))
    assert res.code == 2 and res.out == ""
    assert res.err.strip().splitlines()[-1].startswith("clientela: error: --model ")
    assert "finite number > 0" in res.err


def test_score_p_alive_for_churn() -> None:
    loaded = load([ORDERS], LoadOptions(as_of="1997-09-30", **OPTS))
    info = score_p_alive(loaded)
    assert info["unit"] == "weeks" and info["customers"] == 2357 and info["converged"]
    for k, v in FACTS["bgnbd"]["published"].items():
        if k != "ll":
            assert info["parameters"][k] == pytest.approx(v, rel=1e-5)
    assert info["log_likelihood"] == pytest.approx(-9582.429, abs=5e-4)
    types = dict(loaded.con.execute("SELECT column_name, column_type FROM "
                                    "(DESCRIBE clv_p_alive)").fetchall())  # fmt: skip
    assert types == {"customer_id": "VARCHAR", "p_alive": "DOUBLE"}
    ((n, ones, lo),) = loaded.con.sql(
        "SELECT count(*), count(*) FILTER (WHERE p_alive = 1), min(p_alive) FROM clv_p_alive"
    ).fetchall()
    assert n == 2357 and ones == 1411 and 0 < lo < 1
    loaded.con.close()


def test_score_p_alive_with_a_model_file(validation: dict) -> None:
    loaded = load([ORDERS], LoadOptions(as_of="1997-09-30", **OPTS))
    info = score_p_alive(loaded, model_path=str(validation["model"]))
    assert info["source"] == str(validation["model"]) and info["log_likelihood"] is None
    rows = dict(loaded.con.sql("SELECT customer_id, p_alive FROM clv_p_alive").fetchall())
    for r in validation["rows"]:
        assert rows[r["customer_id"]] == pytest.approx(float(r["p_alive"]), rel=1e-12)
    loaded.con.close()


def test_python_api() -> None:
    df = clientela.clv(ORDERS, LoadOptions(as_of="1997-09-30", **OPTS), horizon="39w",
                       discount_rate=0.0)  # fmt: skip
    assert df.columns == COLUMNS and df.height == 2357
    one = df.filter(df["customer_id"] == "1").row(0, named=True)
    assert one["expected_purchases"] == pytest.approx(1.226, abs=5e-4)
    # without discounting, clv = expected purchases x expected average value
    assert one["clv"] == pytest.approx(one["expected_purchases"] * one["expected_avg_value"],
                                       abs=0.02)  # fmt: skip
    assert callable(clientela.clv.fit_bgnbd) and callable(clientela.clv.fit_gamma_gamma)


def test_one_time_buyers_are_flagged_by_recency_and_a_model_scores_them(
    tmp_path: Path, validation: dict
) -> None:
    text = "customer_id,order_date,amount\n" + "".join(
        f"c{i:02d},2024-0{1 + i % 6}-1{i % 10},{10 + i}\n" for i in range(40)
    )
    orders = write(tmp_path / "once.csv", text)
    loaded = load([str(orders)], LoadOptions(as_of="2024-09-01"))
    res = compute_clv(loaded, ClvParams(model=str(validation["model"]), churn_days=90))
    rows = loaded.con.sql("SELECT p_alive, churn, churn_rule, T FROM clv").fetchall()
    assert all(p == 1 and rule == "recency" for p, _, rule, _ in rows)
    assert all(churn == (round(t * 7) > 90) for _, churn, _, t in rows)
    assert res.churned["by_recency"] == sum(1 for r in rows if r[1])
    assert any("one-time buyers have p_alive = 1" in n for n in res.notes)
    loaded.con.close()


# ----------------------------------------------------------------------- bad inputs


def test_all_one_time_buyers_cannot_be_fitted(tmp_path: Path) -> None:
    text = "customer_id,order_date,amount\n" + "".join(
        f"c{i},2024-01-{1 + i % 28:02d},{10 + i}\n" for i in range(50)
    )
    res = run_cli("clv", str(write(tmp_path / "once.csv", text)))
    assert res.code == 1 and res.out == ""
    assert "clientela: error: all 50 customers bought once (frequency 0)" in res.err


def test_a_single_customer_cannot_be_fitted(tmp_path: Path) -> None:
    text = "customer_id,order_date,amount\n" + "".join(
        f"solo,2024-0{m}-05,{10 * m}\n" for m in range(1, 7)
    )
    res = run_cli("clv", str(write(tmp_path / "solo.csv", text)))
    assert res.code == 1 and res.out == ""
    assert "only one customer" in res.err and "--model FILE.json" in res.err


def test_an_empty_summary(tmp_path: Path) -> None:
    text = "customer_id,order_date,amount\na,2024-01-05,-10\nb,2024-02-05,-20\n"
    res = run_cli("clv", str(write(tmp_path / "refunds.csv", text)))
    assert res.code == 1 and res.out == ""
    assert "no customer has a purchase" in res.err


def test_zero_spend_is_left_out_of_gamma_gamma_and_counted(tmp_path: Path) -> None:
    extra = "9001,1997-01-05,0,12.00\n9001,1997-03-05,0,0.00\n9001,1997-05-05,0,0.00\n" \
            "9002,1997-02-05,0,20.00\n9002,1997-06-05,0,0.00\n"  # fmt: skip
    orders = write(tmp_path / "cdnow_plus.csv", (CDNOW / "cdnow_sample_orders.csv").read_text()
                   + extra)  # fmt: skip
    meta = tmp_path / "meta.json"
    res = run_cli("clv", str(orders), *LITERATURE, "--as-of", "1997-09-30", "-o",
                  str(tmp_path / "out.parquet"), "--meta", str(meta))  # fmt: skip
    assert res.code == 0, res.err
    m = json.loads(meta.read_text())
    assert m["repeat_buyers_nonpositive_spend"] == 2
    assert m["gamma_gamma"]["excluded_nonpositive_spend"] == 2
    assert m["gamma_gamma"]["customers"] == 946  # the published fit is unchanged
    assert round(m["gamma_gamma"]["q"], 2) == 3.74
    assert "warning: 2 repeat buyers whose repeat purchases sum to 0 are left out" in res.err


def test_usage_errors() -> None:
    res = run_cli("clv", ORDERS, "--horizon", "12x")
    assert res.code == 2 and "--horizon '12x': give a positive number and a unit" in res.err
    for params, flag in [
        (ClvParams(discount_rate=5), "--discount-rate"),
        (ClvParams(alive_threshold=1.5), "--alive-threshold"),
        (ClvParams(unit="months"), "--unit"),
        (ClvParams(penalizer=-1), "--penalizer"),
        (ClvParams(churn_days=-3), "--churn-days"),
        (ClvParams(calibration_end="last year"), "--calibration-end"),
        (ClvParams(model="m.json", penalizer=0.1), "--penalizer"),
    ]:
        with pytest.raises(UsageError, match=flag):
            params.validate()


def test_save_model_path_is_checked(tmp_path: Path) -> None:
    res = run_cli("clv", ORDERS, "--save-model", ORDERS)
    assert res.code == 2 and "--save-model" in res.err and "input" in res.err
    res = run_cli("clv", ORDERS, "--save-model", str(tmp_path / "nope" / "m.json"))
    assert res.code == 2 and "does not exist" in res.err


def test_unit_conflict_with_a_model_file(validation: dict) -> None:
    loaded = load([ORDERS], LoadOptions(as_of="1997-09-30", **OPTS))
    with pytest.raises(UsageError, match="fitted in weeks"):
        compute_clv(loaded, ClvParams(model=str(validation["model"]), unit="days"))
    with pytest.raises(InputDataError):
        clientela.clv.fit_gamma_gamma([0, 0], [0.0, 0.0])
    assert math.isfinite(load_model(validation["model"]).bgnbd.r)
    loaded.con.close()
