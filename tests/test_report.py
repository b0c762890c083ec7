"""clientela report: the folder, its files read back with real readers, KPIs against a plain
Python reference, the manifest's hashes, determinism, atomicity and the config file."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientela.report import report_windows, resolve_as_of, window_ending
from tests.conftest import ROOT, SAMPLE, run_cli, write

ORDERS = str(SAMPLE / "orders.csv")
CUSTOMERS = str(SAMPLE / "customers.csv")
AS_OF = "2025-12-28"  # a Sunday: the report of the ISO week 2025-W52
TABLES = (
    "rfm",
    "segments",
    "cohorts",
    "cohorts_long",
    "retention_trend",
    "status",
    "status_history",
    "churn",
)


def _report(out: Path, *extra: str) -> None:
    res = run_cli(
        "report", ORDERS, "--customers", CUSTOMERS, "--as-of", AS_OF, "--out-dir", str(out), *extra
    )
    assert res.code == 0, res.err
    assert res.out == ""  # stdout carries no data for this command


@pytest.fixture(scope="module")
def en(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("en") / "report"
    _report(out)
    return out


@pytest.fixture(scope="module")
def pt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pt") / "relatorio"
    _report(out, "--lang", "pt", "--formats", "csv")
    return out


def _tables_present(folder: Path) -> list[str]:
    return [t for t in TABLES if (folder / f"{t}.parquet").exists()]


# ------------------------------------------------------------------------ the folder


def test_every_file_is_there(en: Path) -> None:
    names = {p.name for p in en.iterdir()}
    expected = {"clientela-report.xlsx", "report.html", "summary.json", "manifest.json"}
    for t in _tables_present(en):
        expected |= {f"{t}.parquet", f"{t}.csv"}
    assert names == expected
    assert _tables_present(en) == list(TABLES)
    assert not [p for p in en.parent.iterdir() if p.name.startswith(".")]  # no temp left


def test_parquet_and_csv_hold_the_same_rows(en: Path) -> None:
    import pyarrow.parquet as pq

    manifest = json.loads((en / "manifest.json").read_text())
    for t in _tables_present(en):
        table = pq.read_table(en / f"{t}.parquet")
        with (en / f"{t}.csv").open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        assert table.num_rows == len(rows) == manifest["tables"][t]
        assert table.column_names == list(rows[0])
    rfm = pq.read_table(en / "rfm.parquet").to_pylist()
    assert len({r["customer_id"] for r in rfm}) == len(rfm)  # every customer once
    assert all(1 <= r["r_score"] <= 5 for r in rfm)
    assert rfm[0]["customer_id"].startswith("000")  # leading zeros kept
    segs = pq.read_table(en / "segments.parquet").to_pylist()
    assert sum(s["customers"] for s in segs) == len(rfm)


def test_workbook_sheets_types_and_formats(en: Path) -> None:
    import openpyxl

    wb = openpyxl.load_workbook(en / "clientela-report.xlsx")
    names = wb.sheetnames
    assert names[0] == "Summary"
    sheets = [
        "RFM",
        "Segments",
        "Cohorts",
        "Cohorts (long)",
        "Retention trend",
        "Status",
        "Status history",
        "Churn",
    ]
    assert names[1:] == [n for n in sheets if n != "Churn" or (en / "churn.csv").exists()]
    summary = wb["Summary"]
    labels = {summary.cell(r, 1).value: r for r in range(1, summary.max_row + 1)}
    kpis = json.loads((en / "summary.json").read_text())["kpis"]
    row = labels["Customers"]
    assert summary.cell(row, 2).value == kpis["customers"]["value"]
    row = labels["Repeat purchase rate"]
    assert summary.cell(row, 2).value == pytest.approx(kpis["repeat_purchase_rate"]["value"])
    assert "%" in summary.cell(row, 2).number_format
    assert summary.cell(labels["Revenue"], 2).number_format == "#,##0.00"
    seg = wb["Segments"]
    head = [c.value for c in seg[1]]
    share = head.index("share_customers") + 1
    assert "%" in seg.cell(2, share).number_format
    assert isinstance(seg.cell(2, head.index("customers") + 1).value, int)
    rfm = wb["RFM"]
    head = [c.value for c in rfm[1]]
    first = rfm.cell(2, head.index("first_purchase") + 1).value
    assert isinstance(first, dt.datetime)  # typed dates, not text
    assert rfm.freeze_panes == "A2"
    status = wb["Status history"]
    head = [c.value for c in status[1]]
    assert "%" in status.cell(2, head.index("share_customers") + 1).number_format
    if "Cohorts" in names:
        coh = wb["Cohorts"]
        ranges = [str(r.sqref) for r in coh.conditional_formatting]
        assert ranges, "the cohort sheet has a colour scale"
        rules = [rule for cf in coh.conditional_formatting for rule in cf.rules]
        assert any(rule.type == "colorScale" for rule in rules)
        head = [c.value for c in coh[1]]
        col = head.index("1") + 1
        assert "%" in coh.cell(2, col).number_format


def test_workbook_and_page_in_portuguese(pt: Path) -> None:
    import openpyxl

    wb = openpyxl.load_workbook(pt / "clientela-report.xlsx")
    assert wb.sheetnames[:3] == ["Resumo", "RFM", "Segmentos"]
    assert "Clientes" in [c.value for c in wb["Resumo"]["A"]]
    assert "cliente" in [c.value for c in wb["RFM"][1]]
    page = (pt / "report.html").read_text(encoding="utf-8")
    assert '<html lang="pt-BR">' in page
    for word in (
        "Relatório de clientes",
        "Indicadores",
        "Segmentos RFM",
        "Taxa de recompra",
        "Definições e limites",
        "Campeões",
    ):
        assert word in page, word
    assert "Key figures" not in page
    assert not list(pt.glob("*.parquet"))  # --formats csv
    summary = json.loads((pt / "summary.json").read_text())
    assert summary["lang"] == "pt"
    customers = summary["kpis"]["customers"]["value"]
    assert f"{customers:,}".replace(",", ".") in page  # 1.937: Portuguese number format


# ------------------------------------------------------------------------------ the page


def test_page_is_self_contained(en: Path) -> None:
    page = (en / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page, re.I)
    assert not re.search(r"@import|url\(\s*['\"]?https?:|<script|<link", page, re.I)
    assert "fonts.googleapis" not in page and "@font-face" not in page
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "ids are unique across the inline charts"
    for chart in ("segment-map", "revenue-by-segment"):
        assert f'aria-label="{chart}"' in page
    assert "<dc:date>" not in page  # no render date: reruns give the same page


# ---------------------------------------------------------------- KPIs vs a reference


Order = tuple[str, dt.date, Decimal]  # customer, day, net value


def _reference_orders(as_of: dt.date) -> list[Order]:
    """Orders of the sample file as DESIGN.md defines them, in plain Python: duplicates and
    cancelled lines dropped, lines grouped by (customer, order id), net value, first day."""
    seen: set[tuple[str, ...]] = set()
    orders: dict[tuple[str, str], list[Any]] = {}
    cancelled: set[tuple[str, str]] = set()
    with open(ORDERS, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        ix = {h: i for i, h in enumerate(next(reader))}
        for row in reader:
            if tuple(row) in seen:
                continue
            seen.add(tuple(row))
            oid = (row[ix["customer_id"]], row[ix["order_id"]])
            if row[ix["status"]] == "cancelled":
                cancelled.add(oid)
            ts = dt.datetime.strptime(row[ix["order_ts"]], "%Y-%m-%d %H:%M:%S")
            o = orders.setdefault(oid, [ts, Decimal(0)])
            o[0] = min(o[0], ts)
            o[1] += Decimal(row[ix["amount"]])
    return [
        (cust, ts.date(), amount)
        for (cust, oid), (ts, amount) in orders.items()
        if (cust, oid) not in cancelled and ts.date() <= as_of
    ]


def _buyers(orders: list[Order], day: dt.date) -> dict[str, list[Order]]:
    """Customers with a purchase (positive net value) on or before ``day``, and their orders."""
    per: dict[str, list[Order]] = defaultdict(list)
    for o in orders:
        if o[1] <= day:
            per[o[0]].append(o)
    return {c: os_ for c, os_ in per.items() if any(a > 0 for _, _, a in os_)}


def _statuses(orders: list[Order], day: dt.date) -> Counter[str]:
    """DESIGN.md's status rules at ``day`` with the default thresholds (30/90/180, top 10%
    by net revenue of the last 365 days, ties at the cut-off included)."""
    buyers = _buyers(orders, day)
    window = {
        c: sum((a for _, d, a in os_ if (day - d).days <= 365), Decimal(0))
        for c, os_ in buyers.items()
    }
    population = sorted((v for v in window.values() if v > 0), reverse=True)
    k = math.floor(Decimal("0.1") * len(population))
    cutoff = population[k - 1] if k else None
    out: Counter[str] = Counter()
    for c, os_ in buyers.items():
        days = sorted({d for _, d, a in os_ if a > 0})
        since_last = (day - days[-1]).days
        gap = (days[-1] - days[-2]).days if len(days) > 1 else None
        if (day - days[0]).days <= 30:
            out["new"] += 1
        elif since_last > 180:
            out["inactive"] += 1
        elif cutoff is not None and window[c] > 0 and window[c] >= cutoff:
            out["vip"] += 1
        elif since_last <= 90 and gap is not None and gap > 180:
            out["reactivated"] += 1
        elif since_last <= 90:
            out["active"] += 1
        else:
            out["at_risk"] += 1
    return out


def _last_purchase(orders: list[Order], day: dt.date) -> dict[str, dt.date]:
    return {c: max(d for _, d, a in os_ if a > 0) for c, os_ in _buyers(orders, day).items()}


def _churned_in(orders: list[Order], start: dt.date, end: dt.date, days: int = 180) -> int:
    """Churned (no purchase for more than ``days`` days) at ``end`` but not the day before
    ``start``."""
    before = start - dt.timedelta(days=1)
    then = _last_purchase(orders, before)
    return sum(
        1
        for c, last in _last_purchase(orders, end).items()
        if (end - last).days > days and not (c in then and (before - then[c]).days > days)
    )


def _month(d: dt.date) -> int:
    return d.year * 12 + d.month - 1


def _retention(orders: list[Order], as_of: dt.date, k: int) -> tuple[str, float]:
    """Month-k retention of the last monthly cohort whose month k ended by ``as_of``."""
    last_complete = _month(as_of + dt.timedelta(days=1)) - 1
    first: dict[str, int] = {}
    months: dict[str, set[int]] = defaultdict(set)
    for c, d, a in orders:
        if a > 0 and _month(d) <= last_complete:
            first[c] = min(first.get(c, _month(d)), _month(d))
            months[c].add(_month(d))
    cohort = last_complete - k
    members = [c for c, m in first.items() if m == cohort]
    back = sum(1 for c in members if cohort + k in months[c])
    return f"{cohort // 12}-{cohort % 12 + 1:02d}", round(back / len(members), 4)


def test_kpis_match_a_plain_python_reference(en: Path) -> None:
    summary = json.loads((en / "summary.json").read_text())
    assert summary["as_of"] == AS_OF
    assert summary["period"] == {"unit": "week", "start": "2025-12-22", "end": "2025-12-28"}
    assert summary["previous_period"] == {"start": "2025-12-15", "end": "2025-12-21"}
    k = summary["kpis"]
    assert list(k) == [
        "customers",
        "active",
        "new",
        "reactivated",
        "at_risk",
        "inactive",
        "vip",
        "churned_in_period",
        "revenue",
        "repeat_purchase_rate",
        "retention_last_complete_cohort",
        "top20_revenue_share",
    ]
    as_of, start, prev_start, prev_end = (
        dt.date(2025, 12, 28),
        dt.date(2025, 12, 22),
        dt.date(2025, 12, 15),
        dt.date(2025, 12, 21),
    )
    orders = _reference_orders(as_of)
    for key, day in (("value", as_of), ("previous", prev_end)):
        buyers = _buyers(orders, day)
        assert k["customers"][key] == len(buyers)
        repeat = sum(sum(a > 0 for _, _, a in os_) >= 2 for os_ in buyers.values())
        assert k["repeat_purchase_rate"][key] == round(repeat / len(buyers), 4)
        revenue = sorted((sum(a for _, _, a in os_) for os_ in buyers.values()), reverse=True)
        top = sum(revenue[: math.ceil(len(revenue) / 5)])
        assert k["top20_revenue_share"][key] == round(float(top / sum(revenue)), 4)
        statuses = _statuses(orders, day)
        for status in ("active", "new", "reactivated", "at_risk", "inactive", "vip"):
            assert k[status][key] == statuses[status], (status, key)
        assert sum(statuses.values()) == k["customers"][key]  # statuses partition customers
    week = sum((a for _, d, a in orders if start <= d <= as_of), Decimal(0))
    before = sum((a for _, d, a in orders if prev_start <= d <= prev_end), Decimal(0))
    assert k["revenue"]["value"] == float(week) and k["revenue"]["previous"] == float(before)
    assert k["revenue"]["change"] == float(week - before)
    assert k["churned_in_period"]["value"] == _churned_in(orders, start, as_of)
    assert k["churned_in_period"]["previous"] == _churned_in(orders, prev_start, prev_end)
    for months in (1, 3, 6):
        got = k["retention_last_complete_cohort"][f"month_{months}"]
        assert (got["cohort"], got["rate"]) == _retention(orders, as_of, months)


def test_kpis_equal_the_individual_analyses(en: Path) -> None:
    """The status counts are `clientela status --summary`'s, the retention KPIs cells of
    `clientela cohorts --shape long` (here through their Python API, the same functions),
    churned in the period agrees with the churn table."""
    import pyarrow.parquet as pq

    import clientela.cohorts
    import clientela.status
    from clientela import LoadOptions

    k = json.loads((en / "summary.json").read_text())["kpis"]
    opts = LoadOptions(as_of=AS_OF, customers=CUSTOMERS)
    summary = clientela.status.status(ORDERS, opts, summary=True)
    counts = dict(zip(summary["status"], summary["customers"], strict=True))
    for status in ("active", "new", "reactivated", "at_risk", "inactive", "vip"):
        assert k[status]["value"] == counts[status]
    status = pq.read_table(en / "status.parquet").to_pylist()
    assert len(status) == sum(counts.values())
    assert sum(1 for r in status if r["status"] != "prospect") == k["customers"]["value"]
    long = clientela.cohorts.cohorts(ORDERS, LoadOptions(as_of=AS_OF), shape="long")
    cells = {(str(r["cohort"])[:7], r["period_index"]): r["rate"] for r in long.to_dicts()}
    for months in (1, 3, 6):
        got = k["retention_last_complete_cohort"][f"month_{months}"]
        assert round(cells[(got["cohort"], months)], 4) == got["rate"]
    # churned in the period: flagged by `clientela churn` (threshold 180) at the as-of date,
    # and not yet more than 180 days silent at the previous period's end (2025-12-21)
    churn = pq.read_table(en / "churn.parquet").to_pylist()
    assert len(churn) == k["customers"]["value"]
    prev_end = dt.date(2025, 12, 21)
    crossed = [r for r in churn if r["churned"] and (prev_end - r["last_purchase"]).days <= 180]
    assert len(crossed) == k["churned_in_period"]["value"]
    assert sum(r["churned"] for r in churn) == k["inactive"]["value"]  # same threshold
    assert pq.read_table(en / "cohorts_long.parquet").num_rows == len(
        [c for c in cells if c[1] <= 12]
    )


def test_periods() -> None:
    d = dt.date(2025, 3, 31)
    assert window_ending(d, "week").start == dt.date(2025, 3, 25)
    assert window_ending(d, "month").start == dt.date(2025, 3, 1)
    _, prev = report_windows(d, "month")
    assert (prev.start, prev.end) == (dt.date(2025, 2, 1), dt.date(2025, 2, 28))
    assert window_ending(dt.date(2025, 5, 15), "quarter").start == dt.date(2025, 2, 16)
    # last-sunday: the most recent Sunday before today
    monday = dt.date(2026, 11, 23)
    assert resolve_as_of("last-sunday", "UTC", today=monday) == "2026-11-22"
    assert resolve_as_of("last-sunday", "UTC", today=monday + dt.timedelta(days=6)) == (
        "2026-11-22"
    )
    assert resolve_as_of("last-sunday", "UTC", today=dt.date(2026, 11, 29)) == "2026-11-22"
    assert resolve_as_of("2025-01-01", "UTC") == "2025-01-01"


# --------------------------------------------------------------------------- manifest


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_manifest_hashes_counts_and_parameters(en: Path) -> None:
    from clientela import __version__

    m = json.loads((en / "manifest.json").read_text())
    assert m["clientela_version"] == __version__
    assert m["as_of"] == AS_OF
    inputs = {Path(i["path"]).name: i for i in m["inputs"]}
    for name, path in (("orders.csv", Path(ORDERS)), ("customers.csv", Path(CUSTOMERS))):
        assert inputs[name]["sha256"] == _sha(path)
        assert inputs[name]["bytes"] == path.stat().st_size
    assert m["rows"]["read"] == 8253
    assert m["rows"]["dropped"]["duplicate"] == 16
    assert m["rows"]["dropped"]["status_excluded"] == 75
    assert m["rows"]["used"] == m["rows"]["read"] - sum(m["rows"]["dropped"].values())
    outputs = {o["path"]: o for o in m["outputs"]}
    assert set(outputs) == {p.name for p in en.iterdir()} - {"manifest.json"}
    for name, o in outputs.items():
        assert o["sha256"] == _sha(en / name), name
        assert o["bytes"] == (en / name).stat().st_size
    params = m["parameters"]
    assert params["report"]["lang"] == "en" and params["report"]["inactive_days"] == 180
    assert params["load"]["as_of"] == AS_OF and params["load"]["tz"] == "UTC"
    # the analyses in the order of the tables, whatever order the steps ran in
    assert list(m["analyses"]) == ["rfm", "cohorts", "cohorts_long", "retention_trend",
                                   "status", "status_history", "churn"]  # fmt: skip
    run = m["run"]
    assert run["seconds"] > 0 and run["started_at"] <= run["finished_at"]


# ------------------------------------------------------------- determinism, atomicity


def test_same_inputs_same_bytes(en: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    _report(again)
    for p in en.iterdir():
        if p.name == "manifest.json":
            a = json.loads(p.read_text())
            b = json.loads((again / p.name).read_text())
            a.pop("run"), b.pop("run")
            assert a == b
        else:
            assert p.read_bytes() == (again / p.name).read_bytes(), p.name


TINY = "customer_id,order_ts,amount\n1,2025-01-01,10\n1,2025-01-20,15\n2,2025-01-02,0\n"


def test_existing_folder_refused_then_replaced_and_messages(tmp_path: Path) -> None:
    out = tmp_path / "r"
    out.mkdir()
    (out / "old.txt").write_text("keep me")
    res = run_cli("report", ORDERS, "--out-dir", str(out), "--formats", "csv")
    assert res.code == 2
    assert "--overwrite" in res.err and len(res.err.strip().splitlines()) == 1
    assert (out / "old.txt").read_text() == "keep me"
    tiny = write(tmp_path / "tiny.csv", TINY)
    res = run_cli("report", str(tiny), "--out-dir", str(out), "--formats", "csv", "--overwrite")
    assert res.code == 0, res.err
    assert not (out / "old.txt").exists() and (out / "report.html").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r", "tiny.csv"]  # no temp left
    # off a terminal: what was read, the loader's warnings, what was written, and why a
    # table is missing (one complete month is needed for cohorts); no progress display
    lines = res.err.strip().splitlines()
    assert lines[0].startswith("read 3 rows from 1 file")
    assert lines[1].startswith("warning: 1 orders have a total of 0")
    assert lines[2].startswith("wrote the report at 2025-01-20 to ")
    assert lines[3].startswith("note: cohorts: left out (no customer has a purchase")
    assert "\x1b" not in res.err and res.out == ""
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["tables"]) == {"rfm", "segments", "status", "churn"}
    assert len(manifest["notes"]) == 4 and len(lines) == 7
    assert "Not available in this report: cohorts" in (out / "report.html").read_text()


def test_failures_leave_no_folder(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.csv", "customer_id,order_ts,amount\n1,2025-01-01,10\n2,soon,5\n")
    out = tmp_path / "out" / "r"
    res = run_cli("report", str(bad), "--out-dir", str(out))
    assert res.code == 1 and "soon" in res.err
    assert not out.exists()
    # data-quality gate: zero-value orders are a warning; --strict fails before writing
    tiny = write(tmp_path / "tiny.csv", TINY)
    res = run_cli("report", str(tiny), "--out-dir", str(out), "--strict")
    assert res.code == 3 and "zero_value_orders" in res.err and "nothing was written" in res.err
    assert not out.exists()
    # the input inside the folder that --overwrite would replace
    res = run_cli("report", str(tmp_path / "tiny.csv"), "--out-dir", str(tmp_path), "--overwrite")
    assert res.code == 2 and "inside it" in res.err
    res = run_cli("report", ORDERS, "--out-dir", str(tmp_path / "x"), "--formats", "xlsx")
    assert res.code == 2 and "--formats" in res.err
    res = run_cli("report", ORDERS)
    assert res.code == 2 and "--out-dir" in res.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "tiny.csv"]


def test_staged_folder_replaces_atomically_and_cleans_up(tmp_path: Path) -> None:
    from clientela.errors import OutputError
    from clientela.report import remove_stale_stages, staged_folder

    target = tmp_path / "r"
    with staged_folder(target, overwrite=False) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".r.clientela-")
        (tmp / "a.txt").write_text("one")
        assert not target.exists()  # nothing at the target until the end
    assert (target / "a.txt").read_text() == "one"
    with pytest.raises(OutputError), staged_folder(target, overwrite=False) as tmp:
        (tmp / "b.txt").write_text("two")
    with pytest.raises(RuntimeError), staged_folder(target, overwrite=True) as tmp:
        (tmp / "b.txt").write_text("two")
        raise RuntimeError("a failure midway")
    assert sorted(p.name for p in target.iterdir()) == ["a.txt"]  # untouched
    with staged_folder(target, overwrite=True) as tmp:
        (tmp / "b.txt").write_text("two")
    assert sorted(p.name for p in target.iterdir()) == ["b.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["r"]
    # a run killed with SIGKILL leaves its temporary folder: the next run removes it
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    stale = tmp_path / f".r.clientela-{gone}-abc123"
    stale.mkdir()
    (stale / "rfm.csv").write_text("half written")
    alive = tmp_path / f".r.clientela-{os.getpid()}-def456"  # a running report: kept
    alive.mkdir()
    assert remove_stale_stages(target) == [stale]
    assert alive.exists() and not stale.exists()


def test_terminated_run_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "r"
    env = {**os.environ, "NO_COLOR": "1"}
    args = ["report", ORDERS, "--customers", CUSTOMERS, "--out-dir", str(out)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "clientela", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    time.sleep(2.0)  # mid-way: loaded and computing
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    if proc.returncode == 0:  # pragma: no cover - a very fast machine finished first
        assert out.is_dir()
        return
    assert proc.returncode in (130, -signal.SIGTERM), stderr
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ options and config


def test_progress_on_a_terminal(tmp_path: Path) -> None:
    tiny = write(tmp_path / "tiny.csv", TINY)
    env = {"CLIENTELA_PROGRESS": "1", "NO_COLOR": "1"}
    res = run_cli("report", str(tiny), "--out-dir", str(tmp_path / "a"), env=env)
    assert res.code == 0, res.err
    for step in ("reading the inputs", "RFM scores and segments", "writing the workbook"):
        assert step in res.err
    assert re.search(r"\d:\d\d:\d\d", res.err)  # elapsed time
    assert res.err.rstrip().splitlines()[-1].startswith("note: ")  # messages after it


def test_config_section_fills_options(tmp_path: Path) -> None:
    write(
        tmp_path / "clientela.toml",
        '[input]\nas-of = 2025-06-30\n\n[report]\nlang = "pt"\n'
        'formats = "csv"\nperiod = "month"\nbins = 4\ninactive-days = 200\n'
        'out-dir = "weekly"\nquiet = true\nhistory-periods = 6\ncsv-locale = "pt-BR"\n',
    )
    res = run_cli("report", ORDERS, "--bins", "3", cwd=tmp_path)  # the command line wins
    assert res.code == 0, res.err
    assert res.err == ""  # quiet = true
    out = tmp_path / "weekly"
    m = json.loads((out / "manifest.json").read_text())
    p = m["parameters"]["report"]
    got = (
        p["lang"],
        p["formats"],
        p["period"],
        p["bins"],
        p["inactive_days"],
        p["history_periods"],
        p["csv_locale"],
    )
    assert got == ("pt", ["csv"], "month", 3, 200, 6, "pt-BR")
    assert m["as_of"] == "2025-06-30"
    assert m["analyses"]["status"]["thresholds"]["inactive_days"] == 200
    assert m["tables"]["retention_trend"] == 6
    s = json.loads((out / "summary.json").read_text())
    assert s["period"] == {"unit": "month", "start": "2025-06-01", "end": "2025-06-30"}
    assert (out / "segments.csv").read_text(encoding="utf-8-sig").startswith("segment;")


def test_config_errors(tmp_path: Path) -> None:
    cases = {
        "[report]\nlangg = 'pt'\n": "[report] has an unknown setting 'langg'",
        "[report]\nbins = 'five'\n": '[report] bins = "five": expected a whole number',
        "[report]\nvip-share = 'many'\n": '[report] vip-share = "many": expected a number',
    }
    for text, message in cases.items():
        cfg = write(tmp_path / "bad.toml", text)
        res = run_cli("report", ORDERS, "--config", str(cfg), "--out-dir", str(tmp_path / "r"))
        assert res.code == 2, (text, res.err)
        assert message in res.err and "Traceback" not in res.err, res.err
        assert not (tmp_path / "r").exists()


def test_bad_options_are_usage_errors(tmp_path: Path) -> None:
    for args, message in (
        (["--lang", "fr"], "--lang"),
        (["--period", "year"], "--period"),
        (["--new-days", "100"], "need new <= active < inactive"),
        (["--vip-share", "2"], "--vip-share"),
        (["--vip-share", "0.2", "--vip-min-revenue", "500"], "give one of them"),
        (["--bins", "11"], "--bins"),
        (["--as-of", "someday"], "--as-of"),
    ):
        res = run_cli("report", ORDERS, "--out-dir", str(tmp_path / "r"), *args)
        assert res.code == 2, (args, res.err)
        assert message in res.err, res.err
        assert not (tmp_path / "r").exists()


def test_readme_names_the_command() -> None:
    assert "clientela report" in (ROOT / "docs" / "report.md").read_text(encoding="utf-8")


def test_page_module_never_touches_duckdb() -> None:
    src = (ROOT / "src" / "clientela" / "report_html.py").read_text(encoding="utf-8")
    assert "duckdb" not in src.replace("no DuckDB", "")
    assert "import typer" not in src and "import rich" not in src
    code = "import clientela.report, clientela.report_html, sys; print('typer' in sys.modules)"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.stdout.strip() == "False", "the report library does not import the CLI"


def test_page_drawn_in_a_thread_leaves_the_host_alone(tmp_path: Path) -> None:
    """A program that runs the report in-process keeps its matplotlib backend and its
    warning filters (the page is drawn in a worker thread, which sets neither), and an error
    of the drawing reaches the caller."""
    code = f"""
import sys, warnings, matplotlib
from clientela import report_html
from clientela.cli import main
warnings.simplefilter("default")
filters = list(warnings.filters)
backend = dict.__getitem__(matplotlib.rcParams, "backend")
try:
    main(["report", {ORDERS!r}, "--out-dir", {str(tmp_path / "r")!r}, "--quiet"])
except SystemExit as e:
    assert e.code in (0, None), e.code
assert dict.__getitem__(matplotlib.rcParams, "backend") == backend, "backend changed"
assert warnings.filters == filters, "warning filters changed"
drawing = report_html.Drawing({{}})  # no "lang": the drawing fails
try:
    drawing.result()
except KeyError:
    print("ok")
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().endswith("ok"), res.stdout + res.stderr
    assert (tmp_path / "r" / "report.html").stat().st_size > 10_000


# ------------------------------------------------------------- a real headless browser
# Chromium driven by Selenium: the page renders, logs no console error, loads nothing, and
# shows its charts and KPI values. Skipped, with the reason, only when no Chromium (and its
# driver) is installed; Debian: apt-get install -y chromium chromium-driver.

CHROMIUM = next(
    (
        p
        for p in (
            os.environ.get("CLIENTELA_CHROMIUM"),
            shutil.which("chromium"),
            shutil.which("chromium-browser"),
            shutil.which("google-chrome"),
        )
        if p
    ),
    None,
)
DRIVER = os.environ.get("CLIENTELA_CHROMEDRIVER") or shutil.which("chromedriver")

needs_chromium = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None,
    reason="no Chromium/chromedriver installed (Debian: apt-get install -y chromium "
    "chromium-driver)",
)

CHARTS_ALWAYS = (
    "segment-map",
    "revenue-by-segment",
    "cohort-heatmap",
    "retention-curves",
    "retention-trend",
)
CHARTS_STATUS = ("status-distribution", "status-trend", "revenue-by-status")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from selenium import webdriver  # a dev dependency: only a missing Chromium skips
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    opts = Options()
    opts.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
        "--force-device-scale-factor=1",
    ):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(str(DRIVER)), options=opts)
    try:
        yield driver
    finally:
        driver.quit()


def _open(browser: Any, page: Path) -> dict[str, Any]:
    browser.get(page.resolve().as_uri())
    browser.get_log("browser")  # drop entries of earlier pages
    browser.refresh()
    state = browser.execute_script(
        "return {ready: document.readyState, title: document.title,"
        " text: document.body.innerText,"
        " charts: Array.from(document.querySelectorAll('figure svg')).map(s => {"
        "   const r = s.getBoundingClientRect();"
        "   return {name: s.getAttribute('aria-label'), w: r.width, h: r.height,"
        "           shapes: s.querySelectorAll('path, rect, use').length}; }),"
        " resources: performance.getEntriesByType('resource').map(e => e.name),"
        " cards: Array.from(document.querySelectorAll('.card')).map(c => ["
        "   c.dataset.kpi, c.querySelector('.value').innerText])}"
    )
    state["console"] = browser.get_log("browser")
    return dict(state)


def _screenshot(browser: Any, path: Path) -> None:
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1280, min(int(height) + 40, 12000))
    browser.save_screenshot(str(path))
    browser.set_window_size(1280, 1000)


@needs_chromium
@pytest.mark.parametrize("lang", ["en", "pt"])
def test_page_renders_in_chromium(browser: Any, lang: str, request: pytest.FixtureRequest) -> None:
    out: Path = request.getfixturevalue(lang)
    state = _open(browser, out / "report.html")
    assert state["ready"] == "complete"
    errors = [e for e in state["console"] if e.get("level") in ("SEVERE", "ERROR")]
    assert errors == [], errors
    assert state["resources"] == [], "the page loads nothing: no network, no other file"
    charts = {c["name"]: c for c in state["charts"]}
    expected = list(CHARTS_ALWAYS)
    if (out / "status.parquet").exists():
        expected += CHARTS_STATUS
    for name in expected:
        assert name in charts, (name, sorted(charts))
        c = charts[name]
        assert c["w"] > 200 and c["h"] > 100 and c["shapes"] > 5, c
    summary = json.loads((out / "summary.json").read_text())
    customers = summary["kpis"]["customers"]["value"]
    shown = dict(state["cards"])
    sep = "." if lang == "pt" else ","
    assert shown["customers"] == f"{customers:,}".replace(",", sep)
    title = "Relatório de clientes" if lang == "pt" else "Customer report"
    assert state["title"].startswith(title) and title in state["text"]
    if os.environ.get("CLIENTELA_SCREENSHOTS"):  # the README picture: docs/report-screenshot.png
        folder = Path(os.environ["CLIENTELA_SCREENSHOTS"])
        folder.mkdir(parents=True, exist_ok=True)
        _screenshot(browser, folder / f"report-{lang}.png")


@settings(deadline=None, max_examples=60)
@given(
    values=st.lists(
        st.sampled_from(["0.01", "5", "5", "12.30", "12.30", "99.99", "100", "2500.50", "-3"]),
        min_size=0,
        max_size=40,
    ),
    empty=st.integers(0, 3),
)
def test_top_share_is_the_sum_of_the_largest_fifth(values: list[str], empty: int) -> None:
    """The top-20% share from an order statistic equals sorting every customer's revenue
    and adding the first ceil(n / 5) (ties at the cut-off included: equal values)."""
    import duckdb

    from clientela.report import _KPI_TABLE, _top_share

    day = dt.date(2025, 12, 28)
    con = duckdb.connect()
    rows = [(day, f"c{i}", Decimal(v), 1) for i, v in enumerate(values)]
    rows += [(day, f"p{i}", Decimal(0), 0) for i in range(empty)]  # no purchase: left out
    con.execute(
        f"CREATE TEMP TABLE {_KPI_TABLE} (as_of DATE, customer_id VARCHAR, "
        "revenue DECIMAL(38, 6), purchases BIGINT)"
    )
    if rows:
        con.executemany(f"INSERT INTO {_KPI_TABLE} VALUES (?, ?, ?, ?)", rows)
    got = _top_share(con, day)
    revenue = sorted((Decimal(v) for v in values), reverse=True)
    total = sum(revenue, Decimal(0))
    if not revenue or total <= 0:
        assert got is None
    else:
        top = sum(revenue[: math.ceil(len(revenue) / 5)], Decimal(0))
        assert got == round(float(top / total), 4)
    con.close()


@contextlib.contextmanager
def _report_context(with_tables: bool = True) -> Iterator[Any]:
    """The report's context on the sample data (loaded in-process), its tables built unless
    ``with_tables`` is false; the connection is closed afterwards."""
    from clientela.load import LoadOptions, load
    from clientela.report import ReportContext, ReportParams, build_tables

    loaded = load([ORDERS], LoadOptions(dimensions=[], as_of=AS_OF, customers=CUSTOMERS))
    try:
        params = ReportParams()
        assert loaded.report.as_of is not None
        current, previous = report_windows(loaded.report.as_of, params.period)
        ctx = ReportContext(loaded, params, loaded.report.as_of, current, previous)
        if with_tables:
            build_tables(ctx, lambda _name: contextlib.nullcontext())
        yield ctx
    finally:
        loaded.con.close()


def test_the_connection_keeps_working_status_views_after_the_report_tables() -> None:
    """The report's KPIs read the status rows of both dates that compute_status leaves on
    the connection; they are not renamed or dropped under the views `status` and
    `_st_exact`, which a Python caller can still read after the report's tables."""
    from clientela.report import compute_kpis

    with _report_context() as ctx:
        kpis = compute_kpis(ctx)
        con = ctx.con
        ((n,),) = con.execute("SELECT count(*) FROM status").fetchall()
        ((m,),) = con.execute("SELECT count(*) FROM report_status").fetchall()
        assert n == m > 0
        ((buyers,),) = con.execute(
            "SELECT count(*) FROM status WHERE status <> 'prospect'"
        ).fetchall()
        assert buyers == kpis["customers"]["value"]


def test_kpis_without_the_status_step_classify_both_dates_themselves() -> None:
    """When the status table was not built (left out, or compute_kpis called alone), the
    KPIs make the status rows of both dates themselves and give the same values."""
    from clientela.report import compute_kpis

    with _report_context() as ctx:
        full = compute_kpis(ctx)
    with _report_context(with_tables=False) as ctx:
        ctx.missing += ["status", "cohorts_long"]  # as if both were left out
        alone = compute_kpis(ctx)
    assert "active" not in alone  # status KPIs need the status table
    for key in ("customers", "churned_in_period", "repeat_purchase_rate", "top20_revenue_share"):
        assert alone[key] == full[key], key


def test_churn_and_history_from_the_shared_day_table_equal_the_commands_alone() -> None:
    """The report groups the orders by customer and day once (the table _days) for the
    status history and churn; their tables equal those of the analyses run alone (which
    group inside their own queries), and the day table is gone after the report's tables."""
    from clientela.churn import ChurnParams, compute_churn
    from clientela.report import _status_params, history_since
    from clientela.status import compute_history

    with _report_context() as ctx:
        con = ctx.con
        shared_churn = con.execute("SELECT * FROM report_churn").fetchall()
        shared_history = con.execute("SELECT * FROM report_status_history").fetchall()
        left = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = '_days'"
        ).fetchall()
        assert left == [(0,)]
    with _report_context(with_tables=False) as ctx:
        p = ctx.params
        compute_churn(ctx.loaded, ChurnParams(churn_days=p.churn_threshold))
        since = history_since(ctx.as_of, p.history_every, p.history_periods)
        compute_history(ctx.loaded, _status_params(ctx), p.history_every, since)
        alone_churn = ctx.con.execute("SELECT * FROM churn").fetchall()
        alone_history = ctx.con.execute("SELECT * FROM status_history").fetchall()
        views = ctx.con.execute(
            "SELECT count(*) FROM duckdb_views() WHERE view_name = '_days'"
        ).fetchall()
        assert views == [(1,)]  # alone: a view over the orders, not a table
    assert len(shared_churn) > 0 and len(shared_history) > 0
    assert shared_churn == alone_churn
    assert shared_history == alone_history


def test_status_from_the_history_timeline_equals_status_alone() -> None:
    """The report reads the status at the as-of date and at the previous period's end from
    the status history's timeline (the sample's history starts long before the previous
    period's end): the status table equals `clientela status`'s, both dates' rows equal
    those of one pass over the orders, and the kept timeline is gone afterwards."""
    from clientela.load import temp_kind
    from clientela.report import _status_params
    from clientela.status import TIMELINE, compute_status

    with _report_context() as ctx:
        assert ctx._history.timeline  # the timeline path was taken
        assert temp_kind(ctx.con, TIMELINE) is None
        shared = ctx.con.execute("SELECT * FROM report_status").fetchall()
        both = "SELECT * FROM status_at_dates ORDER BY as_of, customer_id"
        shared_both = ctx.con.execute(both).fetchall()
    with _report_context(with_tables=False) as ctx:
        compute_status(ctx.loaded, _status_params(ctx))
        alone = ctx.con.execute("SELECT * FROM status").fetchall()
        compute_status(ctx.loaded, _status_params(ctx), earlier=ctx.previous.end)
        orders_both = ctx.con.execute(both).fetchall()
    assert len(shared) > 1000
    assert {r[0] for r in shared_both} == {dt.date(2025, 12, 28), dt.date(2025, 12, 21)}
    assert shared == alone
    assert shared_both == orders_both


def test_rfm_from_the_status_rows_equals_rfm_alone() -> None:
    """The report's RFM takes its per-customer values from the status rows at the as-of
    date (made by the status step, which runs first); its table equals `clientela rfm`'s,
    which groups the orders itself, every column exact (the sample has a CRM file, so
    prospects without a purchase are in the status rows and must stay out of RFM)."""
    from clientela.rfm import RfmParams, compute_rfm

    with _report_context() as ctx:
        assert ctx._rfm_values() is not None  # the status step ran
        shared = ctx.con.execute("SELECT * FROM rfm").fetchall()
        summary = ctx.con.execute("SELECT * FROM rfm_summary").fetchall()
    with _report_context(with_tables=False) as ctx:
        assert ctx._rfm_values() is None
        p = ctx.params
        compute_rfm(ctx.loaded, RfmParams(bins=p.bins, segments=p.segments, lang=p.lang))
        alone = ctx.con.execute("SELECT * FROM rfm").fetchall()
        assert summary == ctx.con.execute("SELECT * FROM rfm_summary").fetchall()
    assert len(shared) > 0
    assert shared == alone


def test_rfm_ignores_status_rows_of_an_earlier_load(tmp_path: Path) -> None:
    """RFM takes the status rows only from this run's status step: rows an earlier report
    left on the connection (another load, same as-of date) are not used."""
    from clientela.load import LoadOptions, load
    from clientela.report import ReportContext, ReportParams
    from clientela.rfm import RfmParams, compute_rfm

    small = tmp_path / "small.csv"
    small.write_text("customer_id,order_date,amount\nx,2025-12-01,10\ny,2025-12-02,20\n")
    with _report_context() as ctx:  # leaves status_at_dates on its connection
        opts = LoadOptions(dimensions=[], as_of=AS_OF)
        again = load([str(small)], opts, con=ctx.con)
        assert again.report.as_of is not None
        current, previous = report_windows(again.report.as_of, ReportParams().period)
        fresh = ReportContext(again, ReportParams(), again.report.as_of, current, previous)
        assert fresh._rfm_values() is None  # no status step in this run
        fresh.rfm()
        got = ctx.con.execute("SELECT customer_id, monetary FROM rfm").fetchall()
    alone = load([str(small)], opts)
    compute_rfm(alone, RfmParams())
    assert got == alone.con.execute("SELECT customer_id, monetary FROM rfm").fetchall()
    assert [r[0] for r in got] == ["x", "y"]
