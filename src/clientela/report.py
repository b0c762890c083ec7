"""The report bundle of ``clientela report``: every analysis on one load, written as one folder.

Contract:
- :func:`build_report` takes a loaded connection (``orders``, optionally ``customers``) and
  :class:`ReportParams`, computes every report table once, the KPIs of ``summary.json``, and
  writes the folder: one Parquet and/or CSV file per table, ``clientela-report.xlsx``,
  ``report.html``, ``summary.json`` and ``manifest.json``.
- Each report table comes from one function ``<name>_table(ctx) -> str`` (see
  :data:`TABLES`) that creates it in DuckDB through the analysis module's public API and
  returns the DuckDB table name; the report never recomputes what an analysis computes.
- The folder is built in a temporary sibling (``.NAME.clientela-PID-XXXX``) and renamed into
  place at the end; an existing non-empty folder is refused unless ``overwrite``, and then
  swapped atomically (``renameat2(RENAME_EXCHANGE)`` on Linux). Temporary siblings left by a
  killed run (their process is gone) are removed by the next run. A failure leaves no target.
- Same inputs, as-of and parameters give byte-identical files, except the ``run`` block of
  ``manifest.json`` (start, end and duration of the run).
- The library never prints; ``step`` (a context-manager factory) lets the caller show
  progress.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clientela.errors import InputDataError, OutputError, UsageError
from clientela.fsutil import sha256_files
from clientela.report_html import KPI_NAMES

if TYPE_CHECKING:
    import duckdb

    from clientela.load import Loaded
    from clientela.rfm import RfmResult
    from clientela.status import HistoryResult

REPORT_SCHEMA = 1
WORKBOOK = "clientela-report.xlsx"
HTML = "report.html"
SUMMARY = "summary.json"
MANIFEST = "manifest.json"
TABLE_FORMATS = ("parquet", "csv")
PERIODS = ("week", "month", "quarter")
TOP_SHARE = 0.2  # "share of revenue from the top 20% of customers"
RETENTION_MONTHS = (1, 3, 6)
XLSX_MAX_ROWS = 1_048_575  # data rows in one sheet (the header takes one)

Step = Callable[[str], contextlib.AbstractContextManager[Any]]


# ----------------------------------------------------------------------------- params


@dataclass
class ReportParams:
    """The parameters of ``clientela report`` (same names and defaults)."""

    lang: str = "en"  # en | pt: page, sheet names, labels
    formats: tuple[str, ...] = TABLE_FORMATS  # table files: parquet and/or csv
    period: str = "week"  # the KPI period: the week/month/quarter ending at the as-of date
    cohort_period: str = "month"  # cohort granularity of the cohort tables
    max_periods: int = 12  # cohort table columns 0..K
    history_every: str = "month"  # status history and retention trend granularity
    history_periods: int = 12  # periods shown in the status history and trend
    bins: int = 5  # RFM scores 1..N
    segments: str | None = None  # RFM segment map (rfm10, rfm11 or a TOML file)
    new_days: int = 30
    active_days: int = 90
    inactive_days: int = 180
    vip_share: float | None = None  # None: 0.1 unless vip_min_revenue (as status)
    vip_min_revenue: float | None = None
    vip_window_days: int = 365
    churn_days: int | None = None  # default: inactive_days
    csv_locale: str = "en"  # en | pt-BR (the CSV table files)
    xlsx_max_rows: int = 100_000  # larger tables get a sheet with a note, not the rows

    @property
    def churn_threshold(self) -> int:
        return self.inactive_days if self.churn_days is None else self.churn_days

    def validate(self) -> None:
        if self.lang not in ("en", "pt"):
            raise UsageError(f"--lang {self.lang!r}: use en or pt")
        bad = [f for f in self.formats if f not in TABLE_FORMATS]
        if bad or not self.formats:
            raise UsageError(
                f"--formats {','.join(self.formats)!r}: use parquet, csv or parquet,csv"
            )
        if self.period not in PERIODS:
            raise UsageError(f"--period {self.period!r}: use {', '.join(PERIODS)}")
        if self.cohort_period not in ("week", "month", "quarter"):
            raise UsageError(f"--cohort-period {self.cohort_period!r}: use week, month or quarter")
        if self.history_every not in ("week", "month"):
            raise UsageError(f"--history-every {self.history_every!r}: use week or month")
        for flag, v, lo in (
            ("--max-periods", self.max_periods, 1),
            ("--history-periods", self.history_periods, 2),
            ("--new-days", self.new_days, 1),
            ("--active-days", self.active_days, 1),
            ("--inactive-days", self.inactive_days, 1),
            ("--vip-window-days", self.vip_window_days, 1),
        ):
            if v < lo:
                raise UsageError(f"{flag} {v}: give {lo} or more")
        if not self.new_days <= self.active_days < self.inactive_days:
            raise UsageError(
                f"--new-days {self.new_days}, --active-days {self.active_days}, "
                f"--inactive-days {self.inactive_days}: need new <= active < inactive"
            )
        if self.vip_share is not None and not 0 < self.vip_share < 1:
            raise UsageError(f"--vip-share {self.vip_share}: give a fraction such as 0.1")
        if self.churn_days is not None and self.churn_days < 1:
            raise UsageError(f"--churn-days {self.churn_days}: give 1 or more")
        if not 0 <= self.xlsx_max_rows <= XLSX_MAX_ROWS:
            raise UsageError(
                f"--xlsx-max-rows {self.xlsx_max_rows}: give 0 to {XLSX_MAX_ROWS:,} (the most "
                "an xlsx sheet holds)"
            )
        if self.csv_locale not in ("en", "pt-BR"):
            raise UsageError(f"--csv-locale {self.csv_locale!r}: use en or pt-BR")
        from clientela.rfm import RfmParams

        RfmParams(bins=self.bins, segments=self.segments, lang=self.lang).validate()

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["formats"] = list(self.formats)
        d["churn_days"] = self.churn_threshold
        return d


def parse_formats(text: str | Sequence[str]) -> tuple[str, ...]:
    """``parquet,csv`` (or a list of such items) -> ("parquet", "csv"), in a fixed order."""
    items = [text] if isinstance(text, str) else list(text)
    got = {p.strip().lower() for item in items for p in str(item).split(",") if p.strip()}
    bad = sorted(got - set(TABLE_FORMATS))
    if bad or not got:
        raise UsageError(
            f"--formats {','.join(items)!r}: use parquet, csv or parquet,csv"
            + (f" (unknown: {', '.join(bad)})" if bad else "")
        )
    return tuple(f for f in TABLE_FORMATS if f in got)


def resolve_as_of(value: str | None, tz: str, today: dt.date | None = None) -> str | None:
    """``--as-of``: ``last-sunday`` becomes the date of the most recent Sunday before
    today (in the reporting zone); anything else is left to the loader."""
    if value is None or value.strip().lower() not in ("last-sunday", "ultimo-domingo"):
        return value
    if today is None:
        from zoneinfo import ZoneInfo

        try:
            today = dt.datetime.now(ZoneInfo(tz)).date()
        except Exception:  # unknown zone: the loader reports it; use UTC here
            today = dt.datetime.now(dt.timezone.utc).date()
    back = today.isoweekday() % 7 or 7  # Monday 1 ... Sunday 7 (a week ago)
    return (today - dt.timedelta(days=back)).isoformat()


# ---------------------------------------------------------------------------- periods


@dataclass(frozen=True)
class Window:
    """A closed range of calendar dates."""

    start: dt.date
    end: dt.date

    def to_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


def _month_end(year: int, month: int) -> int:
    return (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day


def _add_months(d: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (clamped); a month's last day stays a last day."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    last = _month_end(year, month)
    if d.day == _month_end(d.year, d.month):
        return dt.date(year, month, last)
    return dt.date(year, month, min(d.day, last))


def window_ending(end: dt.date, period: str) -> Window:
    """The ``period`` (week, month, quarter) that ends on ``end``: 7 days, or from the day
    after the same date one/three months earlier (a whole calendar month or quarter when
    ``end`` is a month's last day)."""
    if period == "week":
        return Window(end - dt.timedelta(days=6), end)
    months = 1 if period == "month" else 3
    return Window(_add_months(end, -months) + dt.timedelta(days=1), end)


def report_windows(as_of: dt.date, period: str) -> tuple[Window, Window]:
    """The period ending at the as-of date and the one just before it."""
    current = window_ending(as_of, period)
    return current, window_ending(current.start - dt.timedelta(days=1), period)


# ---------------------------------------------------------------------------- context


@dataclass
class ReportContext:
    """What the table functions share: the load, the parameters and cached results."""

    loaded: Loaded
    params: ReportParams
    as_of: dt.date
    current: Window
    previous: Window
    metadata: dict[str, Any] = field(default_factory=dict)  # per analysis
    missing: list[str] = field(default_factory=list)  # tables left out
    notes: list[str] = field(default_factory=list)  # why, for stderr and the manifest
    _rfm: RfmResult | None = None
    # the status history's result, or the error that left it out (made by the status step)
    _history: HistoryResult | InputDataError | UsageError | None = None

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        return self.loaded.con

    def rfm(self) -> RfmResult:
        if self._rfm is None:
            from clientela.rfm import RfmParams, compute_rfm

            p = self.params
            self._rfm = compute_rfm(
                self.loaded,
                RfmParams(bins=p.bins, segments=p.segments, lang=p.lang),
                values=self._rfm_values(),
            )
            self.metadata["rfm"] = self._rfm.metadata()
        return self._rfm

    def _rfm_values(self) -> str | None:
        """RFM's per-customer values from the status rows at the as-of date, when the
        status step made them: the same definitions (first and last purchase, purchases,
        net revenue, refunds included, summed exactly) from the same pass over the orders,
        so RFM needs no pass of its own (0.9 s at 10M order lines)."""
        if "status" not in self.metadata:  # this run's status step made no rows
            return None
        return (
            "SELECT customer_id, '' AS _grp, first_purchase, last_purchase, days_since_last "
            "AS recency_days, purchases AS frequency, CAST(revenue AS DOUBLE) AS monetary "
            f"FROM {_KPI_TABLE} WHERE as_of = DATE '{self.as_of.isoformat()}' AND purchases > 0"
        )


# ----------------------------------------------------------------------- report tables


def rfm_table(ctx: ReportContext) -> str:
    """One row per customer with a purchase: RFM values, scores and segment."""
    ctx.rfm()
    return "rfm"


def segments_table(ctx: ReportContext) -> str:
    """One row per RFM segment: customers, revenue, shares, means, suggested action."""
    ctx.rfm()
    return "rfm_summary"


def _keep(ctx: ReportContext, source: str, name: str) -> str:
    """Keep an analysis's table (its modules reuse one name per call) under the report's
    name: a table is renamed, not copied (a copy of the status table took 0.5 s at 10M
    lines); a view (some analyses' outputs under --pseudonymize) is copied into a table."""
    from clientela.load import temp_kind

    is_table = temp_kind(ctx.con, source) == "TABLE"
    ctx.con.execute(f"DROP TABLE IF EXISTS {name}")
    if is_table:
        ctx.con.execute(f"ALTER TABLE {source} RENAME TO {name}")
    else:
        ctx.con.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM {source}")
    return name


def history_since(as_of: dt.date, every: str, periods: int) -> dt.date:
    """The first day of the ``periods``-th last complete period (week or month) ending on or
    before the as-of date: the history and trend then hold ``periods`` complete periods."""
    if every == "week":
        sunday = as_of - dt.timedelta(days=(as_of.weekday() + 1) % 7)  # the last complete week
        return sunday - dt.timedelta(days=7 * periods - 1)
    first = as_of.replace(day=1)
    if (as_of + dt.timedelta(days=1)).day != 1:  # the as-of month is not complete
        first = _add_months(first, -1)
    return _add_months(first, -(periods - 1))


def _cohorts(ctx: ReportContext, key: str, **kw: Any) -> str:
    from clientela.cohorts import CohortParams, compute_cohorts

    res = compute_cohorts(ctx.loaded, CohortParams(**kw))
    ctx.metadata[key] = res.metadata()
    return _keep(ctx, "cohorts", f"report_{key}")


def cohorts_table(ctx: ReportContext) -> str:
    """Wide cohort retention: one row per cohort, rates by period index 0..K, and the
    weighted "all cohorts" row. The long table's cells come from the same computation."""
    from clientela.cohorts import CohortParams, compute_cohorts

    p = ctx.params
    params = CohortParams(period=p.cohort_period, max_periods=p.max_periods)
    # the per-customer steps are kept for the retention trend when it uses the same period
    keep = p.history_every == p.cohort_period
    res = compute_cohorts(ctx.loaded, params, also_long="report_cohorts_long", keep=keep)
    ctx.metadata["cohorts"] = res.metadata()
    ctx.metadata["cohorts_long"] = replace(res, params=replace(params, shape="long")).metadata()
    return _keep(ctx, "cohorts", "report_cohorts")


def cohorts_long_table(ctx: ReportContext) -> str:
    """The same cells, one row per (cohort, period index), with counts and rates."""
    if "cohorts_long" in ctx.metadata:  # made with the wide table
        return "report_cohorts_long"
    p = ctx.params
    return _cohorts(
        ctx, "cohorts_long", period=p.cohort_period, max_periods=p.max_periods, shape="long"
    )


def retention_trend_table(ctx: ReportContext) -> str:
    """Retention over time: active, new, returning, retained, churned and the rates per
    calendar period (the last ``history_periods`` complete ones)."""
    p = ctx.params
    since = history_since(ctx.as_of, p.history_every, p.history_periods)
    return _cohorts(ctx, "retention_trend", period=p.history_every, trend=True, since=since)


def _status_params(ctx: ReportContext) -> Any:
    from clientela.status import StatusParams

    p = ctx.params
    return StatusParams(
        new_days=p.new_days,
        active_days=p.active_days,
        inactive_days=p.inactive_days,
        vip_share=p.vip_share,  # both with --vip-min-revenue: status refuses it
        vip_min_revenue=p.vip_min_revenue,
        vip_window_days=p.vip_window_days,
    )


def _history(ctx: ReportContext) -> HistoryResult | InputDataError | UsageError:
    """The status history (made once, before the status table: its timeline also gives the
    status at the as-of date and at the previous period's end, sql/status_dated_timeline.sql),
    or the error that leaves it out, kept for :func:`status_history_table`."""
    from clientela.load import customer_days
    from clientela.status import compute_history

    if ctx._history is None:
        p = ctx.params
        since = history_since(ctx.as_of, p.history_every, p.history_periods)
        # the orders grouped by customer and day once, for the history and then churn
        # (dropped by build_tables at the end)
        customer_days(ctx.con, materialize=True)
        try:
            ctx._history = compute_history(
                ctx.loaded, _status_params(ctx), p.history_every, since,
                status_dates=(ctx.as_of, ctx.previous.end),
            )  # fmt: skip
        except (InputDataError, UsageError) as e:  # left out by status_history_table
            ctx._history = e
    return ctx._history


def status_table(ctx: ReportContext) -> str:
    """One row per customer: status at the as-of date and its inputs (``clientela status``),
    and every customer's status at the previous period's end, for the KPIs: both read from
    the status history's timeline when it reaches back to the previous period's end, else
    from one pass over the orders."""
    from clientela.load import drop_relation, temp_kind
    from clientela.status import TIMELINE, compute_status

    # the timeline is there when the history kept it (it reaches back to the earlier date)
    # and no earlier call dropped it
    _history(ctx)
    timeline = temp_kind(ctx.con, TIMELINE) == "TABLE"
    try:
        res = compute_status(
            ctx.loaded, _status_params(ctx), earlier=ctx.previous.end, from_timeline=timeline
        )
    finally:
        drop_relation(ctx.con, TIMELINE)
    ctx.metadata["status"] = res.metadata()
    _keep(ctx, "status_summary", "report_status_summary")
    return _keep(ctx, "status", "report_status")


def status_history_table(ctx: ReportContext) -> str:
    """Customers per status at the end of each of the last ``history_periods`` periods."""
    from clientela.load import drop_relation
    from clientela.status import TIMELINE

    res = _history(ctx)
    drop_relation(ctx.con, TIMELINE)  # read by the status table, made before this one
    if isinstance(res, Exception):
        raise res
    ctx.metadata["status_history"] = res.metadata()
    _keep(ctx, "status_history_wide", "report_status_history_wide")
    return _keep(ctx, "status_history", "report_status_history")


def churn_table(ctx: ReportContext) -> str:
    """One row per customer with a purchase: churned by the threshold rule (no purchase for
    more than ``churn_days`` days), the rule, days since the last purchase (``clientela
    churn``)."""
    from clientela.churn import ChurnParams, compute_churn

    res = compute_churn(ctx.loaded, ChurnParams(churn_days=ctx.params.churn_threshold))
    ctx.metadata["churn"] = res.metadata()
    return _keep(ctx, "churn", "report_churn")


@dataclass(frozen=True)
class TableSpec:
    """A report table: its file stem, the function that makes it, and the analysis step."""

    name: str
    make: Callable[[ReportContext], str]
    step: str


TABLES: tuple[TableSpec, ...] = (
    TableSpec("rfm", rfm_table, "rfm"),
    TableSpec("segments", segments_table, "rfm"),
    TableSpec("cohorts", cohorts_table, "cohorts"),
    TableSpec("cohorts_long", cohorts_long_table, "cohorts"),
    TableSpec("retention_trend", retention_trend_table, "cohorts"),
    TableSpec("status", status_table, "status"),
    TableSpec("status_history", status_history_table, "status"),
    TableSpec("churn", churn_table, "churn"),
)


@dataclass
class BuiltTable:
    name: str
    duck: str  # the DuckDB table holding it
    rows: int
    columns: list[tuple[str, str]]  # (name, type)


def build_tables(ctx: ReportContext, step: Step) -> list[BuiltTable]:
    """Run every table function (grouped by analysis step) and describe the result.

    An analysis that finds nothing to compute on this data (an :class:`InputDataError`, or a
    :class:`UsageError` once the options were checked, such as cohorts or a status history
    without one complete period) leaves its tables out with a note; RFM is the
    report's base and its errors stop the run."""
    from clientela.load import DAYS, drop_relation
    from clientela.status import TIMELINE

    try:
        return _build_tables(ctx, step)
    finally:
        drop_relation(ctx.con, DAYS)  # made by the history for churn too
        drop_relation(ctx.con, TIMELINE)  # (the status table drops it; also after an error)


#: the order the steps run in: status first, because RFM takes its values from the status
#: rows (ReportContext._rfm_values); the tables keep the order of TABLES
STEP_ORDER = ("status", "rfm", "cohorts", "churn")


def _build_tables(ctx: ReportContext, step: Step) -> list[BuiltTable]:
    out: list[BuiltTable] = []
    left_out: list[tuple[str, str]] = []  # (table, note)
    steps = [*STEP_ORDER, *(s.step for s in TABLES if s.step not in STEP_ORDER)]
    for spec_step in dict.fromkeys(steps):
        with step(spec_step):
            for spec in (s for s in TABLES if s.step == spec_step):
                try:
                    duck = spec.make(ctx)
                except (InputDataError, UsageError) as e:  # options were checked up front
                    if spec.step == "rfm":
                        raise
                    left_out.append((spec.name, f"{spec.name}: left out ({e.message})"))
                    continue
                cols = [
                    (str(r[0]), str(r[1])) for r in ctx.con.execute(f"DESCRIBE {duck}").fetchall()
                ]
                row = ctx.con.execute(f"SELECT count(*) FROM {duck}").fetchall()
                out.append(BuiltTable(spec.name, duck, int(row[0][0]), cols))
    order = [s.name for s in TABLES]
    for name, note in sorted(left_out, key=lambda x: order.index(x[0])):
        ctx.notes.append(note)
        ctx.missing.append(name)
    # the manifest lists the analyses in this order too
    ranked = sorted(ctx.metadata.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order
                    else len(order))  # fmt: skip
    ctx.metadata.clear()
    ctx.metadata.update(ranked)
    return sorted(out, key=lambda t: order.index(t.name))


# ------------------------------------------------------------------------------- KPIs


def _num(v: Any) -> float:
    return float(v) if v is not None else 0.0


def _kpi(value: float | int, previous: float | int | None, *, rate: bool = False) -> dict[str, Any]:
    """A KPI with its previous-period value and the change (points for rates)."""
    out: dict[str, Any] = {"value": value, "previous": previous}
    if previous is None:
        out["change"] = None
    elif rate:
        out["change"] = round(float(value) - float(previous), 4)
    elif isinstance(value, int) and isinstance(previous, int):
        out["change"] = value - previous
    else:
        out["change"] = round(float(value) - float(previous), 2)
    if not rate:
        out["change_rate"] = (
            round((float(value) - float(previous)) / abs(float(previous)), 4)
            if previous not in (None, 0)
            else None
        )
    return out


# The per-customer KPIs at the as-of date and at the previous period's end are read from
# the status rows of both dates (sql/status_two_dates.sql, one pass; compute_status leaves
# them in _KPI_TABLE, and the views status and _st_exact read it, so it stays): purchases,
# net revenue (exact) and the last purchase day up to each date, for every customer with an
# order up to it (and CRM prospects, who have no purchase).
_KPI_TABLE = "status_at_dates"

# customers with a purchase up to the date, and those with two or more
_BUYER_SQL = f"""
SELECT count(*) FILTER (WHERE purchases > 0), count(*) FILTER (WHERE purchases >= 2)
FROM {_KPI_TABLE} WHERE as_of = $day
"""

# net revenue per customer with a purchase up to the date (the values of rfm.monetary at
# that date): the top ceil(share * n) customers' sum against all. The sum of the k largest
# values is the sum of the values above the k-th largest, c, plus c once for each place
# left (ties at c have equal values, so which of them are taken does not change the sum);
# c is an order statistic (quantile_disc picks index ceil(q * n) - 1, so q = (n - k + 0.5)
# / n gives index n - k, the k-th largest), found without sorting every customer.
_TOP_SQL = f"""
WITH v AS (
    SELECT CAST(CAST(revenue AS DOUBLE) AS DECIMAL(38, 6)) AS r
    FROM {_KPI_TABLE} WHERE as_of = $day AND purchases > 0
), cut AS (
    SELECT quantile_disc(r, $q) AS c FROM v
)
SELECT coalesce(sum(v.r) FILTER (WHERE v.r > cut.c), 0)
           + ($k - count(*) FILTER (WHERE v.r > cut.c)) * cut.c,
       sum(v.r)
FROM v, cut
GROUP BY cut.c
"""

_REVENUE_SQL = """
SELECT coalesce(CAST(sum(CAST(amount AS DECIMAL(38, 6))) AS DOUBLE), 0)
FROM orders WHERE order_date BETWEEN $start AND $end
"""


def _top_share(con: duckdb.DuckDBPyConnection, day: dt.date) -> float | None:
    """The top-20% revenue share at ``day`` (the as-of date or the previous period's end)."""
    ((n,),) = con.execute(
        f"SELECT count(*) FROM {_KPI_TABLE} WHERE as_of = $day AND purchases > 0", {"day": day}
    ).fetchall()
    if not n:
        return None
    k = math.ceil(TOP_SHARE * int(n))
    top, total = con.execute(
        _TOP_SQL, {"k": k, "q": (int(n) - k + 0.5) / int(n), "day": day}
    ).fetchall()[0]
    if total is None or _num(total) <= 0:
        return None
    return round(_num(top) / _num(total), 4)


def _ensure_kpi_rows(ctx: ReportContext) -> None:
    """The status rows of both dates: status_table made them; made here when it did not
    run or was left out (status.sql itself needs no purchase to run), never taken from an
    earlier computation on the connection."""
    if "status" in ctx.metadata and "status" not in ctx.missing:
        return
    from clientela.status import _prepare, _status_table

    _prepare(ctx.con, ctx.loaded.report.crm is not None)
    _status_table(ctx.con, _KPI_TABLE, ctx.as_of, _status_params(ctx), ctx.previous.end)


def compute_kpis(ctx: ReportContext) -> dict[str, Any]:
    """The KPIs of ``summary.json`` in the issue's order (definitions in docs/report.md)."""
    con = ctx.con
    _ensure_kpi_rows(ctx)
    kpis: dict[str, Any] = {}
    now = con.execute(_BUYER_SQL, {"day": ctx.as_of}).fetchall()[0]
    before = con.execute(_BUYER_SQL, {"day": ctx.previous.end}).fetchall()[0]
    kpis["customers"] = _kpi(int(now[0]), int(before[0]))
    kpis.update(status_kpis(ctx))
    kpis["churned_in_period"] = _kpi(
        churned_between(con, ctx, ctx.current), churned_between(con, ctx, ctx.previous)
    )
    rev = _num(con.execute(_REVENUE_SQL, _bounds(ctx.current)).fetchall()[0][0])
    rev_prev = _num(con.execute(_REVENUE_SQL, _bounds(ctx.previous)).fetchall()[0][0])
    kpis["revenue"] = _kpi(round(rev, 2), round(rev_prev, 2))
    rpr = round(int(now[1]) / int(now[0]), 4) if now[0] else 0.0
    rpr_prev = round(int(before[1]) / int(before[0]), 4) if before[0] else None
    kpis["repeat_purchase_rate"] = _kpi(rpr, rpr_prev, rate=True)
    kpis["retention_last_complete_cohort"] = retention_kpis(ctx)
    top = _top_share(con, ctx.as_of)
    kpis["top20_revenue_share"] = _kpi(top or 0.0, _top_share(con, ctx.previous.end), rate=True)
    con.execute("SELECT 1").fetchall()
    return kpis


KPI_STATUSES = ("active", "new", "reactivated", "at_risk", "inactive", "vip")


def status_kpis(ctx: ReportContext) -> dict[str, Any]:
    """Customers per status at the as-of date (the status table) and at the previous
    period's end (the same pass's rows at that date)."""
    if "status" in ctx.missing:
        return {}
    now = dict(
        ctx.con.execute("SELECT status, count(*) FROM report_status GROUP BY status").fetchall()
    )
    before = dict(
        ctx.con.execute(
            f"SELECT status, count(*) FROM {_KPI_TABLE} WHERE as_of = $day "
            "AND status IS NOT NULL GROUP BY status",
            {"day": ctx.previous.end},
        ).fetchall()
    )
    return {k: _kpi(int(now.get(k, 0)), int(before.get(k, 0))) for k in KPI_STATUSES}


# customers whose last purchase up to the window's end is more than $days days before it,
# and was not yet so at the day before the window (the previous window's end): their
# silence crossed the threshold in the window (the threshold rule of clientela churn). The
# last purchase up to the window's end is the status rows' at that date.
_CHURNED_SQL = f"""
SELECT count(*) FROM {_KPI_TABLE}
WHERE as_of = $end
  AND last_purchase IS NOT NULL
  AND date_diff('day', last_purchase, $end) > $days
  AND NOT (last_purchase <= $before AND date_diff('day', last_purchase, $before) > $days)
"""


def _bounds(w: Window) -> dict[str, dt.date]:
    return {"start": w.start, "end": w.end}


def churned_between(con: duckdb.DuckDBPyConnection, ctx: ReportContext, w: Window) -> int:
    """Customers who became churned (no purchase for more than the churn threshold) in the
    window ``w`` (the current period or the previous one)."""
    before = w.start - dt.timedelta(days=1)
    row = con.execute(
        _CHURNED_SQL, {"before": before, "end": w.end, "days": ctx.params.churn_threshold}
    ).fetchall()
    return int(row[0][0])


def retention_kpis(ctx: ReportContext) -> dict[str, Any]:
    """Month-k retention (k = 1, 3, 6) of the last monthly cohort whose month k is complete,
    and of the cohort before it (for the change)."""
    if "cohorts_long" in ctx.missing:
        return {f"month_{k}": None for k in RETENTION_MONTHS}
    if ctx.params.cohort_period == "month":
        table = "report_cohorts_long"
    else:  # the KPI is about months whatever the cohort tables use
        from clientela.cohorts import CohortParams, compute_cohorts

        compute_cohorts(
            ctx.loaded,
            CohortParams(period="month", shape="long", max_periods=max(RETENTION_MONTHS)),
        )
        table = _keep(ctx, "cohorts", "_report_month_cohorts")
    out: dict[str, Any] = {}
    for k in RETENTION_MONTHS:
        rows = ctx.con.execute(
            f"SELECT strftime(cohort, '%Y-%m'), cohort_size, value, rate FROM {table} "
            "WHERE period_index = ? AND NOT coalesce(partial, false) AND rate IS NOT NULL "
            "ORDER BY cohort DESC LIMIT 2",
            [k],
        ).fetchall()
        if not rows:
            out[f"month_{k}"] = None
            continue
        cohort, size, retained, rate = rows[0]
        prev = rows[1] if len(rows) > 1 else None
        rate = round(float(rate), 4)
        prev_rate = round(float(prev[3]), 4) if prev else None
        out[f"month_{k}"] = {
            "cohort": cohort,
            "cohort_size": int(size),
            "retained": int(retained),
            "rate": rate,
            "previous_cohort": prev[0] if prev else None,
            "previous_rate": prev_rate,
            "change": round(rate - prev_rate, 4) if prev_rate is not None else None,
        }
    return out


# ---------------------------------------------------------------------------- folder


_STAGE_RE = re.compile(r"\.clientela-(\d+)-")


def check_target(out_dir: str, overwrite: bool, inputs: Sequence[str]) -> Path:
    """Refuse an unusable ``--out-dir`` before any work is done."""
    target = Path(out_dir)
    if target.exists() and not target.is_dir():
        raise OutputError(f"--out-dir {out_dir}: is a file; give a folder")
    if target.is_dir() and any(target.iterdir()) and not overwrite:
        raise OutputError(
            f"--out-dir {out_dir}: the folder exists and is not empty; add --overwrite to "
            "replace it, or choose another folder"
        )
    resolved = target.resolve()
    for item in inputs:
        if item == "-":
            continue
        p = Path(item).resolve()
        if p == resolved or resolved in p.parents:
            raise OutputError(
                f"--out-dir {out_dir}: the input {item} is inside it; the report folder is "
                "replaced as a whole, so choose another folder"
            )
        if Path(item).is_dir() and p in resolved.parents:
            raise OutputError(
                f"--out-dir {out_dir}: it is inside the input directory {item}; a later run "
                "would read the report as input. Write it elsewhere"
            )
    return target


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def remove_stale_stages(target: Path) -> list[Path]:
    """Remove temporary siblings of ``target`` left by runs that were killed."""
    parent = target.parent if str(target.parent) else Path(".")
    removed: list[Path] = []
    if not parent.is_dir():
        return removed
    prefix = f".{target.name}.clientela-"
    for p in parent.iterdir():
        if not p.name.startswith(prefix):
            continue
        m = _STAGE_RE.search(p.name[len(target.name) + 1 :])
        if m and not _alive(int(m.group(1))) and p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    return removed


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2(RENAME_EXCHANGE)``); False if unsupported."""
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    rc = fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return bool(rc == 0)


@contextlib.contextmanager
def staged_folder(target: Path, overwrite: bool) -> Iterator[Path]:
    """Yield an empty temporary sibling of ``target``; on success it replaces ``target``."""
    parent = target.parent if str(target.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"--out-dir {target}: cannot create {parent}: {e.strerror}") from e
    remove_stale_stages(target)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.clientela-{os.getpid()}-", dir=parent))
    except OSError as e:
        raise OutputError(f"--out-dir {target}: cannot write in {parent}: {e.strerror}") from e
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes 0700: give an ordinary folder
        _into_place(tmp, target, overwrite)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _into_place(tmp: Path, target: Path, overwrite: bool) -> None:
    if target.is_dir() and any(target.iterdir()):
        if not overwrite:  # appeared while the report was being computed
            raise OutputError(
                f"--out-dir {target}: the folder exists and is not empty; add --overwrite"
            )
        if _exchange(tmp, target):
            shutil.rmtree(tmp, ignore_errors=True)  # tmp now holds the old report
            return
        old = Path(
            tempfile.mkdtemp(prefix=f".{target.name}.clientela-{os.getpid()}-old-", dir=tmp.parent)
        )
        os.replace(target, old / "x")
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
        return
    os.replace(tmp, target)  # onto nothing, or onto an empty folder


# ---------------------------------------------------------------------------- writing


def _json_bytes(data: Any) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n").encode("utf-8")


def write_tables(
    con: duckdb.DuckDBPyConnection,
    tables: list[BuiltTable],
    folder: Path,
    params: ReportParams,
    metadata: dict[str, Any],
) -> dict[str, int]:
    """Each table as ``NAME.parquet`` / ``NAME.csv`` (rows by file name)."""
    from clientela.output import WriteOptions, write

    rows: dict[str, int] = {}
    for t in tables:
        for fmt in params.formats:
            name = f"{t.name}.{fmt}"
            meta = {"clientela_table": t.name, "as_of": metadata.get("as_of")}
            res = write(
                con,
                f"SELECT * FROM {t.duck}",
                (),
                str(folder / name),
                fmt,
                WriteOptions(csv_locale=params.csv_locale, metadata=meta),
            )
            rows[name] = res.rows
    return rows


def _input_files(loaded: Loaded, customers: str | None) -> list[tuple[str, str]]:
    """(path as shown, role) of every input: the order files and the CRM file(s)."""
    import glob

    paths = [(f.path, "orders") for f in loaded.report.files]
    if customers:
        p = Path(customers)
        found = (
            sorted(str(x) for x in p.rglob("*") if x.is_file() and not x.name.startswith("."))
            if p.is_dir()
            else [customers]
            if p.exists()
            else sorted(glob.glob(customers, recursive=True))
        )
        paths += [(x, "customers") for x in found]
    return paths


def _input_entries(
    loaded: Loaded, paths: list[tuple[str, str]], digests: dict[str, str]
) -> list[dict[str, Any]]:
    """The manifest's inputs: path, role, size and sha256 (None for stdin)."""
    out: list[dict[str, Any]] = []
    for shown, role in paths:
        p = Path(shown)
        if p.is_file():
            out.append(
                {"path": shown, "role": role, "bytes": p.stat().st_size, "sha256": digests[shown]}
            )
        else:  # stdin
            size = next((f.size for f in loaded.report.files if f.path == shown), None)
            out.append({"path": shown, "role": role, "bytes": size, "sha256": None})
    return out


@dataclass
class ReportResult:
    folder: Path
    as_of: dt.date
    files: list[str]
    tables: dict[str, int]  # table name -> rows
    kpis: dict[str, Any]
    seconds: float
    notes: list[str] = field(default_factory=list)


def build_report(
    loaded: Loaded,
    params: ReportParams,
    out_dir: str,
    *,
    overwrite: bool = False,
    inputs: Sequence[str] = (),
    load_options: dict[str, Any] | None = None,
    step: Step | None = None,
    started: float | None = None,
    started_at: dt.datetime | None = None,
    pseudonym_key: bytes | None = None,
) -> ReportResult:
    """Compute the report on ``loaded`` and write it to ``out_dir``. See the module docstring.

    With ``pseudonym_key`` every table's ``customer_id`` is replaced by its keyed pseudonym
    (:mod:`clientela.pii`) before anything is written."""
    from clientela import __version__

    params.validate()
    step = step or (lambda _name: contextlib.nullcontext())
    t0 = time.perf_counter() if started is None else started
    started_at = started_at or dt.datetime.now(dt.timezone.utc)
    target = check_target(out_dir, overwrite, inputs)
    as_of = loaded.report.as_of
    if as_of is None:  # pragma: no cover - load always sets it
        raise InputDataError("no as-of date could be determined")
    current, previous = report_windows(as_of, params.period)
    ctx = ReportContext(loaded, params, as_of, current, previous)
    _status_params(ctx).validate()  # usage errors now; later ones come from the data
    tables = build_tables(ctx, step)
    from clientela.load import personal_columns

    personal = personal_columns(loaded)  # recorded in the manifest (LGPD)
    with step("kpis"):
        kpis = compute_kpis(ctx)
    if pseudonym_key is not None:  # after the KPIs, which join tables to orders
        from clientela.pii import hmac_sql, install_key

        install_key(ctx.con, pseudonym_key)
        for duck in dict.fromkeys(
            t.duck for t in tables if any(name == "customer_id" for name, _ in t.columns)
        ):  # each DuckDB table once (two report tables may share one)
            ctx.con.execute(
                f"CREATE OR REPLACE TEMP TABLE {duck} AS SELECT * REPLACE "
                f"({hmac_sql('customer_id')} AS customer_id) FROM {duck}"
            )
    summary = {
        "clientela_report": REPORT_SCHEMA,
        "as_of": as_of.isoformat(),
        "lang": params.lang,
        "period": {"unit": params.period, **current.to_dict()},
        "previous_period": previous.to_dict(),
        "kpis": kpis,
    }
    metadata = {"as_of": as_of.isoformat(), **ctx.metadata}
    import warnings

    from clientela import report_html

    data = page_data(ctx, tables, summary)  # what the page shows, read from DuckDB now
    # The page is drawn (matplotlib, pure Python) in a thread while DuckDB writes the
    # tables (it releases the GIL while it works); it is written after them. Plotting
    # warnings never reach stderr (a cron job's log is for errors); the filter is set here,
    # in the main thread, because warning filters are process-wide.
    with staged_folder(target, overwrite) as folder:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            page = report_html.Drawing(data)
            try:
                with step("tables"):
                    rows = write_tables(ctx.con, tables, folder, params, metadata)
                with step("workbook"):
                    write_workbook(ctx, tables, summary, folder / WORKBOOK)
                with step("page"):
                    html = page.result()
            except BaseException:  # (Ctrl-C included) no waiting for the rest of the page
                page.cancel()
                raise
            (folder / HTML).write_bytes(html.encode("utf-8"))
        (folder / SUMMARY).write_bytes(_json_bytes(summary))
        with step("manifest"):
            written = sorted(folder.iterdir())
            sources = _input_files(loaded, (load_options or {}).get("customers"))
            read = [shown for shown, _ in sources if Path(shown).is_file()]
            digests = sha256_files([*(str(p) for p in written), *read])
            outputs = [
                {
                    "path": p.name,
                    "bytes": p.stat().st_size,
                    "sha256": digests[str(p)],
                    **({"rows": rows[p.name]} if p.name in rows else {}),
                }
                for p in written
            ]
            seconds = round(time.perf_counter() - t0, 3)
            r = loaded.report
            manifest = {
                "clientela_version": __version__,
                "report_schema": REPORT_SCHEMA,
                "as_of": as_of.isoformat(),
                "parameters": {"report": params.to_dict(), "load": load_options or {}},
                "inputs": _input_entries(loaded, sources, digests),
                "rows": {
                    "read": r.rows["read"],
                    "used": r.rows["used"],
                    "dropped": {k: v for k, v in r.rows.items() if k not in ("read", "used")},
                },
                "orders": {k: v for k, v in r.orders.items() if k != "load_seconds"},
                "mapping": {role: c.source for role, c in r.mapping.items()},
                "tz": r.tz,
                "warnings": [w.code for w in r.warnings],
                "analyses": ctx.metadata,
                "personal_data": {
                    "pseudonymized": pseudonym_key is not None,
                    "columns_in_inputs": personal,
                },
                "tables": {t.name: t.rows for t in tables},
                "notes": ctx.notes,
                "outputs": outputs,
                "run": {
                    "started_at": started_at.isoformat(timespec="seconds"),
                    "finished_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                    "seconds": seconds,
                },
            }
            (folder / MANIFEST).write_bytes(_json_bytes(manifest))
        files = sorted(p.name for p in folder.iterdir())
    tables_rows = {t.name: t.rows for t in tables}
    return ReportResult(target, as_of, files, tables_rows, kpis, seconds, ctx.notes)


# ------------------------------------------------------------------------------ labels

LABELS: dict[str, dict[str, str]] = {
    "en": {
        **KPI_NAMES["en"],
        "previous_period": "previous period",
        "vs_previous": "vs previous period",
        "summary": "Summary",
        "kpi": "KPI",
        "value": "Value",
        "previous": "Previous",
        "change": "Change",
        "change_rate": "Change %",
        "retention_month": "Retention at month {k}",
        "cohort": "cohort",
        "sheet_rfm": "RFM",
        "sheet_segments": "Segments",
        "sheet_cohorts": "Cohorts",
        "sheet_cohorts_long": "Cohorts (long)",
        "sheet_retention_trend": "Retention trend",
        "sheet_status": "Status",
        "sheet_status_history": "Status history",
        "sheet_churn": "Churn",
        "too_many_rows": "{rows:,} rows: more than the workbook takes (--xlsx-max-rows "
        "{limit:,}); see {file}",
        "generated_by": "Generated by clientela {version}",
        "inputs": "Inputs",
        "rows_read": "Rows read",
        "rows_used": "Rows used",
    },
    "pt": {
        **KPI_NAMES["pt"],
        "previous_period": "período anterior",
        "vs_previous": "vs período anterior",
        "summary": "Resumo",
        "kpi": "Indicador",
        "value": "Valor",
        "previous": "Anterior",
        "change": "Variação",
        "change_rate": "Variação %",
        "retention_month": "Retenção no mês {k}",
        "cohort": "coorte",
        "sheet_rfm": "RFM",
        "sheet_segments": "Segmentos",
        "sheet_cohorts": "Coortes",
        "sheet_cohorts_long": "Coortes (longo)",
        "sheet_retention_trend": "Tendência de retenção",
        "sheet_status": "Status",
        "sheet_status_history": "Histórico de status",
        "sheet_churn": "Churn",
        "too_many_rows": "{rows:,} linhas: mais do que a planilha recebe (--xlsx-max-rows "
        "{limit:,}); veja {file}",
        "generated_by": "Gerado por clientela {version}",
        "inputs": "Entradas",
        "rows_read": "Linhas lidas",
        "rows_used": "Linhas usadas",
    },
}

#: column headers of the workbook in Portuguese (files keep the English column names)
COLUMNS_PT: dict[str, str] = {
    "customer_id": "cliente",
    "first_purchase": "primeira_compra",
    "last_purchase": "ultima_compra",
    "recency_days": "dias_desde_ultima",
    "frequency": "frequencia",
    "monetary": "valor",
    "avg_order_value": "ticket_medio",
    "segment": "segmento",
    "segment_label": "nome_segmento",
    "customers": "clientes",
    "share_customers": "parcela_clientes",
    "revenue": "receita",
    "share_revenue": "parcela_receita",
    "mean_recency_days": "media_dias_desde_ultima",
    "mean_frequency": "media_frequencia",
    "mean_monetary": "media_valor",
    "suggested_action": "acao_sugerida",
    "cohort": "coorte",
    "cohort_size": "tamanho_coorte",
    "period_index": "indice_periodo",
    "period_start": "inicio_periodo",
    "period": "periodo",
    "value": "valor",
    "rate": "taxa",
    "status": "status",
    "status_label": "nome_status",
    "churned": "perdido",
    "rule": "regra",
    "is_vip": "vip",
    "days_since_last": "dias_desde_ultima",
    "purchases": "compras",
    "revenue_window": "receita_janela_vip",
    "previous_gap_days": "intervalo_anterior_dias",
    "period_end": "fim_periodo",
    "active": "ativos",
    "new": "novos",
    "returning": "recorrentes",
    "retained": "retidos",
    "reactivated": "reativados",
    "retention_rate": "taxa_retencao",
    "churn_rate": "taxa_churn",
    "net_revenue_retention": "retencao_liquida_receita",
    "partial": "parcial",
    "r_score": "nota_r",
    "f_score": "nota_f",
    "m_score": "nota_m",
    "rfm_score": "nota_rfm",
    "expected_gap_days": "intervalo_esperado_dias",
    "threshold_days": "limite_dias",
}


def label(lang: str, key: str, **kw: Any) -> str:
    text = LABELS[lang].get(key, LABELS["en"].get(key, key))
    return text.format(**kw) if kw else text


# ----------------------------------------------------------------------------- workbook

_PERCENT_RE = re.compile(r"(^share_|_share$|_rate$|^rate$|^retention|_pct$|^p_alive$)")
_MONEY_RE = re.compile(r"(revenue|monetary|amount|avg_order_value|clv|^value_net)")


def is_percent_column(name: str) -> bool:
    return bool(_PERCENT_RE.search(name))


def is_money_column(name: str) -> bool:
    return bool(_MONEY_RE.search(name)) and not is_percent_column(name)


def write_workbook(
    ctx: ReportContext, tables: list[BuiltTable], summary: dict[str, Any], path: Path
) -> None:
    """``clientela-report.xlsx``: a Summary sheet with the KPIs, then one sheet per table
    (typed cells, percent and money formats, heat-map colours on the cohort sheet)."""
    import xlsxwriter

    from clientela import __version__

    lang = ctx.params.lang
    wb = xlsxwriter.Workbook(
        str(path),
        {
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
            "constant_memory": True,  # rows are streamed to disk in order
            "default_date_format": "yyyy-mm-dd",
        },
    )
    created = dt.datetime.combine(ctx.as_of, dt.time())  # fixed: same inputs, same bytes
    wb.set_properties(
        {
            "title": label(lang, "title"),
            "created": created,
            "comments": label(lang, "generated_by", version=__version__),
        }
    )
    fmts = {
        "bold": wb.add_format({"bold": True}),
        "head": wb.add_format({"bold": True, "bottom": 1, "text_wrap": True, "valign": "top"}),
        "title": wb.add_format({"bold": True, "font_size": 14}),
        "int": wb.add_format({"num_format": "#,##0"}),
        "money": wb.add_format({"num_format": "#,##0.00"}),
        "num": wb.add_format({"num_format": "#,##0.00"}),
        "pct": wb.add_format({"num_format": "0.0%"}),
        "pp": wb.add_format(
            {
                "num_format": '+0.0" {0}";-0.0" {0}";0.0" {0}"'.format(
                    "p.p." if lang == "pt" else "pp"
                )
            }
        ),
        "signed_int": wb.add_format({"num_format": "+#,##0;-#,##0;0"}),
        "signed_money": wb.add_format({"num_format": "+#,##0.00;-#,##0.00;0.00"}),
        "date": wb.add_format({"num_format": "yyyy-mm-dd"}),
        "ts": wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}),
        "note": wb.add_format({"italic": True, "font_color": "#555555"}),
    }
    try:
        _summary_sheet(wb, fmts, ctx, summary)
        for t in tables:
            _table_sheet(wb, fmts, ctx, t)
    finally:
        wb.close()


def _summary_sheet(
    wb: Any, fmts: dict[str, Any], ctx: ReportContext, summary: dict[str, Any]
) -> None:
    lang = ctx.params.lang
    ws = wb.add_worksheet(label(lang, "summary"))
    ws.write_string(0, 0, label(lang, "title"), fmts["title"])
    ws.write_string(1, 0, label(lang, "as_of"))
    ws.write_datetime(1, 1, dt.datetime.combine(ctx.as_of, dt.time()), fmts["date"])
    ws.write_string(2, 0, label(lang, "period"))
    ws.write_string(2, 1, f"{ctx.current.start.isoformat()} – {ctx.current.end.isoformat()}")
    ws.write_string(3, 0, label(lang, "previous_period").capitalize())
    ws.write_string(3, 1, f"{ctx.previous.start.isoformat()} – {ctx.previous.end.isoformat()}")
    row = 5
    for j, key in enumerate(("kpi", "value", "previous", "change", "change_rate")):
        ws.write_string(row, j, label(lang, key), fmts["head"])
    for key, kpi, kind in kpi_rows(summary["kpis"]):
        row += 1
        ws.write_string(row, 0, kpi_label(lang, key, kpi))
        if kind == "pct":
            vf, cf = fmts["pct"], fmts["pp"]
        elif kind == "money":
            vf, cf = fmts["money"], fmts["signed_money"]
        else:
            vf, cf = fmts["int"], fmts["signed_int"]
        for j, k in ((1, "value"), (2, "previous"), (3, "change")):
            v = kpi.get(k)
            if v is not None:
                ws.write_number(
                    row,
                    j,
                    v * 100 if (k == "change" and kind == "pct") else v,
                    cf if k == "change" else vf,
                )
        if kpi.get("change_rate") is not None:
            ws.write_number(row, 4, kpi["change_rate"], fmts["pct"])
    ws.set_column(0, 0, 40)
    ws.set_column(1, 4, 14)
    r = ctx.loaded.report
    row += 2
    ws.write_string(row, 0, label(lang, "rows_read"))
    ws.write_number(row, 1, r.rows["read"], fmts["int"])
    ws.write_string(row + 1, 0, label(lang, "rows_used"))
    ws.write_number(row + 1, 1, r.rows["used"], fmts["int"])


def kpi_rows(kpis: dict[str, Any]) -> list[tuple[str, dict[str, Any], str]]:
    """(key, kpi, kind) in display order; kind is int, money or pct."""
    out: list[tuple[str, dict[str, Any], str]] = []
    for key, kpi in kpis.items():
        if key == "retention_last_complete_cohort":
            for k, r in kpi.items():
                if r is not None:
                    out.append(
                        (
                            k,
                            {
                                "value": r["rate"],
                                "previous": r.get("previous_rate"),
                                "change": r.get("change"),
                                "cohort": r["cohort"],
                            },
                            "pct",
                        )
                    )
        elif key in ("repeat_purchase_rate", "top20_revenue_share"):
            out.append((key, kpi, "pct"))
        elif key == "revenue":
            out.append((key, kpi, "money"))
        else:
            out.append((key, kpi, "int"))
    return out


def kpi_label(lang: str, key: str, kpi: dict[str, Any]) -> str:
    if key.startswith("month_"):
        text = label(lang, "retention_month", k=key.split("_", 1)[1])
        return f"{text} ({label(lang, 'cohort')} {kpi['cohort']})"
    return label(lang, key)


def _table_sheet(wb: Any, fmts: dict[str, Any], ctx: ReportContext, t: BuiltTable) -> None:
    lang = ctx.params.lang
    ws = wb.add_worksheet(label(lang, f"sheet_{t.name}")[:31])
    names = [c[0] for c in t.columns]
    heads = [COLUMNS_PT.get(n, n) if lang == "pt" else n for n in names]
    for j, h in enumerate(heads):
        ws.write_string(0, j, h, fmts["head"])
    ws.freeze_panes(1, 0)
    if t.rows > ctx.params.xlsx_max_rows:
        file = f"{t.name}.{ctx.params.formats[0]}"
        note = label(lang, "too_many_rows", rows=t.rows, file=file, limit=ctx.params.xlsx_max_rows)
        ws.write_string(1, 0, note, fmts["note"])
        return
    col_fmt: list[Any] = []
    heat = t.name == "cohorts"
    for name, typ in t.columns:
        if (heat and name.isdigit()) or is_percent_column(name):
            col_fmt.append(fmts["pct"])
        elif is_money_column(name) and (
            typ.upper() in ("DOUBLE", "FLOAT") or typ.startswith("DECIMAL")
        ):
            col_fmt.append(fmts["money"])
        elif typ.upper() in ("DOUBLE", "FLOAT"):
            col_fmt.append(fmts["num"])
        elif typ.upper() in ("BIGINT", "INTEGER", "HUGEINT", "SMALLINT", "UBIGINT"):
            col_fmt.append(fmts["int"])
        else:
            col_fmt.append(None)
    widths = [max(9, min(40, len(h) + 2)) for h in heads]
    cur = ctx.con.execute(f"SELECT * FROM {t.duck}")
    i = 0
    while batch := cur.fetchmany(10_000):
        for row in batch:
            i += 1
            for j, v in enumerate(row):
                _cell(ws, i, j, v, col_fmt[j], fmts)
                if i <= 200 and isinstance(v, str):
                    widths[j] = max(widths[j], min(60, len(v) + 2))
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    if heat and i:
        rate_cols = [j for j, n in enumerate(names) if n.isdigit()]
        if rate_cols:
            ws.conditional_format(
                1,
                rate_cols[0],
                i,
                rate_cols[-1],
                {
                    "type": "3_color_scale",
                    "min_color": "#f7fbff",
                    "mid_color": "#6baed6",
                    "max_color": "#08306b",
                    "min_type": "num",
                    "min_value": 0,
                    "mid_type": "percentile",
                    "mid_value": 50,
                    "max_type": "max",
                },
            )
    ws.autofilter(0, 0, max(i, 1), len(names) - 1)


def _cell(ws: Any, i: int, j: int, v: Any, fmt: Any, fmts: dict[str, Any]) -> None:
    import decimal

    if v is None:
        return
    if isinstance(v, bool):
        ws.write_boolean(i, j, v)
    elif isinstance(v, (int, float, decimal.Decimal)):
        if math.isfinite(v):
            ws.write_number(i, j, v, fmt)
        else:
            ws.write_string(i, j, str(v))
    elif isinstance(v, dt.datetime):
        ws.write_datetime(i, j, v.replace(tzinfo=None), fmts["ts"])
    elif isinstance(v, dt.date):
        ws.write_datetime(i, j, dt.datetime(v.year, v.month, v.day), fmts["date"])
    else:
        ws.write_string(i, j, str(v)[:32_767])


# --------------------------------------------------------------------------- page data


def page_data(
    ctx: ReportContext, tables: list[BuiltTable], summary: dict[str, Any]
) -> dict[str, Any]:
    """Everything the HTML page shows, as plain Python values (no DuckDB in report_html)."""
    from clientela import __version__

    con = ctx.con
    p = ctx.params
    rfm = ctx.rfm()
    seg_rows = con.execute(
        "SELECT segment, segment_label, customers, share_customers, revenue, share_revenue "
        "FROM rfm_summary ORDER BY revenue DESC, segment"
    ).fetchall()
    grid = con.execute(
        "SELECT r_score, f_score, count(*) AS n, mode(segment) AS seg FROM rfm "
        "GROUP BY ALL ORDER BY 1, 2"
    ).fetchall()
    segmap = rfm.segment_map
    mid = (p.bins + 1) // 2
    cell_segment = {
        (r, f): segmap.assign[(r, f, mid)]
        for r in range(1, p.bins + 1)
        for f in range(1, p.bins + 1)
    }
    counts = {(int(r), int(f)): int(n) for r, f, n, _ in grid}
    for r, f, _, seg in grid:
        cell_segment[(int(r), int(f))] = str(seg)
    labels = {sid: s.label(p.lang) for sid, s in segmap.segments.items()}
    return {
        "lang": p.lang,
        "version": __version__,
        "as_of": ctx.as_of.isoformat(),
        "period": ctx.current.to_dict(),
        "previous_period": ctx.previous.to_dict(),
        "period_unit": p.period,
        "kpis": summary["kpis"],
        "segments": [
            {
                "segment": s,
                "label": lab,
                "customers": int(c),
                "share_customers": float(sc),
                "revenue": _num(rv),
                "share_revenue": _num(sr),
            }
            for s, lab, c, sc, rv, sr in seg_rows
        ],
        "rfm_grid": {
            "bins": p.bins,
            "cells": [
                {
                    "r": r,
                    "f": f,
                    "segment": cell_segment[(r, f)],
                    "customers": counts.get((r, f), 0),
                }
                for r in range(1, p.bins + 1)
                for f in range(1, p.bins + 1)
            ],
            "labels": labels,
        },
        "rfm_cuts": rfm.cuts,
        "segment_map": segmap.name,
        "params": p.to_dict(),
        "tables": {t.name: t.rows for t in tables},
        "rows": ctx.loaded.report.rows,
        "definitions": definitions(ctx),
        "missing": ctx.missing,
        **_cohort_page_data(ctx, tables),
        **_status_page_data(ctx, tables),
    }


def _status_page_data(ctx: ReportContext, tables: list[BuiltTable]) -> dict[str, Any]:
    from clientela.report_html import t as text

    built = {t.name for t in tables}
    out: dict[str, Any] = {}
    lang = ctx.params.lang
    if "status" in built:
        rows = ctx.con.execute(
            "SELECT status, customers, revenue_window FROM report_status_summary"
        ).fetchall()
        out["status"] = [
            {
                "status": str(st),
                "label": text(lang, str(st)),
                "customers": int(n),
                "revenue": _num(rv),
            }
            for st, n, rv in rows
        ]
        days = ctx.params.vip_window_days
        out["status_revenue_note"] = (
            f"receita líquida dos últimos {days} dias"
            if lang == "pt"
            else f"net revenue of the last {days} days"
        )
    if "status_history" in built:
        cols = [
            str(r[0]) for r in ctx.con.execute("DESCRIBE report_status_history_wide").fetchall()
        ]
        statuses = [c for c in cols if c not in ("period", "period_end", "customers")]
        rows = ctx.con.execute(
            f"SELECT period, {', '.join(statuses)} FROM report_status_history_wide "
            "ORDER BY period_end"
        ).fetchall()
        out["status_history"] = {
            "periods": [str(r[0]) for r in rows],
            "series": [
                (st, text(lang, st), [float(r[i + 1] or 0) for r in rows])
                for i, st in enumerate(statuses)
            ],
        }
    return out


def _cohort_page_data(ctx: ReportContext, tables: list[BuiltTable]) -> dict[str, Any]:
    built = {t.name: t for t in tables}
    out: dict[str, Any] = {}
    con = ctx.con
    p = ctx.params
    if "cohorts" in built:
        t = built["cohorts"]
        ks = [c for c, _ in t.columns if c.isdigit()]
        cols = ", ".join(f'"{k}"' for k in ks)
        rows = con.execute(f"SELECT cohort, cohort_size, {cols} FROM {t.duck}").fetchall()
        from clientela.cohorts import AVERAGE_LABEL

        body = [r for r in rows if r[0] != AVERAGE_LABEL]
        avg = next((r for r in rows if r[0] == AVERAGE_LABEL), None)
        out["cohorts"] = {
            "period": p.cohort_period,
            "rows": [
                {
                    "cohort": str(r[0]),
                    "size": int(r[1]),
                    "rates": [None if v is None else float(v) for v in r[2:]],
                }
                for r in body[-PAGE_COHORTS:]
            ],
            "average": [None if v is None else float(v) for v in avg[2:]] if avg else [],
        }
    if "retention_trend" in built:
        rows = con.execute(
            "SELECT period, retention_rate, net_revenue_retention "
            f"FROM {built['retention_trend'].duck} ORDER BY period_start"
        ).fetchall()
        names = TREND_SERIES[p.lang]
        out["retention_trend"] = {
            "periods": [str(r[0]) for r in rows],
            "series": [
                (names[i], [None if r[i + 1] is None else float(r[i + 1]) for r in rows], color)
                for i, color in enumerate(("#2b6cb0", "#2f9e62"))
            ],
        }
    return out


PAGE_COHORTS = 12  # the page's heat map shows the most recent cohorts (the files hold all)
TREND_SERIES = {
    "en": ("retention rate", "net revenue retention"),
    "pt": ("taxa de retenção", "retenção líquida de receita"),
}


# --------------------------------------------------------------------------- definitions


def _cuts_words(cuts: dict[str, Any], lang: str) -> str:
    names = {"recency_days": "R", "frequency": "F", "monetary": "M"}
    days = "dias" if lang == "pt" else "days"
    parts = []
    for name, doc in cuts.items():
        th = doc.get("thresholds")
        if th is None:
            continue
        op = "≤" if name == "recency_days" else "≥"
        items = [
            f"{k} {op} {_plain(v, lang)}{' ' + days if name == 'recency_days' else ''}"
            for k, v in sorted(th.items(), key=lambda kv: -int(kv[0]))
            if v is not None
        ]
        parts.append(f"{names.get(name, name)}: {', '.join(items) or '1'}")
    return "; ".join(parts)


def _plain(v: Any, lang: str) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    text = f"{v:.2f}" if isinstance(v, float) else str(v)
    return text.replace(".", ",") if lang == "pt" else text


def definitions(ctx: ReportContext) -> list[tuple[str, str]]:
    """The definitions and thresholds of this report, in words, in the report's language."""
    p = ctx.params
    cur, prev = ctx.current, ctx.previous
    cuts = _cuts_words(ctx.rfm().cuts, p.lang) if ctx._rfm is not None else ""
    if p.lang == "pt":
        per = {"week": "a semana", "month": "o mês", "quarter": "o trimestre"}[p.period]
        out = [
            (
                "Data-base e período",
                f"Data-base {ctx.as_of} (inclusiva; pedidos posteriores são ignorados). O período "
                f"é {per} que termina na data-base ({cur.start} a {cur.end}); o período "
                f"anterior vai de {prev.start} a {prev.end}. As variações comparam os dois.",
            ),
            (
                "Cliente",
                "Quem tem ao menos uma compra (pedido de valor líquido positivo) até "
                "a data; estornos reduzem a receita e nunca contam como compra.",
            ),
            (
                "Receita",
                "Receita líquida (devoluções descontadas) dos pedidos com data no período.",
            ),
            ("Taxa de recompra", "Parcela dos clientes com duas ou mais compras até a data."),
            (
                "Receita dos 20% maiores",
                "Parcela da receita líquida (todo o histórico até a "
                "data) que vem dos 20% de clientes (arredondado para cima) com maior receita.",
            ),
            (
                "Notas RFM",
                f"Notas 1 a {p.bins} por quantis (valores iguais, notas iguais; a "
                f"maior nota é a melhor). Cortes usados: {cuts}. Mapa de segmentos: "
                f"{ctx.rfm().segment_map.name}, pelas notas R e F.",
            ),
        ]
    else:
        out = [
            (
                "As of and period",
                f"As of {ctx.as_of} (inclusive; later orders are ignored). The period is the "
                f"{p.period} ending on the as-of date ({cur.start} to {cur.end}); the previous "
                f"period runs from {prev.start} to {prev.end}. Changes compare the two.",
            ),
            (
                "Customer",
                "Anyone with at least one purchase (an order of positive net value) "
                "up to the date; refunds reduce revenue and never count as purchases.",
            ),
            (
                "Revenue",
                "Net revenue (refunds and returns subtracted) of the orders dated in the period.",
            ),
            (
                "Repeat purchase rate",
                "Share of customers with two or more purchases up to the date.",
            ),
            (
                "Revenue from the top 20%",
                "Share of net revenue (all history up to the date) "
                "that comes from the 20% of customers (rounded up) with the highest net revenue.",
            ),
            (
                "RFM scores",
                f"Scores 1 to {p.bins} by quantile (equal values get equal scores; "
                f"the highest score is the best). Cut points used: {cuts}. Segment map: "
                f"{ctx.rfm().segment_map.name}, by the R and F scores.",
            ),
        ]
    return out + _analysis_definitions(ctx)


def _analysis_definitions(ctx: ReportContext) -> list[tuple[str, str]]:
    p = ctx.params
    pt = p.lang == "pt"
    out: list[tuple[str, str]] = []
    share = p.vip_share if p.vip_share is not None else 0.1
    vip = (
        f"receita líquida de ao menos {_plain(p.vip_min_revenue, 'pt')} nos últimos "
        f"{p.vip_window_days} dias"
        if pt and p.vip_min_revenue is not None
        else f"os {_plain(100 * share, 'pt')}% de clientes com maior receita líquida nos "
        f"últimos {p.vip_window_days} dias (empates no corte incluídos)"
        if pt
        else f"net revenue of at least {p.vip_min_revenue} in the last {p.vip_window_days} days"
        if p.vip_min_revenue is not None
        else f"the top {_plain(100 * share, 'en')}% of customers by net revenue in the "
        f"last {p.vip_window_days} days (ties at the cut-off included)"
    )
    if "status" in ctx.metadata:
        if pt:
            text = (
                f"A primeira regra que vale decide: prospect (no CRM, sem compra); novo "
                f"(primeira compra há no máximo {p.new_days} dias); inativo (sem compra nos "
                f"últimos {p.inactive_days} dias); VIP ({vip}); reativado (última compra há no "
                f"máximo {p.active_days} dias, depois de mais de {p.inactive_days} dias sem "
                f"comprar); ativo (última compra há no máximo {p.active_days} dias); em risco "
                f"(última compra há {p.active_days + 1} a {p.inactive_days} dias)."
            )
            out.append(("Status", text))
        else:
            text = (
                f"The first rule that holds wins: prospect (in the CRM file, no purchase); new "
                f"(first purchase at most {p.new_days} days ago); inactive (no purchase in the "
                f"last {p.inactive_days} days); VIP ({vip}); reactivated (last purchase at most "
                f"{p.active_days} days ago, after more than {p.inactive_days} days without one); "
                f"active (last purchase at most {p.active_days} days ago); at risk (last "
                f"purchase {p.active_days + 1} to {p.inactive_days} days ago)."
            )
            out.append(("Status", text))
    days = p.churn_threshold
    if pt:
        out.append(
            (
                "Perdidos no período",
                f"Clientes sem compra há mais de {days} dias na "
                "data-base que ainda não estavam nessa situação no fim do período anterior.",
            )
        )
    else:
        out.append(
            (
                "Churned in the period",
                f"Customers with no purchase for more than {days} "
                "days at the as-of date who were not so at the end of the previous period.",
            )
        )
    if "cohorts" in ctx.metadata:
        per = {
            "week": ("week", "a semana", "na semana"),
            "month": ("month", "o mês", "no mês"),
            "quarter": ("quarter", "o trimestre", "no trimestre"),
        }[p.cohort_period]
        if pt:
            out.append(
                (
                    "Coortes",
                    f"Clientes agrupados por {per[1]} da primeira compra; a "
                    f"célula k é a parcela com compra {per[2]} k depois. A linha "
                    "'all cohorts' é a média ponderada pelo tamanho das coortes. O período "
                    "ainda incompleto da data-base fica de fora.",
                )
            )
            out.append(
                (
                    "Retenção no mês k",
                    "Das coortes mensais, a mais recente cujo mês k "
                    "já terminou: parcela dos clientes com compra no mês k, comparada com a "
                    "coorte anterior.",
                )
            )
        else:
            out.append(
                (
                    "Cohorts",
                    f"Customers grouped by the {per[0]} of their first purchase; "
                    f"cell k is the share with a purchase in the {per[0]} k later. The 'all "
                    "cohorts' row is the average weighted by cohort size. The as-of "
                    f"{per[0]}, still incomplete, is left out.",
                )
            )
            out.append(
                (
                    "Retention at month k",
                    "Of the monthly cohorts, the most recent whose "
                    "month k has ended: the share of its customers with a purchase in month "
                    "k, compared with the cohort before it.",
                )
            )
    if "retention_trend" in ctx.metadata:
        if pt:
            out.append(
                (
                    "Retenção ao longo do tempo",
                    "Por período: taxa de retenção = clientes "
                    "com compra neste período e no anterior / clientes com compra no "
                    "anterior; taxa de churn = 1 − retenção; retenção líquida de receita = "
                    "receita neste período dos clientes do anterior / a receita deles no "
                    "anterior.",
                )
            )
        else:
            out.append(
                (
                    "Retention over time",
                    "Per period: retention rate = customers with a "
                    "purchase in this period and the previous one / customers with a "
                    "purchase in the previous one; churn rate = 1 − retention rate; net "
                    "revenue retention = this period's net revenue of the previous period's "
                    "customers / their net revenue in the previous period.",
                )
            )
    return out
