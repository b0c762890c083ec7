"""Cohorts: acquisition-cohort retention tables and retention over time.

Contract (DESIGN.md, Definitions: Cohorts):
- A customer's cohort is the calendar period (day, ISO week starting on Monday, month,
  quarter, year; in the reporting time zone) of their first *purchase* (an order with
  positive net value) over all the history up to the last observed day. A customer whose
  orders are all refunds or zero-value orders is in no cohort; orders dated before the
  cohort period (they can only be refunds or zero-value orders) precede the acquisition
  and are in no cell (both are counted in the metadata).
- Cell (cohort c, period index k): ``customers`` = members with a purchase in period c+k;
  ``orders`` = their purchases in c+k; ``revenue`` = the net amount (refunds included) of
  all their orders in c+k. ``rate`` = cell / cohort size (customers, orders) or cell / the
  cohort's period-0 net revenue (revenue; NULL when that is not positive). ``cumulative``
  gives "on or after" values: customers with a purchase in c+k or any later observed
  period; orders and revenue of periods c+k and later. Rates keep the same denominators.
- Observed periods: a period is complete when its last day is on or before the as-of date.
  The partial as-of period is left out entirely (its orders are ignored, so the result
  equals the one computed at the end of the last complete period) unless
  ``include_partial``, which shows it and marks its cells ``partial``. Cells of periods
  after the last observed one are NULL (wide) or absent (long), never 0; observed periods
  without activity are 0.
- :func:`compute_cohorts` creates the temp table ``cohorts`` in the loaded connection:
  wide (one row per cohort: cohort, cohort_size, one column per period index 0..K, then an
  "all cohorts" row with the cohort-size-weighted average rate over the cohorts whose cell
  is complete; with ``by`` one block per group), long (cohort, period_index, period_start,
  cohort_size, value, rate, partial) or, with ``trend``, retention over time
  (sql/cohort_trend.sql). It returns a :class:`CohortsResult`; nothing is printed.
- :func:`cohorts` is the Python API: the parameters and defaults of ``clientela cohorts``,
  returning a Polars DataFrame.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from clientela._callable import make_module_callable
from clientela.errors import InputDataError, UsageError
from clientela.sqlfiles import quote_ident, read_sql

if TYPE_CHECKING:
    import duckdb
    import polars as pl

    from clientela.load import Loaded, LoadOptions

PERIODS = ("day", "week", "month", "quarter", "year")
METRICS = ("customers", "orders", "revenue")
VALUES = ("count", "rate")
SHAPES = ("wide", "long")
AVERAGE_LABEL = "all cohorts"
#: one period as an SQL interval (bound as a parameter)
STEPS = {"day": "1 day", "week": "7 days", "month": "1 month", "quarter": "3 months",
         "year": "1 year"}  # fmt: skip
#: (plain, on-or-after) column of sql/cohort_cells.sql for each metric
_VALUE_COLUMNS = {
    "customers": ("customers", "customers_on_or_after"),
    "orders": ("orders", "orders_on_or_after"),
    "revenue": ("revenue", "revenue_on_or_after"),
}
_WIDE_FIXED = ("cohort", "cohort_size", "partial_period_index")
_LONG_FIXED = ("cohort", "period_index", "period_start", "cohort_size", "value", "rate",
               "partial")  # fmt: skip
_TREND_COLUMNS = ("period", "period_start", "active", "new", "returning", "retained",
                  "reactivated", "churned", "retention_rate", "churn_rate", "revenue",
                  "net_revenue_retention", "partial")  # fmt: skip
TREND_RATE_COLUMNS = ("retention_rate", "churn_rate", "net_revenue_retention")


#: the per-customer steps compute_cohorts(keep=True) leaves for the next call, and their key
KEPT_STEPS = ("_coh_customers", "_coh_groups", "_coh_activity")
KEPT_KEY = "_coh_kept"


def _choice(flag: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        listed = ", ".join(allowed[:-1]) + f" or {allowed[-1]}"
        raise UsageError(f"{flag} {value!r}: use {listed}")


@dataclass
class CohortParams:
    """The parameters of ``clientela cohorts`` (same names and defaults)."""

    period: str = "month"  # day | week | month | quarter | year
    metric: str = "customers"  # customers | orders | revenue
    values: str = "rate"  # count | rate
    cumulative: bool = False  # "on or after" values
    shape: str = "wide"  # wide | long
    max_periods: int | None = None  # period indexes 0..K (None: every observed one)
    include_partial: bool = False  # show the partial as-of period, marked
    fill_gaps: bool = False  # cohorts without customers appear with size 0
    by: str | None = None  # a dimension of the first purchase
    since: str | dt.date | None = None  # first cohort (trend: first period) shown
    trend: bool = False  # retention over time instead of the cohort table

    def validate(self) -> None:
        _choice("--period", self.period, PERIODS)
        _choice("--metric", self.metric, METRICS)
        _choice("--values", self.values, VALUES)
        _choice("--shape", self.shape, SHAPES)
        if self.max_periods is not None and self.max_periods < 0:
            raise UsageError(f"--max-periods {self.max_periods}: give 0 or more")
        if self.since is not None:
            from clientela.load import parse_as_of

            try:
                parse_as_of(self.since, "UTC")
            except UsageError:
                raise UsageError(
                    f"--since {self.since!r}: use a date YYYY-MM-DD, 'today' or 'yesterday'"
                ) from None
        if self.trend:
            # the cohort-table options mean nothing for the trend: refuse rather than ignore
            table_options = [
                ("--metric", self.metric != "customers"),
                ("--values", self.values != "rate"),
                ("--cumulative", self.cumulative),
                ("--shape", self.shape != "wide"),
                ("--max-periods", self.max_periods is not None),
                ("--fill-gaps", self.fill_gaps),
            ]
            for flag, given in table_options:
                if given:
                    raise UsageError(
                        f"{flag} does not apply to --trend (the trend has one row per period "
                        "with every measure); drop one of them"
                    )


# ------------------------------------------------------------------------- calendar


def period_start(day: dt.date, period: str) -> dt.date:
    """The first day of the calendar period holding ``day`` (ISO weeks start on Monday)."""
    if period == "day":
        return day
    if period == "week":
        return day - dt.timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    if period == "quarter":
        return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return dt.date(day.year, 1, 1)


def next_period_start(start: dt.date, period: str) -> dt.date:
    """The first day of the period after the one starting on ``start``."""
    if period == "day":
        return start + dt.timedelta(days=1)
    if period == "week":
        return start + dt.timedelta(days=7)
    months = {"month": 1, "quarter": 3, "year": 12}[period]
    index = start.year * 12 + start.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def period_label(start: dt.date, period: str) -> str:
    """``2025-01-31`` (day), ``2025-W05`` (ISO week), ``2025-01``, ``2025-Q1``, ``2025``."""
    if period == "day":
        return start.isoformat()
    if period == "week":
        iso = start.isocalendar()
        return f"{iso[0]}-W{iso[1]:02d}"
    if period == "month":
        return f"{start.year}-{start.month:02d}"
    if period == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return str(start.year)


# --------------------------------------------------------------------------- result


@dataclass
class CohortsResult:
    con: duckdb.DuckDBPyConnection
    as_of: dt.date
    params: CohortParams
    by_column: str | None  # the dimension (as loaded)
    by_name: str | None  # its column name in the output
    observed_until: dt.date  # the last observed day
    last_period: dt.date  # the first day of the last observed period
    partial: bool  # the last observed period is the partial as-of period
    left_out: tuple[dt.date, dt.date] | None  # the partial period left out (start, end)
    first_shown: dt.date | None  # --since, as the first day of its period
    rows: int  # rows of the ``cohorts`` table
    cohorts: int  # cohorts shown (counted per group with by)
    groups: int  # --by groups (1 without by)
    first_cohort: dt.date | None  # the first day of the first cohort shown
    periods: int  # K: the largest period index shown (wide: columns 0..K); trend: periods
    max_period_index: int  # the largest observed period index (K without max_periods)
    customers: int  # members of the cohorts shown
    customers_with_purchase: int  # every customer with a purchase up to observed_until
    customers_without_purchase: int  # only refunds or zero-value orders: in no cohort
    revenue_without_purchase: float | None  # their net amount
    customers_in_partial_period: int  # first purchase in the left-out partial period
    pre_cohort_orders: int | None  # orders before the customer's cohort period (None: trend)
    pre_cohort_customers: int | None
    pre_cohort_revenue: float | None
    warnings: list[str] = field(default_factory=list)

    @property
    def period_columns(self) -> list[str]:
        """Wide: the period-index columns ``0``..``K``."""
        if self.params.trend or self.params.shape != "wide":
            return []
        return [str(k) for k in range(self.periods + 1)]

    @property
    def rate_columns(self) -> list[str]:
        """Columns holding fractions (shown as percentages by the readable writers)."""
        if self.params.trend:
            return list(TREND_RATE_COLUMNS)
        if self.params.shape == "long":
            return ["rate"]
        return self.period_columns if self.params.values == "rate" else []

    def recent_sql(self, n: int) -> str:
        """``SELECT`` of the ``cohorts`` table keeping the ``n`` most recent cohorts (trend:
        periods) of every block, plus the average rows: what fits on a screen."""
        n = max(1, int(n))
        by = f"{quote_ident(self.by_name)}, " if self.by_name else ""
        if self.params.trend:
            return (
                "SELECT * FROM cohorts WHERE period_start IN (SELECT DISTINCT period_start FROM "
                f"cohorts ORDER BY period_start DESC LIMIT {n}) ORDER BY {by}period_start"
            )
        if self.params.shape == "long":
            return (
                "SELECT * FROM cohorts WHERE cohort IN (SELECT DISTINCT cohort FROM cohorts "
                f"ORDER BY cohort DESC LIMIT {n}) ORDER BY {by}cohort, period_index"
            )
        # wide: labels sort chronologically (2025-01, 2025-W05, 2025-Q1...); the average
        # row of each block stays last
        avg = f"'{AVERAGE_LABEL}'"
        return (
            f"SELECT * FROM cohorts WHERE cohort = {avg} OR cohort IN (SELECT DISTINCT cohort "
            f"FROM cohorts WHERE cohort <> {avg} ORDER BY cohort DESC LIMIT {n}) "
            f"ORDER BY {by}cohort = {avg}, cohort"
        )

    def describe(self) -> str:
        """One line for people: what the table holds."""
        p = self.params
        unit = p.period
        if p.trend:
            return f"retention over time by {unit}, as of {self.as_of}"
        what = {"customers": "customers with a purchase", "orders": "purchases",
                "revenue": "net revenue"}[p.metric]  # fmt: skip
        if p.cumulative:
            what += " (on or after)"
        if p.values == "rate":
            base = "the period-0 net revenue" if p.metric == "revenue" else "the cohort size"
            what = f"{what}, as a share of {base}"
        return f"cohorts by {unit} of first purchase: {what}; as of {self.as_of}"

    def metadata(self) -> dict[str, Any]:
        """What the output's metadata holds (Parquet key-value, xlsx sheet, --meta JSON)."""
        p = self.params
        left_out = (
            {"start": self.left_out[0].isoformat(), "end": self.left_out[1].isoformat(),
             "customers_acquired": self.customers_in_partial_period}
            if self.left_out else None
        )  # fmt: skip
        return {
            "clientela_analysis": "cohorts_trend" if p.trend else "cohorts",
            "as_of": self.as_of.isoformat(),
            "period": p.period,
            "week_start": "monday (ISO 8601)" if p.period == "week" else None,
            "metric": None if p.trend else p.metric,
            "values": None if p.trend else p.values,
            "cumulative": None if p.trend else p.cumulative,
            "shape": "trend" if p.trend else p.shape,
            "max_periods": p.max_periods,
            "periods": self.periods,
            "include_partial": p.include_partial,
            "fill_gaps": p.fill_gaps,
            "by": self.by_column,
            "since": self.first_shown.isoformat() if self.first_shown else None,
            "observed_until": self.observed_until.isoformat(),
            "partial_period": (
                {"start": self.last_period.isoformat(), "observed_until": self.as_of.isoformat()}
                if self.partial
                else None
            ),
            "partial_period_left_out": left_out,
            "cohorts": self.cohorts,
            "customers": self.customers,
            "customers_with_purchase": self.customers_with_purchase,
            "customers_without_purchase": self.customers_without_purchase,
            "net_revenue_without_purchase": self.revenue_without_purchase,
            "pre_cohort_orders": self.pre_cohort_orders,
            "pre_cohort_customers": self.pre_cohort_customers,
            "pre_cohort_net_revenue": self.pre_cohort_revenue,
            "definition": _definition(p),
            "warnings": self.warnings,
        }


def _definition(p: CohortParams) -> str:
    base = (
        "cohort = period of the customer's first purchase (an order with positive net value) "
        "over all the history; "
    )
    if p.trend:
        return base + (
            "A(p) = customers with a purchase in p; active = |A(p)|; new = first purchase in p; "
            "returning = active - new; retained = |A(p) & A(p-1)|; reactivated = returning - "
            "retained; churned = |A(p-1) - A(p)|; retention_rate = retained / |A(p-1)|; "
            "churn_rate = churned / |A(p-1)|; revenue = net amount of their orders in p; "
            "net_revenue_retention = net revenue in p of A(p-1) / their net revenue in p-1"
        )
    cell = {
        "customers": "members with a purchase in period cohort+k",
        "orders": "purchases of members in period cohort+k",
        "revenue": "net amount (refunds included) of all members' orders in period cohort+k",
    }[p.metric]
    if p.cumulative:
        cell += " or any later observed period"
    rate = (
        "cell / the cohort's period-0 net revenue (null when not positive)"
        if p.metric == "revenue"
        else "cell / cohort size"
    )
    return base + (
        f"cell(cohort, k) = {cell}; rate = {rate}; average row = sum of cohort_size * rate / "
        "sum of cohort_size over the cohorts whose cell k is complete; cells of periods after "
        "the last observed one are null"
    )


# ------------------------------------------------------------------------------ compute


def compute_cohorts(
    loaded: Loaded,
    params: CohortParams | None = None,
    *,
    also_long: str | None = None,
    keep: bool = False,
) -> CohortsResult:
    """Create the ``cohorts`` table in the loaded connection. See the module docstring.

    ``also_long``: for a wide table, also create this table with the same cells in the
    long shape (what ``shape="long"`` would give), from the one computation.
    ``keep``: leave the per-customer tables (steps 1 and 2) behind; the next call with the
    same period, observed end and ``--by`` (a trend after a table) reuses them instead of
    computing them again, and drops them unless it keeps them too."""

    from clientela.load import dimension_column, parse_as_of, settle, temp_kind

    p = params or CohortParams()
    p.validate()
    con = loaded.con
    as_of = loaded.report.as_of
    if as_of is None:  # pragma: no cover - load always sets it
        raise InputDataError("no as-of date could be determined")
    has_amount = "amount" in loaded.report.mapping
    if p.metric == "revenue" and not has_amount:
        raise UsageError(
            "--metric revenue: the input has no amount column; name it with --amount-col"
        )
    by_col = dimension_column(loaded, p.by)

    # the observed periods: complete ones, and the partial as-of period when asked for
    current = period_start(as_of, p.period)
    current_end = next_period_start(current, p.period) - dt.timedelta(days=1)
    partial = False
    left_out: tuple[dt.date, dt.date] | None = None
    if current_end == as_of:
        last_period, end = current, as_of
    elif p.include_partial:
        last_period, end, partial = current, as_of, True
    else:
        end = current - dt.timedelta(days=1)
        last_period = period_start(end, p.period)
        left_out = (current, current_end)
    first: dt.date | None = None
    if p.since is not None:
        since = parse_as_of(p.since, loaded.report.tz)
        assert since is not None
        if since > as_of:
            raise UsageError(f"--since {since}: after the as-of date {as_of}")
        first = period_start(since, p.period)
        if first > last_period:
            raise UsageError(
                f"--since {since}: no complete {p.period} from then to the as-of date {as_of}; "
                "add --include-partial to see the partial one"
            )

    grp = "''" if by_col is None else f"coalesce(CAST({quote_ident(by_col)} AS VARCHAR), '(none)')"
    con.execute(
        "CREATE OR REPLACE TEMP VIEW _coh_orders AS SELECT customer_id, order_ts, order_date, "
        f"amount, is_purchase, {grp} AS _grp FROM orders"
    )
    key = f"{p.period}|{last_period}|{by_col}"
    kept = temp_kind(con, KEPT_KEY) == "TABLE" and bool(
        con.execute(f"SELECT count(*) FROM {KEPT_KEY} WHERE key = ?", [key]).fetchall()[0][0]
    )
    con.execute(f"DROP TABLE IF EXISTS {KEPT_KEY}")
    if not kept:
        _customer_tables(con, p, by_col, last_period)
    # members have a first purchase in an observed period; customers whose first purchase is
    # in the partial period left out are neither members nor "without a purchase"
    ((with_purchase, without, in_partial),) = con.execute(
        "SELECT count(cohort), count(*) FILTER (WHERE NOT buyer), "
        "count(*) FILTER (WHERE buyer AND cohort IS NULL) FROM _coh_customers"
    ).fetchall()
    if not with_purchase:
        if left_out is None:
            raise InputDataError(
                f"no customer has a purchase (an order with positive net value) up to {end}; "
                "check --as-of, the amount column, or --zero-orders purchase"
            )
        raise InputDataError(
            f"no customer has a purchase (an order with positive net value) in a complete "
            f"{p.period} up to {end}: the partial {p.period} from {left_out[0]} to the as-of "
            f"date {as_of} is left out; add --include-partial to see it"
        )
    revenue_without = None
    if without:
        ((revenue_without,),) = con.execute(
            "SELECT CAST(sum(a.revenue) AS DOUBLE) FROM _coh_activity AS a JOIN (SELECT "
            "customer_id FROM _coh_customers WHERE NOT buyer) AS c "
            "ON a.customer_id = c.customer_id"
        ).fetchall()

    by_name = None
    if by_col is not None:
        taken = set(_WIDE_FIXED + _LONG_FIXED + _TREND_COLUMNS)
        by_name = by_col if by_col not in taken and not by_col.isdigit() else f"by_{by_col}"
    cells_params = {
        "period": p.period,
        "step": STEPS[p.period],
        "first": first,
        "last_period": last_period,
        "partial": partial,
    }
    # orders before the cohort period: in no cell of the cohort table (the trend's revenue
    # counts every order of a member, so there they are not set apart)
    pre_orders: int | None = None
    pre_customers: int | None = None
    pre_revenue: float | None = None
    if p.trend:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE cohorts AS SELECT "
            + (f"grp AS {quote_ident(by_name)}, " if by_name else "")
            + ", ".join(quote_ident(c) for c in _TREND_COLUMNS)
            + f" FROM ({read_sql('cohort_trend')}) ORDER BY grp, period_start",
            {**cells_params, "has_amount": has_amount},
        )
        ((rows, periods),) = con.execute(
            "SELECT count(*), count(DISTINCT period_start) FROM cohorts"
        ).fetchall()
        ((n_cohorts, customers, groups, first_cohort),) = con.execute(
            "SELECT count(DISTINCT (grp, cohort)), count(*), count(DISTINCT grp), min(cohort) "
            "FROM _coh_customers WHERE cohort IS NOT NULL AND cohort >= coalesce(?, cohort)",
            [first],
        ).fetchall()
        max_k = periods
    else:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _coh_matrix AS {read_sql('cohort_matrix')}",
            {"period": p.period, "last_period": last_period},
        )
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _coh_cells AS {read_sql('cohort_cells')}",
            {**cells_params, "fill_gaps": p.fill_gaps},
        )
        ((pre_orders, pre_rev),) = con.execute(
            "SELECT coalesce(sum(refund_or_zero_orders), 0), CAST(sum(revenue) AS DOUBLE) "
            "FROM _coh_matrix WHERE k < 0"
        ).fetchall()
        pre_customers = 0
        if pre_orders:
            ((pre_customers,),) = con.execute(
                "SELECT count(DISTINCT a.customer_id) FROM _coh_activity AS a JOIN _coh_customers "
                "AS c ON a.customer_id = c.customer_id WHERE a.period_start < c.cohort"
            ).fetchall()
        pre_revenue = round(float(pre_rev), 2) if pre_rev is not None and has_amount else None
        if (
            first is not None
            and not con.execute(
                "SELECT 1 FROM _coh_customers WHERE cohort >= ? LIMIT 1", [first]
            ).fetchall()
        ):
            raise UsageError(
                f"--since {p.since}: no customer made a first purchase from the {p.period} of "
                f"{first} to {end}; choose an earlier date"
            )
        ((max_k, n_cohorts, customers, groups, first_cohort),) = con.execute(
            "SELECT max(k), count(DISTINCT (grp, cohort)), "
            "sum(CASE WHEN k = 0 THEN cohort_size END), count(DISTINCT grp), min(cohort) "
            "FROM _coh_cells"
        ).fetchall()
        periods = int(max_k) if p.max_periods is None else min(int(max_k), p.max_periods)
        sql, sql_params = (
            _wide_sql(p, periods, by_name) if p.shape == "wide" else _long_sql(p, periods, by_name)
        )
        con.execute(f"CREATE OR REPLACE TEMP TABLE cohorts AS {sql}", sql_params)
        ((rows,),) = con.execute("SELECT count(*) FROM cohorts").fetchall()
        if also_long is not None and p.shape == "wide":  # the same cells, one row each
            sql, sql_params = _long_sql(p, periods, by_name)
            con.execute(f"CREATE OR REPLACE TEMP TABLE {also_long} AS {sql}", sql_params)

    warnings: list[str] = []
    if pre_orders:
        money = f" (net {pre_revenue:,.2f})" if pre_revenue is not None else ""
        warnings.append(
            f"{pre_orders:,} orders of {pre_customers:,} customers are dated before the "
            f"customer's first purchase {p.period} (refunds or zero-value orders){money}; they "
            "precede the acquisition and are in no cohort cell"
        )
    dropped = ["_coh_matrix", "_coh_cells"]
    if keep:  # for the next call with the same key
        con.execute(f"CREATE TEMP TABLE {KEPT_KEY} AS SELECT ? AS key", [key])
    else:
        dropped += list(KEPT_STEPS)
    for t in dropped:
        con.execute(f"DROP TABLE IF EXISTS {t}")
    con.execute("DROP VIEW IF EXISTS _coh_orders")
    settle(con)
    return CohortsResult(
        con=con,
        as_of=as_of,
        params=p,
        by_column=by_col,
        by_name=by_name,
        observed_until=end,
        last_period=last_period,
        partial=partial,
        left_out=left_out,
        first_shown=first,
        rows=int(rows),
        cohorts=int(n_cohorts),
        groups=int(groups),
        first_cohort=first_cohort,
        periods=int(periods),
        max_period_index=int(max_k),
        customers=int(customers or 0),
        customers_with_purchase=int(with_purchase),
        customers_without_purchase=int(without),
        revenue_without_purchase=(
            round(float(revenue_without), 2) if revenue_without is not None and has_amount else None
        ),
        customers_in_partial_period=int(in_partial),
        pre_cohort_orders=None if pre_orders is None else int(pre_orders),
        pre_cohort_customers=None if pre_customers is None else int(pre_customers),
        pre_cohort_revenue=pre_revenue,
        warnings=warnings,
    )


def _customer_tables(
    con: duckdb.DuckDBPyConnection, p: CohortParams, by_col: str | None, last_period: dt.date
) -> None:
    """Steps 1 and 2: ``_coh_activity`` (customer x period), ``_coh_groups`` (the --by
    value of a customer's first purchase) and ``_coh_customers`` (cohort per customer)."""
    import duckdb

    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _coh_activity AS {read_sql('cohort_activity')}",
            {"period": p.period},
        )
    except duckdb.ConversionException as e:  # DECIMAL(18, 6): amounts below 10^12
        raise InputDataError(
            "an order amount is 10^12 or more, beyond what cohort revenue sums; check the "
            "amount column (--amount-col) and its decimal separator (--decimal)"
        ) from e
    if by_col is None:
        con.execute("CREATE OR REPLACE TEMP TABLE _coh_groups (customer_id VARCHAR, grp VARCHAR)")
    else:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _coh_groups AS {read_sql('cohort_first_group')}")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _coh_customers AS {read_sql('cohort_customers')}",
        {"last_period": last_period},
    )


def _value_exprs(p: CohortParams) -> tuple[str, str]:
    """(value, unrounded rate) over sql/cohort_cells.sql's columns."""
    column = _VALUE_COLUMNS[p.metric][1 if p.cumulative else 0]
    if p.metric == "revenue":
        value = f"round(CAST({column} AS DOUBLE), 2)"
        rate = (
            f"CAST({column} AS DOUBLE) / CAST(CASE WHEN revenue_0 > 0 THEN revenue_0 END AS DOUBLE)"
        )
    else:
        value = f"CAST({column} AS BIGINT)"
        rate = f"CAST({column} AS DOUBLE) / nullif(cohort_size, 0)"
    return value, rate


def _long_sql(p: CohortParams, periods: int, by_name: str | None) -> tuple[str, list[Any]]:
    value, rate = _value_exprs(p)
    by = f"grp AS {quote_ident(by_name)}, " if by_name else ""
    return (
        f"SELECT {by}cohort, k AS period_index, period_start, cohort_size, {value} AS value, "
        f"round({rate}, 6) AS rate, partial FROM _coh_cells WHERE k <= ? "
        "ORDER BY grp, cohort, k",
        [periods],
    )


def _wide_sql(p: CohortParams, periods: int, by_name: str | None) -> tuple[str, list[Any]]:
    """One row per cohort with its cells as columns ``0``..``K``: the cells are gathered in
    period-index order (the grid is dense from 0, so position k+1 holds period index k and
    positions past a cohort's last observed period are NULL), then spread into columns."""
    value, rate = _value_exprs(p)
    cell = "round(r, 6)" if p.values == "rate" else "v"
    rows = (
        f"SELECT grp, cohort AS _sort, cohort_label AS cohort, cohort_size, "
        f"array_agg({cell} ORDER BY k) AS _cells, "
        "max(CASE WHEN partial THEN k END) AS partial_period_index "
        "FROM c GROUP BY grp, cohort, cohort_label, cohort_size"
    )
    if p.values == "rate":
        # the weighted average over the cohorts whose cell k is complete (never partial)
        done = "NOT partial AND r IS NOT NULL"
        rows += (
            f" UNION ALL SELECT grp, NULL, '{AVERAGE_LABEL}', max(size), "
            "array_agg(rate ORDER BY k), NULL FROM ("
            "SELECT grp, k, sum(CASE WHEN k = 0 THEN cohort_size END) AS size, "
            # summed as decimals: the same bytes whatever order the threads add them in
            f"round(CAST(sum(CASE WHEN {done} THEN CAST(cohort_size * r AS DECIMAL(38, 12)) "
            f"END) AS DOUBLE) / nullif(sum(CASE WHEN {done} THEN cohort_size END), 0), 6) "
            "AS rate "
            "FROM c GROUP BY grp, k) GROUP BY grp"
        )
    by = f"grp AS {quote_ident(by_name)}, " if by_name else ""
    columns = ", ".join(f'_cells[{k + 1}] AS "{k}"' for k in range(periods + 1))
    marker = ", partial_period_index" if p.include_partial else ""
    return (
        f"WITH c AS (SELECT grp, cohort, cohort_label, k, cohort_size, partial, {value} AS v, "
        f"{rate} AS r FROM _coh_cells WHERE k <= ?) "
        f"SELECT {by}cohort, CAST(cohort_size AS BIGINT) AS cohort_size, {columns}{marker} "
        f"FROM ({rows}) ORDER BY grp, _sort NULLS LAST",
        [periods],
    )


# ----------------------------------------------------------------------------- Python API


def cohorts(
    inputs: Sequence[str] | str,
    options: LoadOptions | None = None,
    *,
    period: str = "month",
    metric: str = "customers",
    values: str = "rate",
    cumulative: bool = False,
    shape: str = "wide",
    max_periods: int | None = None,
    include_partial: bool = False,
    fill_gaps: bool = False,
    by: str | None = None,
    since: str | dt.date | None = None,
    trend: bool = False,
) -> pl.DataFrame:
    """The cohort table (or, with ``trend=True``, retention over time) as a Polars DataFrame.

    The same parameters and defaults as ``clientela cohorts``. To keep the result in
    DuckDB, use :func:`clientela.load` and :func:`compute_cohorts` (table ``cohorts``).
    """
    from dataclasses import replace

    from clientela.load import LoadOptions as _LoadOptions
    from clientela.load import load

    params = CohortParams(
        period=period,
        metric=metric,
        values=values,
        cumulative=cumulative,
        shape=shape,
        max_periods=max_periods,
        include_partial=include_partial,
        fill_gaps=fill_gaps,
        by=by,
        since=since,
        trend=trend,
    )
    params.validate()
    opts = replace(options or _LoadOptions(), dimensions=[by] if by is not None else [])
    loaded = load(inputs, opts)
    try:
        compute_cohorts(loaded, params)
        frame: pl.DataFrame = loaded.con.sql("SELECT * FROM cohorts").pl()
        return frame
    finally:
        loaded.con.close()


make_module_callable(__name__, cohorts)  # clientela.cohorts(...) is the function
