"""clientela cohorts: a hand-checked example, the issue's properties on generated data, the
CLI contract (every usage error), the readable formats (xlsx, Parquet, markdown, terminal)
and the Python API. The cell-by-cell comparison with a reference is in
test_cohorts_reference.py; golden files in test_cohorts_golden.py."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import clientela.cohorts
from clientela.cohorts import (
    CohortParams,
    compute_cohorts,
    next_period_start,
    period_label,
    period_start,
)
from clientela.errors import InputDataError, UsageError
from clientela.load import LoadOptions, load
from clientela.output import WriteOptions, write
from tests.conftest import run_cli
from tests.conftest import write as write_file
from tests.test_cohorts_reference import START, fetch, line, load_lines

# a: first purchase in January, buys again in February and returns part of it
# b: first order is a refund (December), then purchases in January and March
# c: acquired in February; d: only a refund (no cohort); e: a zero-value order in January,
#    first purchase in March (the partial month at the as-of date 2025-03-15)
EXAMPLE = """customer_id,order_id,order_date,amount,channel
a,1,2025-01-10,100,web
a,2,2025-02-05,50,app
a,3,2025-02-20,-20,app
b,4,2024-12-28,-30,store
b,5,2025-01-15,40,store
b,6,2025-03-02,60,web
c,7,2025-02-10,80,app
d,8,2025-01-05,-10,web
e,9,2025-01-03,0,web
e,10,2025-03-10,25,app
"""
AS_OF = "2025-03-15"


@pytest.fixture
def example(tmp_path: Path) -> Path:
    return write_file(tmp_path / "orders.csv", EXAMPLE)


def _run(path: Path, **kw: Any) -> tuple[list[dict[str, Any]], Any]:
    by = kw.get("by")
    loaded = load([str(path)], LoadOptions(as_of=AS_OF, dimensions=[by] if by else []))
    res = compute_cohorts(loaded, CohortParams(**kw))
    rows = fetch(loaded.con)
    loaded.con.close()
    return rows, res


# -------------------------------------------------------------------- by hand


def test_hand_checked_wide_rates_and_counts(example: Path) -> None:
    rows, res = _run(example)
    assert rows == [
        {"cohort": "2025-01", "cohort_size": 2, "0": 1.0, "1": 0.5},
        {"cohort": "2025-02", "cohort_size": 1, "0": 1.0, "1": None},  # March is partial
        {"cohort": "all cohorts", "cohort_size": 3, "0": 1.0, "1": 0.5},
    ]
    meta = res.metadata()
    assert meta["partial_period_left_out"] == {
        "start": "2025-03-01", "end": "2025-03-31", "customers_acquired": 1,
    }  # fmt: skip
    assert meta["observed_until"] == "2025-02-28"
    assert meta["customers_without_purchase"] == 1  # d (e bought in March: acquired later)
    assert meta["net_revenue_without_purchase"] == -10.0
    assert (meta["pre_cohort_orders"], meta["pre_cohort_customers"]) == (1, 1)  # b's refund
    assert meta["pre_cohort_net_revenue"] == -30.0
    assert "dated before the customer's first purchase month" in res.warnings[0]
    revenue, _ = _run(example, metric="revenue", values="count")
    assert revenue[0] == {"cohort": "2025-01", "cohort_size": 2, "0": 140.0, "1": 30.0}
    rate, _ = _run(example, metric="revenue")
    assert rate[0]["1"] == round(30 / 140, 6)  # a's February net, over January's 140
    orders, _ = _run(example, metric="orders", values="count", cumulative=True)
    assert orders[0] == {"cohort": "2025-01", "cohort_size": 2, "0": 3, "1": 1}


def test_hand_checked_partial_period(example: Path) -> None:
    rows, res = _run(example, include_partial=True, values="count")
    assert rows == [
        {"cohort": "2025-01", "cohort_size": 2, "0": 2, "1": 1, "2": 1,
         "partial_period_index": 2},
        {"cohort": "2025-02", "cohort_size": 1, "0": 1, "1": 0, "2": None,
         "partial_period_index": 1},
        {"cohort": "2025-03", "cohort_size": 1, "0": 1, "1": None, "2": None,
         "partial_period_index": 0},
    ]  # fmt: skip
    assert res.partial and res.metadata()["partial_period"] == {
        "start": "2025-03-01", "observed_until": "2025-03-15"}  # fmt: skip
    avg, _ = _run(example, include_partial=True)
    # the average leaves partial cells out: period 1 has one complete cell (2025-01)
    assert avg[-1] == {"cohort": "all cohorts", "cohort_size": 4, "0": 1.0, "1": 0.5,
                       "2": None, "partial_period_index": None}  # fmt: skip
    long, _ = _run(example, include_partial=True, shape="long", metric="revenue")
    assert [(r["cohort"].isoformat(), r["period_index"], r["value"], r["partial"])
            for r in long] == [
        ("2025-01-01", 0, 140.0, False), ("2025-01-01", 1, 30.0, False),
        ("2025-01-01", 2, 60.0, True), ("2025-02-01", 0, 80.0, False),
        ("2025-02-01", 1, 0.0, True), ("2025-03-01", 0, 25.0, True),
    ]  # fmt: skip


def test_hand_checked_trend(example: Path) -> None:
    rows, res = _run(example, trend=True)
    assert [{k: r[k] for k in ("period", "active", "new", "returning", "retained",
                               "reactivated", "churned", "retention_rate", "churn_rate",
                               "revenue", "net_revenue_retention", "partial")} for r in rows] == [
        {"period": "2025-01", "active": 2, "new": 2, "returning": 0, "retained": 0,
         "reactivated": 0, "churned": 0, "retention_rate": None, "churn_rate": None,
         "revenue": 140.0, "net_revenue_retention": None, "partial": False},
        {"period": "2025-02", "active": 2, "new": 1, "returning": 1, "retained": 1,
         "reactivated": 0, "churned": 1, "retention_rate": 0.5, "churn_rate": 0.5,
         "revenue": 110.0, "net_revenue_retention": round(30 / 140, 6), "partial": False},
    ]  # fmt: skip
    assert res.metadata()["clientela_analysis"] == "cohorts_trend"
    partial, _ = _run(example, trend=True, include_partial=True)
    march = partial[-1]
    assert (march["period"], march["active"], march["new"], march["reactivated"],
            march["churned"], march["partial"]) == ("2025-03", 2, 1, 1, 2, True)  # fmt: skip


def test_by_first_purchase_channel_and_fill_gaps(tmp_path: Path) -> None:
    f = write_file(tmp_path / "o.csv", "customer_id,order_date,amount,channel\n"
                   "a,2025-01-03,10,web\na,2025-02-03,10,app\nb,2025-01-04,10,app\n"
                   "c,2025-03-05,10,web\nd,2025-03-06,10,\n")  # fmt: skip
    loaded = load([str(f)], LoadOptions(as_of="2025-03-31", dimensions=["channel"]))
    compute_cohorts(loaded, CohortParams(by="channel", fill_gaps=True, values="count"))
    got = [(r["channel"], r["cohort"], r["cohort_size"], r["0"], r["1"], r["2"])
           for r in fetch(loaded.con)]  # fmt: skip
    assert got == [
        ("(none)", "2025-01", 0, 0, 0, 0), ("(none)", "2025-02", 0, 0, 0, None),
        ("(none)", "2025-03", 1, 1, None, None),
        ("app", "2025-01", 1, 1, 0, 0), ("app", "2025-02", 0, 0, 0, None),
        ("app", "2025-03", 0, 0, None, None),
        ("web", "2025-01", 1, 1, 1, 0), ("web", "2025-02", 0, 0, 0, None),  # a stays web
        ("web", "2025-03", 1, 1, None, None),
    ]  # fmt: skip
    compute_cohorts(loaded, CohortParams(by="channel", fill_gaps=True))
    rates = fetch(loaded.con)
    assert [r["0"] for r in rates if r["cohort_size"] == 0] == [None] * 5  # 0 / 0 is not 0


def test_trend_by_first_purchase_channel(tmp_path: Path) -> None:
    """Each customer counts in the group of their first purchase in every period (a moves
    from web to app and stays in web); a customer with only a refund is in no group."""
    f = write_file(tmp_path / "o.csv", "customer_id,order_date,amount,channel\n"
                   "a,2025-01-03,10,web\na,2025-02-03,10,app\nb,2025-01-04,10,app\n"
                   "c,2025-03-05,10,web\nd,2025-03-06,10,\ne,2025-02-07,-5,web\n")  # fmt: skip
    loaded = load([str(f)], LoadOptions(as_of="2025-03-31", dimensions=["channel"]))
    compute_cohorts(loaded, CohortParams(by="channel", trend=True))
    got = [(r["channel"], r["period"], r["active"], r["new"], r["retained"], r["churned"],
            r["revenue"]) for r in fetch(loaded.con)]  # fmt: skip
    assert got == [
        ("(none)", "2025-01", 0, 0, 0, 0, 0.0), ("(none)", "2025-02", 0, 0, 0, 0, 0.0),
        ("(none)", "2025-03", 1, 1, 0, 0, 10.0),
        ("app", "2025-01", 1, 1, 0, 0, 10.0), ("app", "2025-02", 0, 0, 0, 1, 0.0),
        ("app", "2025-03", 0, 0, 0, 0, 0.0),
        ("web", "2025-01", 1, 1, 0, 0, 10.0), ("web", "2025-02", 1, 0, 1, 0, 10.0),
        ("web", "2025-03", 1, 1, 0, 1, 10.0),
    ]  # fmt: skip


def test_since_keeps_membership_from_all_history(example: Path) -> None:
    rows, _ = _run(example, since="2025-02-01", values="count")
    assert [r["cohort"] for r in rows] == ["2025-02"]  # counts: no average row
    assert rows[0]["cohort_size"] == 1  # c only: a and b were acquired in January
    trend, _ = _run(example, trend=True, since="2025-02-10")
    assert [r["period"] for r in trend] == ["2025-02"]
    assert trend[0]["new"] == 1 and trend[0]["retained"] == 1  # January still counts


def test_calendar_helpers() -> None:
    assert period_start(dt.date(2025, 1, 1), "week") == dt.date(2024, 12, 30)  # a Monday
    assert period_label(dt.date(2024, 12, 30), "week") == "2025-W01"  # ISO year
    assert period_start(dt.date(2025, 8, 31), "quarter") == dt.date(2025, 7, 1)
    assert next_period_start(dt.date(2025, 10, 1), "quarter") == dt.date(2026, 1, 1)
    assert next_period_start(dt.date(2025, 12, 1), "month") == dt.date(2026, 1, 1)
    assert period_label(dt.date(2025, 4, 1), "quarter") == "2025-Q2"


# ------------------------------------------------------------------ properties


def _wide(loaded: Any, **kw: Any) -> list[dict[str, Any]]:
    compute_cohorts(loaded, CohortParams(**kw))
    return [r for r in fetch(loaded.con) if r["cohort"] != "all cohorts"]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(line, min_size=1, max_size=30),
    as_of_day=st.integers(40, 420),
    period=st.sampled_from(["day", "week", "month", "quarter"]),
)
def test_properties(lines: list[tuple], as_of_day: int, period: str) -> None:
    lines = [*lines, ("a", "o9", START, "5.00", "paid")]
    as_of = (START + dt.timedelta(days=as_of_day)).date()
    with tempfile.TemporaryDirectory() as d:
        loaded = load_lines(d, lines, "America/Sao_Paulo", as_of)
        try:
            plain = _wide(loaded, period=period, values="count", include_partial=True)
            rates = _wide(loaded, period=period, include_partial=True)
            cumulative = _wide(loaded, period=period, include_partial=True, cumulative=True)
            cum_orders = _wide(loaded, period=period, include_partial=True, cumulative=True,
                               metric="orders")  # fmt: skip
            ((buyers,),) = loaded.con.execute(
                "SELECT count(DISTINCT customer_id) FROM orders WHERE is_purchase"
            ).fetchall()
            last = period_start(as_of, period)
            # sum of cohort sizes = customers with a purchase
            assert sum(r["cohort_size"] for r in plain) == buyers
            for row, rate, cum, cum_o in zip(plain, rates, cumulative, cum_orders, strict=True):
                ks = sorted(int(k) for k in row if k.isdigit())
                start = dt.date.fromisoformat(row["cohort"][:10]) if period == "day" else None
                assert rate["0"] == 1.0 and cum["0"] == 1.0  # period 0 rate is 1
                for k in ks:
                    # no cell above the cohort size
                    assert row[str(k)] is None or row[str(k)] <= row["cohort_size"]
                # cumulative rates never increase with k (customers and orders)
                for series in (cum, cum_o):
                    seen = [series[str(k)] for k in ks if series[str(k)] is not None]
                    assert all(a >= b for a, b in itertools.pairwise(seen)), series
                if start is not None:  # cells of periods after the as-of date are null
                    for k in ks:
                        after = start + dt.timedelta(days=k) > last
                        assert (row[str(k)] is None) == after, (row, k)
        finally:
            loaded.con.close()


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(line, min_size=1, max_size=30),
    as_of_day=st.integers(60, 420),
    period=st.sampled_from(["week", "month", "quarter"]),
    trend=st.booleans(),
)
def test_partial_period_is_invisible_by_default(
    lines: list[tuple], as_of_day: int, period: str, trend: bool
) -> None:
    """Without --include-partial the result at an as-of date inside a period equals the
    result at the end of the previous period: the partial period changes nothing."""
    lines = [*lines, ("a", "o9", START, "5.00", "paid")]
    as_of = (START + dt.timedelta(days=as_of_day)).date()
    previous_end = period_start(as_of, period) - dt.timedelta(days=1)
    if next_period_start(period_start(as_of, period), period) - dt.timedelta(days=1) == as_of:
        return  # the as-of date ends its period: nothing is partial
    tables = []
    with tempfile.TemporaryDirectory() as d:
        for day in (as_of, previous_end):
            loaded = load_lines(d, lines, "UTC", day)
            try:
                compute_cohorts(loaded, CohortParams(period=period, trend=trend))
                tables.append(fetch(loaded.con))
            except InputDataError:
                tables.append("no complete period")
            finally:
                loaded.con.close()
    assert tables[0] == tables[1]


# --------------------------------------------------------------- the CLI contract


def test_cli_contract(example: Path) -> None:
    res = run_cli("cohorts", str(example), "--as-of", AS_OF, "-o", "-")
    assert res.code == 0, res.err
    assert res.out == (
        "cohort,cohort_size,0,1\n2025-01,2,1.0,0.5\n2025-02,1,1.0,\nall cohorts,3,1.0,0.5\n"
    )
    loader = ("read ", "warning: 1 orders have a total of 0", "warning: 3 of 10 orders have")
    lines = [ln for ln in res.err.splitlines() if not ln.startswith(loader)]
    assert lines[0] == (
        "3 customers in 2 cohorts by month of first purchase (2025-01 to 2025-02), as of 2025-03-15"
    )
    assert lines[1].startswith("the partial month 2025-03 (up to 2025-03-15, it ends 2025-03-31)")
    assert "1 customers were acquired in it; --include-partial shows it" in lines[1]
    assert lines[2] == (
        "1 customers without a purchase (only refunds or zero-value orders) are in no cohort"
    )
    assert lines[3].startswith("warning: 1 orders of 1 customers are dated before")
    assert len(lines) == 4


def test_cli_usage_errors_name_the_flag(example: Path, tmp_path: Path) -> None:
    no_amount = write_file(tmp_path / "n.csv", "customer_id,order_date\na,2025-01-01\n")
    out = tmp_path / "x.csv"
    cases: list[tuple[list[str], str]] = [
        (["--period", "fortnight"], "--period 'fortnight': use day, week, month, quarter or year"),
        (["--metric", "profit"], "--metric 'profit': use customers, orders or revenue"),
        (["--values", "pct"], "--values 'pct': use count or rate"),
        (["--shape", "tall"], "--shape 'tall': use wide or long"),
        (["--max-periods", "-1"], "--max-periods -1: give 0 or more"),
        (["--max-periods", "many"], "--max-periods"),
        (["--by", "nope"], "--by 'nope'"),
        (["--since", "someday"], "--since 'someday': use a date"),
        (["--since", "2025-04-01"], "--since 2025-04-01: after the as-of date"),
        (["--since", "2025-03-02"], "--since 2025-03-02: no complete month"),
        (["--since", "2025-03-11", "--period", "day"], "--since 2025-03-11: no customer made"),
        (["--trend", "--shape", "long"], "--shape does not apply to --trend"),
        (["--trend", "--metric", "revenue"], "--metric does not apply to --trend"),
        (["--trend", "--cumulative"], "--cumulative does not apply to --trend"),
        (["--trend", "--max-periods", "3"], "--max-periods does not apply to --trend"),
        (["--trend", "--fill-gaps"], "--fill-gaps does not apply to --trend"),
        (["--trend", "--values", "count"], "--values does not apply to --trend"),
    ]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(
            lambda c: run_cli("cohorts", str(example), "--as-of", AS_OF, *c[0], "-o", str(out)),
            cases,
        ))  # fmt: skip
        revenue = pool.submit(run_cli, "cohorts", str(no_amount), "--metric", "revenue",
                              "-o", str(out)).result()  # fmt: skip
    for (args, needle), res in zip(cases, results, strict=True):
        assert res.code == 2, (args, res.err)
        assert needle in res.err, (args, res.err)
        assert len([ln for ln in res.err.splitlines() if ln.startswith("clientela: error")]) == 1
        assert res.out == ""
    assert revenue.code == 2 and "--metric revenue: the input has no amount column" in revenue.err
    assert not out.exists()


def test_cli_no_complete_period_is_a_data_error(tmp_path: Path) -> None:
    f = write_file(tmp_path / "o.csv", "customer_id,order_date,amount\na,2025-03-02,10\n")
    out = tmp_path / "x.csv"
    res = run_cli("cohorts", str(f), "--as-of", "2025-03-15", "-o", str(out))
    assert res.code == 1
    assert "the partial month from 2025-03-01 to the as-of date 2025-03-15 is left out" in res.err
    assert "--include-partial" in res.err and not out.exists()
    ok = run_cli("cohorts", str(f), "--as-of", "2025-03-15", "--include-partial", "-o", "-")
    assert ok.code == 0 and ok.out.splitlines()[1] == "2025-03,1,1.0,0"  # partial at k=0


def test_cli_xlsx_parquet_markdown_and_meta(example: Path, tmp_path: Path) -> None:
    xl, pq_out, md, meta = (tmp_path / n for n in ("c.xlsx", "c.parquet", "c.md", "m.json"))
    args = ["--as-of", AS_OF, "--include-partial"]
    with ThreadPoolExecutor(max_workers=3) as pool:
        runs = list(pool.map(lambda a: run_cli("cohorts", str(example), *args, *a), [
            ["-o", str(xl), "--meta", str(meta)], ["-o", str(pq_out), "--shape", "long"],
            ["-o", str(md)]]))  # fmt: skip
    assert all(r.code == 0 for r in runs), [r.err for r in runs]
    wb = openpyxl.load_workbook(xl)
    assert wb.sheetnames == ["data", "metadata"]
    ws = wb["data"]
    header = [c.value for c in ws[1]]
    assert header == ["cohort", "cohort_size", "0", "1", "2", "partial_period_index"]
    assert ws["C2"].value == 1.0 and ws["C2"].number_format == "0.0%"  # typed percentages
    assert ws["D2"].value == 0.5 and ws["D2"].number_format == "0.0%"
    assert ws["B2"].number_format == "General"  # cohort sizes stay plain numbers
    assert ws["E2"].font.i and not ws["D2"].font.i  # the partial cell is marked
    assert ws["A5"].value == "all cohorts" and ws["A5"].font.b
    rules = [(str(rng.sqref), r.type) for rng in ws.conditional_formatting for r in rng.rules]
    assert rules == [("D2:E5", "colorScale")]  # period 1.. (period 0 is the base)
    keys = {r[0].value: r[1].value for r in wb["metadata"].iter_rows()}
    assert json.loads(keys["partial_period"])["start"] == "2025-03-01"
    assert json.loads(meta.read_text())["cohorts"] == 3
    table = pq.read_table(pq_out)
    assert table.column_names == ["cohort", "period_index", "period_start", "cohort_size",
                                  "value", "rate", "partial"]  # fmt: skip
    assert str(table.schema.field("cohort").type) == "date32[day]"
    assert str(table.schema.field("partial").type) == "bool"
    rows = table.to_pylist()
    assert rows[2] == {"cohort": dt.date(2025, 1, 1), "period_index": 2,
                       "period_start": dt.date(2025, 3, 1), "cohort_size": 2, "value": 1,
                       "rate": 0.5, "partial": True}  # fmt: skip
    kv = pq.read_metadata(pq_out).metadata
    assert kv[b"clientela_analysis"] == b"cohorts" and kv[b"shape"] == b"long"
    assert md.read_text().splitlines() == [
        "| cohort | cohort_size | 0 | 1 | 2 |",  # the marks replace partial_period_index
        "|---|---:|---:|---:|---:|",
        "| 2025-01 | 2 | 100.0% | 50.0% | 50.0%\\* |",
        "| 2025-02 | 1 | 100.0% | 0.0%\\* |  |",
        "| 2025-03 | 1 | 100.0%\\* |  |  |",
        "| **all cohorts** | **4** | **100.0%** | **50.0%** |  |",
        "",
        "\\* partial month 2025-03: orders up to the as-of date 2025-03-15, not a whole month",
    ]


def test_cli_wide_csv_by_and_trend(example: Path) -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        by, trend = pool.map(lambda a: run_cli("cohorts", str(example), "--as-of", AS_OF, *a,
                                               "-o", "-"),
                             [["--by", "channel", "--values", "count"], ["--trend"]])  # fmt: skip
    assert by.code == 0, by.err
    assert list(csv.reader(io.StringIO(by.out))) == [
        ["channel", "cohort", "cohort_size", "0", "1"],
        ["app", "2025-02", "1", "1", ""], ["store", "2025-01", "1", "1", "0"],
        ["web", "2025-01", "1", "1", "1"],
    ]  # fmt: skip
    assert "(3 channel groups)" in by.err
    assert trend.code == 0, trend.err
    assert trend.out.splitlines()[0] == (
        "period,period_start,active,new,returning,retained,reactivated,churned,retention_rate,"
        "churn_rate,revenue,net_revenue_retention,partial"
    )


# ------------------------------------------------------- readable output (hints)


@pytest.fixture
def heat_con() -> Any:
    import duckdb

    con = duckdb.connect()
    con.execute(
        "CREATE TABLE t AS SELECT * FROM (VALUES ('2025-01', 10, 1.0::DOUBLE, 0.5::DOUBLE, "
        "0.25::DOUBLE, NULL), ('2025-02', 4, 1.0, 0.125, NULL, 1), ('all cohorts', 14, 1.0, "
        '0.4, 0.25, NULL)) AS v(cohort, cohort_size, "0", "1", "2", partial_period_index)'
    )
    yield con
    con.close()


HINTS = WriteOptions(
    percent_columns=["0", "1", "2"], heat_columns=["1", "2"],
    marked_cell_column="partial_period_index", summary_row=("cohort", "all cohorts"),
    footnote="* partial", title="heat",
)  # fmt: skip


def test_terminal_heat_map_colours_only_on_a_terminal(
    heat_con: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("COLORTERM", "truecolor")
    tty = io.StringIO()
    write(heat_con, "SELECT * FROM t", dest=None, options=HINTS, stdout=tty, stdout_is_tty=True)
    text = tty.getvalue()
    assert "\x1b[" in text and "48;2;" in text  # background colours
    plain = re.sub(r"\x1b\[[0-9;]*m", "", text)
    assert "50.0%" in plain and "12.5%*" in plain and "* partial" in plain
    pipe = io.StringIO()
    write(heat_con, "SELECT * FROM t", dest=None, fmt="table", options=HINTS, stdout=pipe,
          stdout_is_tty=False)  # fmt: skip
    assert "\x1b" not in pipe.getvalue() and re.sub(r"\s+", " ", plain.strip()) == re.sub(
        r"\s+", " ", pipe.getvalue().strip())  # fmt: skip
    monkeypatch.setenv("NO_COLOR", "1")
    no_color = io.StringIO()
    write(heat_con, "SELECT * FROM t", dest=None, options=HINTS, stdout=no_color,
          stdout_is_tty=True)  # fmt: skip
    assert "48;" not in no_color.getvalue() and "38;" not in no_color.getvalue()


def test_counts_coloured_by_their_share_of_a_base(heat_con: Any) -> None:
    from clientela import output

    rows = [("a", 10.0, 5.0), ("b", 100.0, 5.0)]
    heat_con.execute("CREATE TABLE c AS SELECT * FROM (VALUES " + ", ".join(
        f"('{a}', {b}, {c})" for a, b, c in rows) + ") AS v(k, size, n)")  # fmt: skip
    opts = WriteOptions(heat_columns=["n"], heat_base_column="size")
    hints = output._Hints([("k", "VARCHAR"), ("size", "DOUBLE"), ("n", "DOUBLE")], opts)
    assert hints.heat == [2] and hints.base == 1
    tty = io.StringIO()
    write(heat_con, "SELECT * FROM c", dest=None, options=opts, stdout=tty, stdout_is_tty=True)
    styles = re.findall(r"\x1b\[([0-9;]*)m\s*5\.0", tty.getvalue())
    assert len(styles) == 2 and styles[0] != styles[1]  # 50% and 5% of the base differ


def test_plain_writers_ignore_the_hints(heat_con: Any, tmp_path: Path) -> None:
    out = tmp_path / "t.csv"
    write(heat_con, "SELECT * FROM t", dest=str(out), options=HINTS)
    assert out.read_text().splitlines()[1] == "2025-01,10,1.0,0.5,0.25,"


# ------------------------------------------------------------------ Python API


def test_python_api_matches_cli(example: Path) -> None:
    df = clientela.cohorts(str(example), LoadOptions(as_of=AS_OF), metric="revenue",
                           values="count", by="channel")  # fmt: skip
    assert isinstance(df, pl.DataFrame)
    res = run_cli("cohorts", str(example), "--as-of", AS_OF, "--metric", "revenue",
                  "--values", "count", "--by", "channel", "-o", "-")  # fmt: skip
    assert res.code == 0, res.err
    rows = list(csv.DictReader(io.StringIO(res.out)))
    assert [r["cohort"] for r in rows] == df["cohort"].to_list()
    assert [float(r["0"]) for r in rows] == df["0"].to_list()
    trend = clientela.cohorts(str(example), LoadOptions(as_of=AS_OF), trend=True, period="week")
    assert trend.columns[:3] == ["period", "period_start", "active"]
    with pytest.raises(UsageError, match="--period 'hour'"):
        clientela.cohorts(str(example), period="hour")


@pytest.mark.parametrize("trend_period", ["month", "week"])
def test_trend_after_a_kept_table_equals_a_fresh_trend(trend_period: str) -> None:
    """compute_cohorts(keep=True) leaves its per-customer steps for the next call (the
    report's retention trend after its cohort table); with the same period they are reused,
    with another they are recomputed; either way the trend is the one computed alone."""
    from clientela.load import load

    orders = str(Path(__file__).resolve().parent.parent / "sample_data" / "orders.csv")
    since = dt.date(2024, 1, 1)

    def tables(con: Any) -> set[str]:
        rows = con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()
        return {str(r[0]) for r in rows}

    alone = load(orders)
    fresh = compute_cohorts(alone, CohortParams(period=trend_period, trend=True, since=since))
    expected = alone.con.execute("SELECT * FROM cohorts").fetchall()

    shared = load(orders)
    compute_cohorts(shared, CohortParams(period="month"), keep=True)
    assert {"_coh_activity", "_coh_customers", "_coh_kept"} <= tables(shared.con)
    again = compute_cohorts(shared, CohortParams(period=trend_period, trend=True, since=since))
    assert shared.con.execute("SELECT * FROM cohorts").fetchall() == expected
    assert again.metadata() == fresh.metadata()
    assert not {"_coh_activity", "_coh_customers", "_coh_kept"} & tables(shared.con)


def test_kept_steps_do_not_survive_a_new_load_on_the_same_connection(tmp_path: Path) -> None:
    """Steps kept by compute_cohorts(keep=True) belong to the data they came from: loading
    other data on the same connection drops them, so the next table is the new data's."""
    from clientela.load import load

    orders = Path(__file__).resolve().parent.parent / "sample_data" / "orders.csv"
    lines = orders.read_text(encoding="utf-8").splitlines(keepends=True)
    half = tmp_path / "half.csv"  # the header and every other line: other customers' orders
    half.write_text(lines[0] + "".join(lines[1::2]), encoding="utf-8")
    opts = LoadOptions(as_of="2025-12-31")

    first = load(str(orders), opts)
    compute_cohorts(first, CohortParams(period="month"), keep=True)
    again = load(str(half), opts, con=first.con)
    compute_cohorts(again, CohortParams(period="month"))
    got = again.con.execute("SELECT * FROM cohorts").fetchall()

    alone = load(str(half), opts)
    compute_cohorts(alone, CohortParams(period="month"))
    assert got == alone.con.execute("SELECT * FROM cohorts").fetchall()
    assert len(got) > 1
