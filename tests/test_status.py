"""`clientela status`: the CLI contract (stdout, stderr, exit codes, metadata), every usage
error, the config file, the Python API, and the history against single-date status on the
sample data (the reference comparisons are in test_status_reference.py)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from clientela.errors import UsageError
from clientela.load import Loaded, LoadOptions, load
from clientela.status import (
    STATUS_COLUMNS,
    StatusParams,
    compute_history,
    compute_status,
    period_end,
    status,
    status_history,
)
from tests.conftest import SAMPLE, Result, run_cli, write

ORDERS = str(SAMPLE / "orders.csv")
CRM = str(SAMPLE / "customers.csv")

SMALL = (
    "customer_id,order_id,order_date,amount\n"
    "a,1,2025-03-01,100\n"  # new (first purchase 30 days before the as-of date)
    "b,2,2024-11-01,50\nb,3,2024-12-01,50\n"  # at_risk (120 days)
    "c,4,2024-06-01,500\nc,5,2025-03-20,500\n"  # vip (with --vip-share 0.25: 1 of 4)
    "d,6,2023-01-01,20\nd,7,2025-02-01,20\n"  # reactivated (gap > 180, within 90)
    "e,8,2024-01-01,20\n"  # inactive
    "f,9,2025-03-10,0\n"  # no purchase: left out
)


def _parallel(calls: list[list[str]]) -> list[Result]:
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda args: run_cli(*args), calls))


def test_cli_per_customer_rows_columns_and_rules(tmp_path: Path) -> None:
    f = write(tmp_path / "o.csv", SMALL)
    res = run_cli("status", str(f), "--as-of", "2025-03-31", "--vip-share", "0.25", "-o", "-")
    assert res.code == 0, res.err
    rows = list(csv.DictReader(io.StringIO(res.out)))
    assert list(rows[0]) == list(STATUS_COLUMNS)
    got = {r["customer_id"]: r["status"] for r in rows}
    assert got == {"a": "new", "b": "at_risk", "c": "vip", "d": "reactivated", "e": "inactive"}
    d = next(r for r in rows if r["customer_id"] == "d")
    assert d["previous_gap_days"] == "762" and d["days_since_last"] == "58"
    assert d["first_purchase"] == "2023-01-01" and d["revenue"] == "40.0"
    err = res.err.splitlines()
    assert "status of 5 customers at 2025-03-31" in err
    assert "warning: 1 customers with orders but no purchase" in res.err
    assert "status rules at 2025-03-31 (first match wins):" in err
    assert "  new          first purchase at most 30 days ago (on or after 2025-03-01)" in err
    assert (
        "  vip          top 25% of the customers with net revenue in the last 365 days, ranked "
        "by that revenue; customers tied at the cut-off are all VIPs (here the top 1 of 4: "
        "revenue_window >= 1,000.00)"
    ) in err
    assert "prospect" not in res.err  # no CRM file, no prospect rule


def test_cli_summary_and_meta_and_parquet_metadata(tmp_path: Path) -> None:
    out, meta = tmp_path / "s.parquet", tmp_path / "meta.json"
    res, summ = _parallel(
        [
            ["status", ORDERS, "--customers", CRM, "-o", str(out), "--meta", str(meta)],
            ["status", ORDERS, "--customers", CRM, "--summary", "-o", "-"],
        ]
    )
    assert res.code == 0, res.err
    doc = json.loads(meta.read_text())
    assert doc["clientela_analysis"] == "status" and doc["as_of"] == "2025-12-31"
    assert doc["thresholds"] == {"new_days": 30, "active_days": 90, "inactive_days": 180,
                                 "vip_share": 0.1, "vip_min_revenue": None,
                                 "vip_window_days": 365}  # fmt: skip
    assert doc["precedence"] == [
        "prospect", "new", "inactive", "vip", "reactivated", "active", "at_risk",
    ]  # fmt: skip
    assert set(doc["rules"]) == set(doc["precedence"])
    assert doc["vip"]["population"] > doc["vip"]["top_count"] > 0
    assert json.loads(pq.read_metadata(out).metadata[b"rules"]) == doc["rules"]
    table = pq.read_table(out)
    assert table.num_rows == doc["customers"] == sum(doc["customers_by_status"].values())
    assert summ.code == 0, summ.err
    rows = list(csv.DictReader(io.StringIO(summ.out)))
    assert [r["status"] for r in rows] == [
        "prospect", "new", "vip", "active", "reactivated", "at_risk", "inactive",
    ]  # fmt: skip
    assert list(rows[0]) == [
        "status", "customers", "share_customers", "revenue_window", "share_revenue",
        "median_days_since_last",
    ]  # fmt: skip
    assert {r["status"]: int(r["customers"]) for r in rows} == doc["customers_by_status"]
    assert abs(sum(float(r["share_customers"]) for r in rows) - 1) < 1e-3
    assert rows[0]["median_days_since_last"] == ""  # prospects never bought


def test_keep_carries_crm_attributes_and_refuses_personal_data(tmp_path: Path) -> None:
    res, bad, missing, no_crm = _parallel(
        [
            ["status", ORDERS, "--customers", CRM, "--keep", "marketing_consent, Segment CRM",
             "-o", "-"],
            ["status", ORDERS, "--customers", CRM, "--keep", "email", "-o",
             str(tmp_path / "x.csv")],
            ["status", ORDERS, "--customers", CRM, "--keep", "nope", "-o",
             str(tmp_path / "x.csv")],
            ["status", ORDERS, "--keep", "segment_crm", "-o", str(tmp_path / "x.csv")],
        ]
    )  # fmt: skip
    assert res.code == 0, res.err
    header = res.out.splitlines()[0].split(",")
    assert header[-2:] == ["marketing_consent", "segment_crm"]
    first = res.out.splitlines()[1].split(",")
    assert first[0] == "0000001" and first[-2:] == ["true", "b2b"]  # sample_data/customers.csv
    for r, needle in [(bad, "--keep 'email': looks like personal data"),
                      (missing, "--keep 'nope': the CRM file has no such column; its columns "
                                "are: email, signup_date"),
                      (no_crm, "--keep: needs a CRM file")]:  # fmt: skip
        assert r.code == 2 and needle in r.err, r.err
        assert r.err.count("clientela: error") == 1
    assert not (tmp_path / "x.csv").exists()


def test_every_usage_error_is_one_line_exit_2_and_writes_nothing(tmp_path: Path) -> None:
    f = write(tmp_path / "o.csv", SMALL)
    out = tmp_path / "out.csv"
    cases = [
        (["--new-days", "-1"], "--new-days -1: give a number of days"),
        (["--active-days", "200"], "--active-days 200 is above --inactive-days 180"),
        (["--vip-share", "0"], "--vip-share 0.0: give a fraction above 0"),
        (["--vip-share", "1.5"], "--vip-share 1.5"),
        (["--vip-share", "0.1234567"], "at most 6 decimals"),
        (["--vip-share", "0.2", "--vip-min-revenue", "10"], "--vip-share and --vip-min-revenue"),
        (["--vip-min-revenue", "-5"], "--vip-min-revenue -5.0: give an amount above 0"),
        (["--vip-window-days", "0"], "--vip-window-days 0"),
        (["--every", "week"], "--every: needs --history"),
        (["--since", "2025-01-01"], "--since: needs --history"),
        (["--shape", "wide"], "--shape: needs --history"),
        (["--history", "--every", "day"], "--every 'day': use week or month"),
        (["--history", "--shape", "tall"], "--shape 'tall': use long or wide"),
        (["--history", "--since", "yesterday-ish"], "--since 'yesterday-ish': use a date"),
        (["--history", "--summary"], "--summary and --history: choose one"),
        (["--history", "--since", "2026-01-01"], "--since 2026-01-01: after the as-of date"),
        (["--history", "--since", "2025-03-05"], "--every month: no complete month between"),
        (["--to", "2025-03-01"], "--to: needs --from"),
        (["--from", "2025-01-01", "--history"], "--from: the transition matrix is its own"),
        (["--from", "2025-03-01", "--to", "2025-02-01"], "--from 2025-03-01: must be before"),
        (["--from", "2025-01-01", "--to", "2025-06-01"], "--to 2025-06-01: after the as-of"),
        (["--from", "01.01.2025"], "--from '01.01.2025': use a date YYYY-MM-DD"),
        (["--keep", "x", "--summary"], "--keep: applies to the per-customer table only"),
    ]
    results = _parallel([["status", str(f), *args, "-o", str(out)] for args, _ in cases])
    for (args, needle), res in zip(cases, results, strict=True):
        assert res.code == 2, (args, res.code, res.err)
        assert needle in res.err, (args, res.err)
        errors = [line for line in res.err.splitlines() if line.startswith("clientela:")]
        assert len(errors) == 1 and errors[0].startswith("clientela: error: "), res.err
        assert not res.out
        assert not out.exists(), args


def test_config_file_thresholds_and_command_line_override(tmp_path: Path) -> None:
    f = write(tmp_path / "o.csv", SMALL)
    config = tmp_path / "settings.toml"
    config.write_text("[status]\nnew_days = 20\nvip_share = 0.5\n")
    args = ["status", str(f), "--as-of", "2025-03-31", "--config", str(config), "-o", "-"]
    from_config, overridden = _parallel([args, [*args, "--new-days", "30"]])
    for res in (from_config, overridden):
        assert res.code == 0, res.err
    statuses = [
        {r["customer_id"]: r["status"] for r in csv.DictReader(io.StringIO(res.out))}
        for res in (from_config, overridden)
    ]
    # a's first purchase is 30 days old: not new with new_days = 20 from the file, new with
    # --new-days 30 on the command line; vip_share = 0.5 from the file applies to both
    assert statuses[0]["a"] != "new" and statuses[1]["a"] == "new"
    assert "first purchase at most 20 days ago" in from_config.err
    assert "first purchase at most 30 days ago" in overridden.err
    assert "top 50% of the customers" in from_config.err + overridden.err


def test_config_file_in_the_working_directory_and_unknown_keys(tmp_path: Path) -> None:
    f = write(tmp_path / "o.csv", SMALL)
    (tmp_path / "clientela.toml").write_text("[status]\nnew_days = 20\n")
    res = run_cli("status", str(f), "--as-of", "2025-03-31", "-o", "-", cwd=tmp_path)
    assert res.code == 0 and "first purchase at most 20 days ago" in res.err, res.err
    (tmp_path / "clientela.toml").write_text("[status]\nnew_dayz = 45\n")
    bad = run_cli("status", str(f), "-o", "-", cwd=tmp_path)
    assert bad.code == 2 and "[status] has an unknown setting 'new_dayz'" in bad.err


def test_history_cli_long_wide_and_transitions(tmp_path: Path) -> None:
    long_, wide, trans = _parallel(
        [
            ["status", ORDERS, "--history", "--every", "month", "--since", "2025-01-15", "-o",
             "-"],
            ["status", ORDERS, "--history", "--every", "week", "--shape", "wide", "-o", "-"],
            ["status", ORDERS, "--customers", CRM, "--from", "2025-09-30", "--to", "2025-12-31",
             "-o", "-"],
        ]
    )  # fmt: skip
    assert long_.code == 0, long_.err
    rows = list(csv.DictReader(io.StringIO(long_.out)))
    assert list(rows[0]) == [
        "period", "period_end", "status", "customers", "share_customers", "revenue_window",
    ]  # fmt: skip
    assert rows[0]["period"] == "2025-01" and rows[0]["period_end"] == "2025-01-31"
    assert rows[-1]["period_end"] == "2025-12-31" and len(rows) == 12 * 6
    assert "status at the end of 12 months, 2025-01-31 to 2025-12-31" in long_.err
    assert wide.code == 0, wide.err
    wrows = list(csv.DictReader(io.StringIO(wide.out)))
    assert list(wrows[0]) == ["period", "period_end", "new", "vip", "active", "reactivated",
                              "at_risk", "inactive", "customers"]  # fmt: skip
    assert wrows[0]["period"] == "2023-W01" and wrows[0]["period_end"] == "2023-01-08"
    assert wrows[-1]["period_end"] == "2025-12-28"  # 2025-12-31 is a Wednesday: incomplete
    assert all(
        sum(int(r[s]) for s in ("new", "vip", "active", "reactivated", "at_risk", "inactive"))
        == int(r["customers"])
        for r in wrows
    )
    assert trans.code == 0, trans.err
    t = list(csv.DictReader(io.StringIO(trans.out)))
    assert list(t[0]) == ["from_status", "to_status", "customers", "share_from", "revenue"]
    assert sum(int(r["customers"]) for r in t) == 2241  # every CRM customer
    assert "status transitions 2025-09-30 -> 2025-12-31" in trans.err


def test_history_equals_status_at_every_month_end_on_sample_data() -> None:
    """The set-based history against compute_status at each period end (1,937 buyers and
    304 prospects, VIP cut-offs with many customers in the threshold's bucket)."""
    loaded = load([ORDERS], LoadOptions(dimensions=[], customers=CRM))
    try:
        p = StatusParams(vip_share=0.15)
        compute_history(loaded, p, "month")
        hist: dict[dt.date, dict[str, tuple[int, float]]] = {}
        for day, st, n, rev in loaded.con.execute(
            "SELECT period_end, status, customers, revenue_window FROM status_history"
        ).fetchall():
            hist.setdefault(day, {})[st] = (n, rev)
        assert len(hist) == 36
        for day, counts in hist.items():
            compute_status(Loaded(loaded.con, replace(loaded.report, as_of=day)), p)
            got = dict(
                (r[0], (r[1], r[2]))
                for r in loaded.con.execute(
                    "SELECT status, customers, revenue_window FROM status_summary"
                ).fetchall()
            )
            assert got == counts, day
        assert period_end(24311, "month") == dt.date(2025, 12, 31)
    finally:
        loaded.con.close()


def _history_against_status(loaded: Loaded, p: StatusParams) -> int:
    """Every snapshot of ``status_history`` against compute_status at its date: customers
    and revenue in the VIP window per status. Returns the number of snapshots."""
    hist: dict[dt.date, dict[str, tuple[int, float]]] = {}
    for day, st, n, rev in loaded.con.execute(
        "SELECT period_end, status, customers, revenue_window FROM status_history"
    ).fetchall():
        if n:
            hist.setdefault(day, {})[st] = (n, rev)
    for day, counts in hist.items():
        compute_status(Loaded(loaded.con, replace(loaded.report, as_of=day)), p)
        got = {
            r[0]: (r[1], r[2])
            for r in loaded.con.execute(
                "SELECT status, customers, revenue_window FROM status_summary WHERE customers > 0"
            ).fetchall()
        }
        assert got == counts, day
    return len(hist)


@pytest.mark.parametrize(
    ("every", "since", "snapshots"),
    [("month", dt.date(2025, 1, 1), 12), ("week", dt.date(2025, 10, 6), 12)],
)
def test_history_since_a_later_date_equals_status_on_sample_data(
    every: str, since: dt.date, snapshots: int
) -> None:
    """With --since, days more than the VIP window before the first snapshot carry no
    revenue through the history (sql/status_history_cells.sql); the snapshots still equal
    compute_status at their dates."""
    loaded = load([ORDERS], LoadOptions(dimensions=[], customers=CRM))
    try:
        p = StatusParams(vip_share=0.15, vip_window_days=200)
        compute_history(loaded, p, every, since)
        assert _history_against_status(loaded, p) == snapshots
    finally:
        loaded.con.close()


def test_history_counts_an_order_exactly_one_vip_window_before_the_first_snapshot(
    tmp_path: Path,
) -> None:
    """An order vip_window_days before the first snapshot is still in that snapshot's
    window (days since <= the window), one day older it is not."""
    first_end = dt.date(2025, 3, 31)
    edge = first_end - dt.timedelta(days=365)
    f = write(
        tmp_path / "o.csv",
        "customer_id,order_id,order_date,amount\n"
        f"a,1,{edge},100\na,2,2025-03-21,20\n"  # window 120 at 03-31: vip (>= 110)
        f"b,3,{edge - dt.timedelta(days=1)},100\nb,4,2025-03-21,20\n"  # window 20: reactivated
        "c,5,2025-03-26,50\n",  # new
    )
    loaded = load([str(f)], LoadOptions(dimensions=[], as_of="2025-06-30"))
    try:
        p = StatusParams(vip_min_revenue=110)
        compute_history(loaded, p, "month", dt.date(2025, 3, 1))
        first = dict(
            (r[0], (r[1], r[2]))
            for r in loaded.con.execute(
                "SELECT status, customers, revenue_window FROM status_history "
                "WHERE period_end = ? AND customers > 0",
                [first_end],
            ).fetchall()
        )
        assert first == {"vip": (1, 120.0), "reactivated": (1, 20.0), "new": (1, 50.0)}
        assert _history_against_status(loaded, p) == 4
    finally:
        loaded.con.close()


def test_python_api_matches_cli() -> None:
    import clientela.status

    df = clientela.status(ORDERS)  # the module is callable, like clientela.rfm
    assert isinstance(df, pl.DataFrame) and df.columns == list(STATUS_COLUMNS)
    res = run_cli("status", ORDERS, "-o", "-")
    rows = list(csv.DictReader(io.StringIO(res.out)))
    assert [r["status"] for r in rows] == df["status"].to_list()
    summ = status(ORDERS, summary=True, vip_min_revenue=1000)
    assert summ["customers"].sum() == df.height
    trans = status(ORDERS, from_date="2025-06-30")
    assert trans["customers"].sum() == df.height
    wide = status_history(ORDERS, every="month", shape="wide", since=dt.date(2025, 7, 1))
    assert wide.height == 6 and wide["customers"].to_list()[-1] == df.height
    with pytest.raises(UsageError, match="--shape"):
        status_history(ORDERS, shape="tall")
    with pytest.raises(UsageError, match="--to: needs --from"):
        status(ORDERS, to_date="2025-01-01")


def test_status_module_imports_no_cli_library() -> None:
    for name in ("status", "churn"):
        text = Path(__file__).resolve().parent.parent / "src" / "clientela" / f"{name}.py"
        source = text.read_text()
        assert "import typer" not in source and "rich" not in source and "print(" not in source


def test_one_date_and_two_date_runs_agree_at_the_as_of_date() -> None:
    """sql/status_two_dates.sql (the report's KPIs, transitions) gives the rows of
    sql/status.sql at the as-of date, and at the earlier date those of a one-date run
    there: the two files hold one set of rules."""
    loaded = load([ORDERS], LoadOptions(dimensions=[], customers=CRM))
    try:
        p = StatusParams(vip_share=0.15)
        con = loaded.con
        compute_status(loaded, p)
        one = con.execute("SELECT * FROM status ORDER BY customer_id").fetchall()
        earlier = dt.date(2025, 6, 30)
        compute_status(Loaded(con, replace(loaded.report, as_of=earlier)), p)
        before = con.execute("SELECT * FROM status ORDER BY customer_id").fetchall()
        compute_status(loaded, p, earlier=earlier)
        assert con.execute("SELECT * FROM status ORDER BY customer_id").fetchall() == one
        rows = con.execute(
            "SELECT * EXCLUDE (as_of) FROM status_at_dates WHERE as_of = ? "
            "AND status IS NOT NULL ORDER BY customer_id",
            [earlier],
        ).fetchall()
        assert [r[:2] for r in rows] == [r[:2] for r in before] and len(rows) > 1000
        exact = con.execute(
            "SELECT * EXCLUDE (as_of) FROM status_at_dates WHERE as_of = ? ORDER BY customer_id",
            [earlier],
        ).fetchall()
        compute_status(Loaded(con, replace(loaded.report, as_of=earlier)), p)
        assert con.execute("SELECT * FROM _st_exact ORDER BY customer_id").fetchall() == exact
    finally:
        loaded.con.close()
