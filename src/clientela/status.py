"""Customer status: new, active, at risk, inactive, VIP, reactivated or prospect, at one
date, over time (history), and between two dates (transitions).

Contract (DESIGN.md, Definitions: Status):
- :func:`compute_status` takes a loaded connection (``orders``, and ``customers`` with a
  CRM file) and :class:`StatusParams`, and creates the temp tables ``status`` (one row per
  customer: customer_id, status, is_vip, first_purchase, last_purchase, days_since_last,
  purchases, revenue, revenue_window, previous_gap_days, then the CRM columns asked for
  with ``keep``) and ``status_summary`` (one row per status). It returns a
  :class:`StatusResult` whose :meth:`~StatusResult.metadata` holds the thresholds, the VIP
  cut-off and a one-line rule per status. Nothing is printed.
- Status at the as-of date, first match wins: prospect (CRM customer without a purchase),
  new (first purchase within ``new_days``), inactive (no purchase within
  ``inactive_days``), vip, reactivated (last purchase within ``active_days`` after a gap
  longer than ``inactive_days``), active (last purchase within ``active_days``), at_risk.
  "Within N days" means days_since <= N. ``previous_gap_days`` is the number of days between
  the last purchase day and the purchase day before it (distinct calendar days).
- VIP: ``revenue_window`` is the net revenue of the orders at most ``vip_window_days`` days
  before the as-of date. With ``vip_share`` s, the population is the P customers with
  ``revenue_window > 0``; k = floor(s·P) (s exact to 6 decimals); VIPs are the customers
  whose RANK() by ``revenue_window`` (highest first) is at most k, so every customer tied
  with the k-th one is a VIP too (the VIP group can be larger than k, never smaller;
  equal revenue, equal treatment). With ``vip_min_revenue`` X: ``revenue_window >= X``.
  ``is_vip`` is that test alone; the status ``vip`` also needs the customer to be neither
  new nor inactive.
- :func:`compute_history` classifies every customer at the end of every complete period
  (ISO week, Monday to Sunday, or calendar month) from the first purchase's period (or
  ``since``) to the last period ending on or before the as-of date, in three set-based
  queries (sql/status_history_*.sql); a snapshot equals :func:`compute_status` at that
  date. It creates ``status_history`` (long: period, period_end, status, customers,
  share_customers, revenue_window) and ``status_history_wide`` (one row per period).
- :func:`compute_transitions` creates ``status_transitions``: from_status, to_status,
  customers, share_from and the net revenue between the two dates.
- :func:`status` and :func:`status_history` are the Python API, with the CLI's names and
  defaults, returning Polars DataFrames.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from clientela._callable import make_module_callable
from clientela.errors import InputDataError, UsageError
from clientela.sqlfiles import read_sql

if TYPE_CHECKING:
    import duckdb
    import polars as pl

    from clientela.load import Loaded, LoadOptions

#: the status history's timeline kept for the report's status at two dates
#: (:func:`compute_history` with ``status_dates``; sql/status_dated_timeline.sql reads it)
TIMELINE = "_sh_tl"

#: display order (summaries, history, transitions)
STATUSES = ("prospect", "new", "vip", "active", "reactivated", "at_risk", "inactive")
#: the order in which the rules are tried; the first that holds wins
PRECEDENCE = ("prospect", "new", "inactive", "vip", "reactivated", "active", "at_risk")
DEFAULT_VIP_SHARE = 0.1
STATUS_COLUMNS = (
    "customer_id", "status", "is_vip", "first_purchase", "last_purchase", "days_since_last",
    "purchases", "revenue", "revenue_window", "previous_gap_days",
)  # fmt: skip
EVERY = ("week", "month")
SHAPES = ("long", "wide")


@dataclass
class StatusParams:
    """The thresholds of ``clientela status`` (same names and defaults)."""

    new_days: int = 30
    active_days: int = 90
    inactive_days: int = 180
    vip_share: float | None = None  # default 0.1 unless vip_min_revenue is given
    vip_min_revenue: float | None = None
    vip_window_days: int = 365
    keep: Sequence[str] | None = None  # CRM columns carried into the output
    allow_pii: bool = False  # --allow-pii: personal columns may be kept

    def validate(self) -> None:
        for flag, value in (
            ("--new-days", self.new_days),
            ("--active-days", self.active_days),
            ("--inactive-days", self.inactive_days),
        ):
            if value < 0:
                raise UsageError(f"{flag} {value}: give a number of days, 0 or more")
        if self.vip_window_days < 1:
            raise UsageError(f"--vip-window-days {self.vip_window_days}: give 1 or more days")
        if self.active_days > self.inactive_days:
            raise UsageError(
                f"--active-days {self.active_days} is above --inactive-days "
                f"{self.inactive_days}: a customer is active before being at risk, and at "
                "risk before being inactive"
            )
        if self.vip_share is not None and self.vip_min_revenue is not None:
            raise UsageError(
                "--vip-share and --vip-min-revenue: give one of them (a share of the "
                "customers, or a revenue amount), not both"
            )
        if self.vip_share is not None:
            s = decimal.Decimal(str(self.vip_share))
            if not s.is_finite() or not 0 < s <= 1 or int(s.as_tuple().exponent) < -6:
                raise UsageError(
                    f"--vip-share {self.vip_share}: give a fraction above 0 and at most 1, "
                    "with at most 6 decimals (0.1 = the top 10%)"
                )
        if self.vip_min_revenue is not None and not 0 < self.vip_min_revenue < math.inf:
            raise UsageError(f"--vip-min-revenue {self.vip_min_revenue}: give an amount above 0")

    @property
    def share(self) -> decimal.Decimal | None:
        """The VIP share as an exact decimal (None with ``vip_min_revenue``)."""
        if self.vip_min_revenue is not None:
            return None
        return decimal.Decimal(str(self.vip_share if self.vip_share is not None
                                   else DEFAULT_VIP_SHARE))  # fmt: skip

    def thresholds(self) -> dict[str, Any]:
        return {
            "new_days": self.new_days,
            "active_days": self.active_days,
            "inactive_days": self.inactive_days,
            "vip_share": float(self.share) if self.share is not None else None,
            "vip_min_revenue": self.vip_min_revenue,
            "vip_window_days": self.vip_window_days,
        }

    def sql_params(self) -> dict[str, Any]:
        return {
            "new_days": self.new_days,
            "active_days": self.active_days,
            "inactive_days": self.inactive_days,
            "vip_window_days": self.vip_window_days,
            "vip_share": self.share,
            "vip_min_revenue": (
                decimal.Decimal(str(self.vip_min_revenue))
                if self.vip_min_revenue is not None
                else None
            ),
        }


def parse_keep(text: str | Sequence[str] | None) -> list[str] | None:
    """``--keep segment,consent`` -> ["segment", "consent"]."""
    if text is None:
        return None
    items = text.split(",") if isinstance(text, str) else list(text)
    out = [c.strip() for c in items if c.strip()]
    return out or None


def parse_date(value: str | dt.date | None, flag: str) -> dt.date | None:
    """A date option (YYYY-MM-DD or dd/mm/yyyy)."""
    if value is None or isinstance(value, dt.date):
        return value
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(value.strip(), fmt).date()
        except ValueError:
            continue
    raise UsageError(f"{flag} {value!r}: use a date YYYY-MM-DD")


# ------------------------------------------------------------------------------ rules


def _money(v: float) -> str:
    return f"{v:,.2f}"


def _share_text(share: decimal.Decimal) -> str:
    pct = share * 100
    return f"{pct.normalize():f}%"


def rules(
    params: StatusParams, as_of: dt.date | None = None, vip: dict[str, Any] | None = None
) -> dict[str, str]:
    """One line per status, in precedence order, with the thresholds used (and the dates
    they mean when ``as_of`` is given)."""
    p = params

    def before(days: int) -> str:
        return "" if as_of is None else f" (on or after {as_of - dt.timedelta(days=days)})"

    if p.share is not None:
        vip_rule = (
            f"top {_share_text(p.share)} of the customers with net revenue in the last "
            f"{p.vip_window_days} days, ranked by that revenue; customers tied at the "
            "cut-off are all VIPs"
        )
        if vip is not None and vip.get("cutoff") is not None:
            ties = vip["vip_customers"] - vip["top_count"]
            vip_rule += (
                f" (here the top {vip['top_count']:,} of {vip['population']:,}"
                f"{f', {ties:,} more tied' if ties > 0 else ''}: revenue_window >= "
                f"{_money(vip['cutoff'])})"
            )
        elif vip is not None:
            vip_rule += " (here none: too few customers with revenue in the window)"
    else:
        assert p.vip_min_revenue is not None
        vip_rule = (
            f"net revenue of at least {_money(p.vip_min_revenue)} in the last "
            f"{p.vip_window_days} days"
        )
    return {
        "prospect": "in the CRM file, no purchase yet",
        "new": f"first purchase at most {p.new_days} days ago{before(p.new_days)}",
        "inactive": f"no purchase in the last {p.inactive_days} days",
        "vip": vip_rule,
        "reactivated": (
            f"last purchase at most {p.active_days} days ago{before(p.active_days)}, after "
            f"more than {p.inactive_days} days without a purchase"
        ),
        "active": f"last purchase at most {p.active_days} days ago{before(p.active_days)}",
        "at_risk": f"last purchase {p.active_days + 1} to {p.inactive_days} days ago",
    }


# ------------------------------------------------------------------------ single date


@dataclass
class StatusResult:
    con: duckdb.DuckDBPyConnection
    as_of: dt.date
    params: StatusParams
    counts: dict[str, int]  # customers per status (display order)
    vip: dict[str, Any]  # population, top_count, vip_customers, cutoff
    without_purchase: int  # customers with orders but no purchase, not in the CRM file
    kept: dict[str, str]  # output column -> CRM column
    with_crm: bool
    warnings: list[str] = field(default_factory=list)

    @property
    def customers(self) -> int:
        return sum(self.counts.values())

    def rules(self) -> dict[str, str]:
        return rules(self.params, self.as_of, self.vip)

    def metadata(self) -> dict[str, Any]:
        """What the output's metadata holds (Parquet key-value, xlsx sheet, --meta JSON)."""
        return {
            "clientela_analysis": "status",
            "as_of": self.as_of.isoformat(),
            "thresholds": self.params.thresholds(),
            "precedence": list(PRECEDENCE if self.with_crm else PRECEDENCE[1:]),
            "rules": _rules_for(self.rules(), self.with_crm),
            "vip": self.vip,
            "customers": self.customers,
            "customers_by_status": self.counts,
            "customers_without_purchase": self.without_purchase,
            "kept_columns": self.kept,
            "warnings": self.warnings,
        }


def _rules_for(all_rules: dict[str, str], with_crm: bool) -> dict[str, str]:
    return {k: v for k, v in all_rules.items() if with_crm or k != "prospect"}


def _statuses(with_crm: bool) -> list[str]:
    return [s for s in STATUSES if with_crm or s != "prospect"]


def _prepare(con: duckdb.DuckDBPyConnection, with_crm: bool) -> None:
    """The CRM customer list and the status order, as tables the SQL files read. Without a
    CRM file the list is a view that is empty by construction (``WHERE false``), not an empty
    table: DuckDB then drops the prospect branches of the SQL files while planning (an
    empty table is still joined: 0.15 s of the history counts at 10M order lines)."""
    from clientela.load import drop_relation

    drop_relation(con, "_st_crm")
    if with_crm:
        con.execute("CREATE TEMP TABLE _st_crm AS SELECT customer_id FROM customers")
    else:
        con.execute(
            "CREATE TEMP VIEW _st_crm AS SELECT CAST(NULL AS VARCHAR) AS customer_id WHERE false"
        )
    names = _statuses(with_crm)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _st_statuses AS SELECT unnest($s) AS status, "
        "CAST(unnest(range(len($s))) AS INTEGER) AS ord",
        {"s": names},
    )


def _status_table(
    con: duckdb.DuckDBPyConnection,
    name: str,
    as_of: dt.date,
    p: StatusParams,
    earlier: dt.date | None = None,
    *,
    from_timeline: bool = False,
) -> None:
    """``name`` := sql/status.sql at ``as_of``; with ``earlier`` (a date before it),
    sql/status_two_dates.sql: both dates at once, told apart by the column as_of (exact
    DECIMAL money; status NULL for the customers left out), their values from one pass over
    the orders (sql/status_dated_orders.sql) or, with ``from_timeline``, from the cells of
    the status history's timeline holding each date (sql/status_dated_timeline.sql; the
    table ``TIMELINE``, made by :func:`compute_history` with ``status_dates``)."""
    params = {"as_of": as_of, **p.sql_params()}
    if earlier is None:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {read_sql('status')}", params)
        return
    if earlier >= as_of:
        raise ValueError(f"the second date {earlier} must be before {as_of}")
    dated = read_sql("status_dated_timeline" if from_timeline else "status_dated_orders")
    if from_timeline:
        del params["vip_window_days"]  # the timeline holds each date's window revenue
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {name} AS WITH {dated.rstrip()},\n"
        f"{read_sql('status_two_dates')}",
        {**params, "as_of_2": earlier},
    )


def _at_date(
    con: duckdb.DuckDBPyConnection, view: str, table: str, day: dt.date, classified: bool = False
) -> None:
    """``view`` := the rows of ``table`` (two dates, from :func:`_status_table`) at ``day``;
    with ``classified``, only the customers with a status (not those left out)."""
    from clientela.load import drop_relation

    drop_relation(con, view)
    con.execute(
        f"CREATE TEMP VIEW {view} AS SELECT * EXCLUDE (as_of) FROM {table} "
        f"WHERE as_of = DATE '{day.isoformat()}'"
        + (" AND status IS NOT NULL" if classified else "")
    )


def _as_of(loaded: Loaded) -> dt.date:
    as_of = loaded.report.as_of
    if as_of is None:  # pragma: no cover - load always sets it
        raise InputDataError("no as-of date could be determined")
    return as_of


def _keep_columns(
    loaded: Loaded, keep: Sequence[str] | None, allow_pii: bool = False
) -> dict[str, str]:
    """Output name -> CRM column for ``--keep`` (checked: the CRM file has it, and it is not
    personal data by name or content, unless ``allow_pii``)."""
    if not keep:
        return {}
    if loaded.report.crm is None:
        raise UsageError("--keep: needs a CRM file (--customers crm.csv) to take columns from")
    from clientela.columns import normalize
    from clientela.pii import detect_personal_columns, name_kind

    cols = [r[0] for r in loaded.con.execute("DESCRIBE customers").fetchall()]
    attrs = [c for c in cols if c != "customer_id"]
    out: dict[str, str] = {}
    for want in keep:
        found = want if want in attrs else next(
            (c for c in attrs if normalize(c) == normalize(want)), None
        )  # fmt: skip
        if found is None:
            raise UsageError(
                f"--keep {want!r}: the CRM file has no such column; its columns are: "
                f"{', '.join(attrs) or 'none'}"
            )
        personal = name_kind(found)
        if personal is None and not allow_pii:
            by_values = detect_personal_columns(loaded.con, "customers", [found])
            personal = (by_values[0].kind, by_values[0].reason) if by_values else None
        if personal is not None and not allow_pii:
            raise UsageError(
                f"--keep {found!r}: looks like personal data ({personal[1]}); the status "
                "table carries attributes such as consent or segment only; join on "
                "customer_id downstream, or add --allow-pii"
            )
        name = found if found not in STATUS_COLUMNS else f"crm_{found}"
        out[name] = found
    return out


def compute_status(
    loaded: Loaded,
    params: StatusParams | None = None,
    earlier: dt.date | None = None,
    *,
    from_timeline: bool = False,
) -> StatusResult:
    """Create ``status`` and ``status_summary`` in the loaded connection (module docstring).

    With ``earlier`` (a date before the as-of date) the same pass also classifies every
    customer at that date (sql/status_two_dates.sql): the temp table ``status_at_dates``
    then holds both dates' rows (sql/status.sql's columns after as_of, the date of the row:
    exact money, status NULL for the customers left out); the report's KPIs count the
    previous period's end from it. ``from_timeline``: both dates' values are read from the
    status history's timeline (``TIMELINE``, which the caller made with
    :func:`compute_history`'s ``status_dates`` and drops) instead of the orders."""
    from clientela.load import drop_relation, settle
    from clientela.sqlfiles import quote_ident

    p = params or StatusParams()
    p.validate()
    con = loaded.con
    as_of = _as_of(loaded)
    with_crm = loaded.report.crm is not None
    kept = _keep_columns(loaded, p.keep, p.allow_pii)
    _prepare(con, with_crm)
    if earlier is None:
        drop_relation(con, "_st_exact")
        _status_table(con, "_st_exact", as_of, p)
    else:
        _status_table(con, "status_at_dates", as_of, p, earlier, from_timeline=from_timeline)
        _at_date(con, "_st_exact", "status_at_dates", as_of)
    counts = dict(con.execute(
        "SELECT s.status, count(e.customer_id) FROM _st_statuses s LEFT JOIN _st_exact e "
        "USING (status) GROUP BY s.status, s.ord ORDER BY s.ord"
    ).fetchall())  # fmt: skip
    if sum(counts.values()) == 0:
        raise InputDataError(
            "no customer has a purchase (an order with positive net value) up to the as-of "
            f"date {as_of}; check --as-of, the amount column, or --zero-orders purchase"
        )
    vip_row = con.execute(
        "SELECT count(*) FILTER (WHERE revenue_window > 0), count(*) FILTER (WHERE is_vip), "
        "CAST(min(revenue_window) FILTER (WHERE is_vip) AS DOUBLE) FROM _st_exact "
        "WHERE status IS NOT NULL"
    ).fetchall()[0]
    share = p.share
    vip: dict[str, Any] = {
        "window_days": p.vip_window_days,
        "rule": "share" if share is not None else "min_revenue",
        "population": int(vip_row[0]),  # customers with revenue_window > 0
        "top_count": int(share * int(vip_row[0])) if share is not None else None,
        "vip_customers": int(vip_row[1]),  # is_vip: top_count plus the ties at the cut-off
        "cutoff": round(float(vip_row[2]), 2) if vip_row[2] is not None else None,
    }
    without = int(
        con.execute("SELECT count(*) FROM _st_exact WHERE status IS NULL").fetchall()[0][0]
    )
    extra = "".join(f", c.{quote_ident(src)} AS {quote_ident(out)}" for out, src in kept.items())
    join = " LEFT JOIN customers c ON c.customer_id = e.customer_id" if kept else ""
    # a view: rounded and sorted only when read (the terminal view reads just the summary)
    con.execute(
        "CREATE OR REPLACE TEMP VIEW status AS SELECT e.customer_id, e.status, e.is_vip, "
        "e.first_purchase, e.last_purchase, e.days_since_last, CAST(e.purchases AS BIGINT) AS "
        "purchases, round(CAST(e.revenue AS DOUBLE), 2) AS revenue, "
        "round(CAST(e.revenue_window AS DOUBLE), 2) AS revenue_window, "
        f"CAST(e.previous_gap_days AS BIGINT) AS previous_gap_days{extra} FROM _st_exact e"
        f"{join} WHERE e.status IS NOT NULL ORDER BY e.customer_id"
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE status_summary AS {read_sql('status_summary')}")
    warnings = []
    if without:
        warnings.append(
            f"{without:,} customers with orders but no purchase (only refunds or zero-value "
            "orders) are left out"
        )
    settle(con)
    return StatusResult(con, as_of, p, counts, vip, without, kept, with_crm, warnings)


# -------------------------------------------------------------------------- transitions


@dataclass
class TransitionResult:
    con: duckdb.DuckDBPyConnection
    from_date: dt.date
    to_date: dt.date
    params: StatusParams
    population_from: int
    entrants: int
    with_crm: bool

    def metadata(self) -> dict[str, Any]:
        return {
            "clientela_analysis": "status_transitions",
            "from": self.from_date.isoformat(),
            "to": self.to_date.isoformat(),
            "thresholds": self.params.thresholds(),
            "rules": _rules_for(rules(self.params), self.with_crm),
            "customers_at_from": self.population_from,
            "entrants": self.entrants,
            "definition": "from_status at the earlier date ('none': not yet a customer), "
            "to_status at the later one; revenue = net revenue of the orders after the "
            "earlier date up to the later one",
        }


def compute_transitions(
    loaded: Loaded,
    params: StatusParams | None = None,
    from_date: str | dt.date | None = None,
    to_date: str | dt.date | None = None,
) -> TransitionResult:
    """Create ``status_transitions`` between ``from_date`` and ``to_date`` (default: the
    as-of date)."""
    from clientela.load import settle

    p = params or StatusParams()
    p.validate()
    con = loaded.con
    as_of = _as_of(loaded)
    start = parse_date(from_date, "--from")
    end = parse_date(to_date, "--to") or as_of
    if start is None:
        raise UsageError("--from: give the earlier date of the transition matrix")
    if end > as_of:
        raise UsageError(
            f"--to {end}: after the as-of date {as_of} (later orders are not read); "
            "raise --as-of or choose an earlier --to"
        )
    if start >= end:
        raise UsageError(f"--from {start}: must be before --to {end}")
    with_crm = loaded.report.crm is not None
    _prepare(con, with_crm)
    _status_table(con, "_st_both", end, p, start)  # both dates in one pass
    for view, day in (("_st_from", start), ("_st_to", end)):
        _at_date(con, view, "_st_both", day, classified=True)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE status_transitions AS {read_sql('status_transitions')}"
    )
    row = con.execute(
        "SELECT (SELECT count(*) FROM _st_from), (SELECT count(*) FROM _st_to t WHERE NOT "
        "EXISTS (SELECT 1 FROM _st_from f WHERE f.customer_id = t.customer_id))"
    ).fetchall()[0]
    if int(row[0]) + int(row[1]) == 0:
        raise InputDataError(f"no customer has a purchase up to {end}")
    for v in ("_st_from", "_st_to"):
        con.execute(f"DROP VIEW IF EXISTS {v}")
    con.execute("DROP TABLE IF EXISTS _st_both")
    settle(con)
    return TransitionResult(con, start, end, p, int(row[0]), int(row[1]), with_crm)


# ------------------------------------------------------------------------------ history


def period_index(d: dt.date, every: str) -> int:
    """Snapshot index of the period holding ``d`` (the same numbers the SQL computes)."""
    if every == "week":
        return (d.toordinal() - 1) // 7  # 0001-01-01 is a Monday
    return d.year * 12 + d.month - 1


def period_end(i: int, every: str) -> dt.date:
    if every == "week":
        return dt.date.fromordinal(7 * i + 7)
    year, month = divmod(i, 12)
    nxt = dt.date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def period_label(i: int, every: str) -> str:
    end = period_end(i, every)
    if every == "week":
        iso = end.isocalendar()
        return f"{iso[0]}-W{iso[1]:02d}"
    return f"{end.year}-{end.month:02d}"


def _bucket_sql(cents: str) -> str:
    """A monotone bucket of a positive amount in whole cents (BIGINT): its number of digits
    and first three digits (below 1000 cents, the value itself). Only monotony matters (a
    larger amount never gets a smaller bucket): the cut-off itself is found among the exact
    values of one bucket. The cents come from DOUBLE arithmetic (correctly rounded, hence
    monotone; DECIMAL(38, 6) arithmetic is ~20x slower here)."""
    whens = [f"WHEN {cents} < 1000 THEN {cents}"]
    base = 1000
    for m in range(3, 18):
        whens.append(
            f"WHEN {cents} < {10 ** (m + 1)} THEN {base} + ({cents} - {10**m}) // {10 ** (m - 2)}"
        )
        base += 900
    return f"CASE {' '.join(whens)} ELSE {base} END"


@dataclass
class HistoryResult:
    con: duckdb.DuckDBPyConnection
    as_of: dt.date
    params: StatusParams
    every: str
    since: dt.date | None
    periods: int
    first_period_end: dt.date
    last_period_end: dt.date
    cutoffs: dict[str, float | None]  # period label -> VIP cut-off
    with_crm: bool
    timeline: bool = False  # TIMELINE was kept for the status at two dates

    def metadata(self) -> dict[str, Any]:
        return {
            "clientela_analysis": "status_history",
            "as_of": self.as_of.isoformat(),
            "every": self.every,
            "since": self.since.isoformat() if self.since else None,
            "periods": self.periods,
            "first_period_end": self.first_period_end.isoformat(),
            "last_period_end": self.last_period_end.isoformat(),
            "snapshot": "the status at the end of each complete period (ISO weeks, Monday "
            "to Sunday, or calendar months) ending on or before the as-of date",
            "thresholds": self.params.thresholds(),
            "precedence": list(PRECEDENCE if self.with_crm else PRECEDENCE[1:]),
            "rules": _rules_for(rules(self.params), self.with_crm),
            "vip_cutoff_by_period": self.cutoffs,
        }


def compute_history(
    loaded: Loaded,
    params: StatusParams | None = None,
    every: str = "month",
    since: str | dt.date | None = None,
    *,
    status_dates: tuple[dt.date, dt.date] | None = None,
) -> HistoryResult:
    """Create ``status_history`` and ``status_history_wide`` (module docstring).

    ``status_dates`` (the as-of date and an earlier one; the report): the timeline is made
    up to the as-of date and kept as ``TIMELINE`` with the cells holding either date, for
    :func:`compute_status` ``from_timeline``, when both dates are on or after the first
    snapshot (each date's window revenue is exact only there; ``timeline`` of the result
    says whether it was kept). The caller drops it."""
    from clientela.load import customer_days, drop_relation, settle

    p = params or StatusParams()
    p.validate()
    if every not in EVERY:
        raise UsageError(f"--every {every!r}: use week or month")
    start_at = parse_date(since, "--since")
    con = loaded.con
    as_of = _as_of(loaded)
    if status_dates is not None and not status_dates[1] < status_dates[0] == as_of:
        raise ValueError(f"status_dates {status_dates}: give {as_of} (as-of), then an earlier date")
    with_crm = loaded.report.crm is not None
    first = con.execute("SELECT min(order_date) FILTER (WHERE is_purchase) FROM orders").fetchall()
    first_purchase = first[0][0]
    if first_purchase is None:
        raise InputDataError(
            f"no customer has a purchase up to the as-of date {as_of}; check --as-of, the "
            "amount column, or --zero-orders purchase"
        )
    if start_at is not None and start_at > as_of:
        raise UsageError(f"--since {start_at}: after the as-of date {as_of}")
    start = max(first_purchase, start_at or first_purchase)
    i0 = period_index(start, every)
    i_as = period_index(as_of, every)
    i1 = i_as if period_end(i_as, every) == as_of else i_as - 1
    if i0 > i1:
        raise UsageError(
            f"--every {every}: no complete {every} between {start} and the as-of date "
            f"{as_of}; use --every week, an earlier --since or a later --as-of"
        )
    idx = list(range(i0, i1 + 1))
    _prepare(con, with_crm)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _sh_snaps AS SELECT unnest($i) AS i, unnest($label) AS "
        "period, unnest($end) AS period_end",
        {
            "i": idx,
            "label": [period_label(i, every) for i in idx],
            "end": [period_end(i, every) for i in idx],
        },
    )
    last_end = period_end(i1, every)
    first_end = period_end(i0, every)
    customer_days(con)
    timeline = status_dates is not None and min(status_dates) >= first_end
    # the counts need a cell's customer only to match CRM prospects: without a CRM file the
    # cells keep no customer id (5.4M ids less to store at 10M order lines, 0.15 s)
    cell_columns = "revenue_window, last_purchase, previous_gap_days, first_purchase, lo, hi"
    holds = ""
    bind: dict[str, Any] = {}
    if not timeline:
        customer = "customer_id" if with_crm else "CAST(NULL AS VARCHAR) AS customer_id"
        cell_columns = f"{customer}, {cell_columns}"
    else:  # also the cells holding either date, with what the status there needs
        assert status_dates is not None
        cell_columns = f"customer_id, start, stop, revenue, purchases, {cell_columns}"
        for n, day in enumerate(status_dates):
            holds += f" OR (start <= $d{n} AND (stop IS NULL OR stop > $d{n}))"
            bind[f"d{n}"] = day
    for name in (TIMELINE, "_sh_cells"):  # (_sh_cells is a view with the timeline)
        drop_relation(con, name)
    con.execute(
        f"CREATE TEMP TABLE {TIMELINE if timeline else '_sh_cells'} AS SELECT "
        f"{cell_columns}, CASE WHEN revenue_window > 0 THEN {_bucket_sql('cents')} END AS "
        "bucket FROM (SELECT *, CAST(least(CAST(revenue_window AS DOUBLE) * 100, 1e17) AS "
        f"BIGINT) AS cents FROM ({read_sql('status_history_cells')})) WHERE lo < hi{holds}",
        {
            "every": every,
            "i0": i0,
            "i1": i1,
            "first_end": first_end,
            "until": as_of if timeline else last_end,
            "vip_window_days": p.vip_window_days,
            **bind,
        },
    )
    if timeline:  # the history reads only the cells holding a snapshot
        con.execute(f"CREATE TEMP VIEW _sh_cells AS SELECT * FROM {TIMELINE} WHERE lo < hi")
    share = p.share
    if share is not None:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _sh_vip AS {read_sql('status_history_vip')}",
            {"vip_share": share, "i1": i1},
        )
    else:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _sh_vip AS SELECT i, NULL AS population, NULL AS "
            "vip_count, CAST($m AS DECIMAL(38, 6)) AS cutoff FROM _sh_snaps",
            {"m": p.sql_params()["vip_min_revenue"]},
        )
    tmin = con.execute("SELECT min(cutoff) FROM _sh_vip").fetchall()[0][0]
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _sh_counts AS {read_sql('status_history_counts')}",
        {
            "every": every,
            "i0": i0,
            "i1": i1,
            "new_days": p.new_days,
            "active_days": p.active_days,
            "inactive_days": p.inactive_days,
            "tmin": tmin,
        },
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE status_history AS SELECT s.period, s.period_end, "
        "c.status, CAST(c.customers AS BIGINT) AS customers, round(c.customers / "
        "nullif(sum(c.customers) OVER (PARTITION BY c.i), 0), 4) AS share_customers, "
        "round(CAST(c.revenue_window AS DOUBLE), 2) AS revenue_window FROM _sh_counts c "
        "JOIN _sh_snaps s ON s.i = c.i ORDER BY c.i, c.ord"
    )
    names = _statuses(with_crm)
    cols = ", ".join(
        f"CAST(sum(customers) FILTER (WHERE status = '{s}') AS BIGINT) AS {s}" for s in names
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE status_history_wide AS SELECT period, period_end, {cols}, "
        "CAST(sum(customers) AS BIGINT) AS customers FROM status_history "
        "GROUP BY period, period_end ORDER BY period_end"
    )
    cut_rows = con.execute(
        "SELECT s.period, CAST(v.cutoff AS DOUBLE) FROM _sh_vip v JOIN _sh_snaps s USING (i) "
        "ORDER BY s.i"
    ).fetchall()
    cutoffs = {str(r[0]): (round(float(r[1]), 2) if r[1] is not None else None) for r in cut_rows}
    for t in ("_sh_cells", "_sh_counts", "_sh_vip", "_sh_snaps"):
        drop_relation(con, t)
    settle(con)
    return HistoryResult(
        con, as_of, p, every, start_at, len(idx), first_end, last_end, cutoffs, with_crm,
        timeline,
    )  # fmt: skip


# ----------------------------------------------------------------------------- Python API


def _params(
    new_days: int,
    active_days: int,
    inactive_days: int,
    vip_share: float | None,
    vip_min_revenue: float | None,
    vip_window_days: int,
    keep: Sequence[str] | str | None = None,
) -> StatusParams:
    return StatusParams(
        new_days, active_days, inactive_days, vip_share, vip_min_revenue, vip_window_days,
        parse_keep(keep),
    )  # fmt: skip


def _load(inputs: Sequence[str] | str, options: LoadOptions | None) -> Loaded:
    from clientela.load import LoadOptions as _LoadOptions
    from clientela.load import load

    return load(inputs, replace(options or _LoadOptions(), dimensions=[]))


def status(
    inputs: Sequence[str] | str,
    options: LoadOptions | None = None,
    *,
    new_days: int = 30,
    active_days: int = 90,
    inactive_days: int = 180,
    vip_share: float | None = None,
    vip_min_revenue: float | None = None,
    vip_window_days: int = 365,
    keep: Sequence[str] | str | None = None,
    summary: bool = False,
    from_date: str | dt.date | None = None,
    to_date: str | dt.date | None = None,
) -> pl.DataFrame:
    """Status per customer (or per status with ``summary=True``, or the transition matrix
    with ``from_date``) as a Polars DataFrame; the same parameters and defaults as
    ``clientela status``. For data too large for memory use :func:`clientela.load` and
    :func:`compute_status`, which keep the result in DuckDB."""
    p = _params(new_days, active_days, inactive_days, vip_share, vip_min_revenue,
                vip_window_days, keep)  # fmt: skip
    p.validate()
    if to_date is not None and from_date is None:
        raise UsageError("--to: needs --from (the earlier date of the transition matrix)")
    loaded = _load(inputs, options)
    try:
        if from_date is not None:
            compute_transitions(loaded, p, from_date, to_date)
            table = "status_transitions"
        else:
            compute_status(loaded, p)
            table = "status_summary" if summary else "status"
        frame: pl.DataFrame = loaded.con.sql(f"SELECT * FROM {table}").pl()
        return frame
    finally:
        loaded.con.close()


def status_history(
    inputs: Sequence[str] | str,
    options: LoadOptions | None = None,
    *,
    every: str = "month",
    since: str | dt.date | None = None,
    shape: str = "long",
    new_days: int = 30,
    active_days: int = 90,
    inactive_days: int = 180,
    vip_share: float | None = None,
    vip_min_revenue: float | None = None,
    vip_window_days: int = 365,
) -> pl.DataFrame:
    """Customers per status at the end of every week or month (``clientela status
    --history``), long (period, status, customers...) or wide (one row per period)."""
    if shape not in SHAPES:
        raise UsageError(f"--shape {shape!r}: use long or wide")
    p = _params(new_days, active_days, inactive_days, vip_share, vip_min_revenue,
                vip_window_days)  # fmt: skip
    p.validate()
    loaded = _load(inputs, options)
    try:
        compute_history(loaded, p, every, since)
        table = "status_history_wide" if shape == "wide" else "status_history"
        frame: pl.DataFrame = loaded.con.sql(f"SELECT * FROM {table}").pl()
        return frame
    finally:
        loaded.con.close()


make_module_callable(__name__, status)  # clientela.status(...) is the function
