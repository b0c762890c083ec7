"""Churn flags: who is leaving, by which rule, and a win-back contact list.

Contract (DESIGN.md, Definitions: Churn):
- :func:`compute_churn` takes a loaded connection (``orders``, and ``customers`` with a CRM
  file) and :class:`ChurnParams`, and creates the temp table ``churn``: one row per
  customer with a purchase up to the as-of date (customer_id, churned, rule,
  last_purchase, days_since_last, purchase_days, expected_gap_days, threshold_days, then
  p_alive with the model and consent with a consent column). It returns a
  :class:`ChurnResult` with the counts and :meth:`~ChurnResult.metadata`. Nothing is printed.
- Methods (sql/churn.sql): ``threshold`` (churned when days_since_last > churn_days; default
  180, the status command's inactive threshold), ``cadence`` (churned when days_since_last >
  k x the median gap between the customer's purchase days; customers with fewer than 3
  purchase days fall back to the threshold, rule ``threshold_fallback``), ``model`` (churned
  when the BG/NBD probability alive from :func:`clientela.clv.score_p_alive` is below
  ``alive_threshold``; one-time buyers, whom BG/NBD deems alive by construction, fall back
  to the threshold).
- ``only_churned`` keeps churned customers; ``since_days`` keeps customers whose last
  purchase is at most that many days before the as-of date (together: the recently lapsed,
  for a win-back campaign). With a consent column (CRM file first, then orders; the answers
  of clientela.pii: yes/no, y/n, sim/não, s, true/false, t/f, 1/0, case, accents and spaces
  ignored; empty = no consent; anything else is an error), customers without consent are
  left out of the ``only_churned`` list and counted.
- :func:`churn` is the Python API with the CLI's names and defaults (a Polars DataFrame).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clientela._callable import make_module_callable
from clientela.errors import InputDataError, UsageError
from clientela.sqlfiles import read_sql

if TYPE_CHECKING:
    import duckdb
    import polars as pl

    from clientela.load import Loaded, LoadOptions

METHODS = ("threshold", "cadence", "model")
DEFAULT_CHURN_DAYS = 180  # the status command's default inactive_days
MIN_PURCHASE_DAYS = 3  # cadence needs at least this many purchase days (2 gaps)


def clv_available() -> bool:
    """Whether clientela.clv (BG/NBD, for --method model) is installed."""
    try:
        return importlib.util.find_spec("clientela.clv") is not None
    except ValueError:  # imported without a spec (a stand-in module)
        return True


@dataclass
class ChurnParams:
    """The parameters of ``clientela churn`` (same names and defaults)."""

    method: str = "threshold"
    churn_days: int | None = None  # default: DEFAULT_CHURN_DAYS
    k: float = 3.0
    alive_threshold: float = 0.5
    model: str | None = None  # a saved model (JSON) for --method model
    only_churned: bool = False
    since_days: int | None = None
    consent_col: str | None = None

    @property
    def days(self) -> int:
        return self.churn_days if self.churn_days is not None else DEFAULT_CHURN_DAYS

    def validate(self) -> None:
        if self.method not in METHODS:
            raise UsageError(f"--method {self.method!r}: use threshold, cadence or model")
        if self.churn_days is not None and self.churn_days < 0:
            raise UsageError(f"--churn-days {self.churn_days}: give a number of days, 0 or more")
        if not 0 < self.k < math.inf:
            raise UsageError(f"--k {self.k}: give a factor above 0 (3 = three typical gaps)")
        if not 0 < self.alive_threshold < 1:
            raise UsageError(
                f"--alive-threshold {self.alive_threshold}: give a probability between 0 and 1"
            )
        if self.since_days is not None and self.since_days < 0:
            raise UsageError(f"--since-days {self.since_days}: give a number of days, 0 or more")
        if self.model is not None:
            if self.method != "model":
                raise UsageError(f"--model {self.model}: needs --method model")
            if not Path(self.model).is_file():
                raise UsageError(f"--model {self.model}: no such file (a model saved by clv)")
        if (
            self.method == "threshold"
            and self.only_churned
            and self.since_days is not None
            and self.since_days <= self.days
        ):
            raise UsageError(
                f"--since-days {self.since_days}: with --only-churned and --method threshold "
                f"it must be above --churn-days {self.days} (churned customers last bought "
                f"more than {self.days} days ago), e.g. --since-days {self.days + 90}"
            )
        if self.method == "model" and not clv_available():
            raise UsageError(
                "--method model: the clv module (clientela.clv, BG/NBD) is unavailable in "
                "this installation; use --method threshold or --method cadence"
            )

    def describe(self) -> str:
        if self.method == "threshold":
            return f"no purchase in the last {self.days} days"
        if self.method == "cadence":
            return (
                f"silent for more than {self.k:g} x the customer's median gap between "
                f"purchase days; customers with fewer than {MIN_PURCHASE_DAYS} purchase days: "
                f"no purchase in the last {self.days} days"
            )
        return (
            f"BG/NBD probability alive below {self.alive_threshold:g}; one-time buyers (whom "
            f"BG/NBD always deems alive): no purchase in the last {self.days} days"
        )


@dataclass
class ChurnResult:
    con: duckdb.DuckDBPyConnection
    as_of: dt.date
    params: ChurnParams
    customers: int  # scored (before the list filters)
    churned: int
    by_rule: dict[str, int]
    rows: int  # in the output table
    consent: dict[str, Any] | None = None
    model: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)

    def metadata(self) -> dict[str, Any]:
        p = self.params
        return {
            "clientela_analysis": "churn",
            "as_of": self.as_of.isoformat(),
            "method": p.method,
            "rule": p.describe(),
            "churn_days": p.days,
            "k": p.k if p.method == "cadence" else None,
            "min_purchase_days": MIN_PURCHASE_DAYS if p.method == "cadence" else None,
            "alive_threshold": p.alive_threshold if p.method == "model" else None,
            "model": self.model,
            "definitions": {
                "days_since_last": "as-of date - last purchase date",
                "expected_gap_days": "median gap between consecutive purchase days (the "
                "mean of the two middle gaps for an even count)",
                "threshold_days": "churned when days_since_last > threshold_days",
            },
            "customers": self.customers,
            "churned": self.churned,
            "customers_by_rule": self.by_rule,
            "only_churned": p.only_churned,
            "since_days": p.since_days,
            "rows": self.rows,
            "consent": self.consent,
            "warnings": self.warnings,
        }


# ----------------------------------------------------------------------------- consent


def consent_source(loaded: Loaded, col: str) -> tuple[str, str] | None:
    """("crm" | "orders", column) holding ``col`` (CRM file first), or None."""
    from clientela.columns import normalize

    def find(cols: Sequence[str]) -> str | None:
        if col in cols:
            return col
        return next((c for c in cols if normalize(c) == normalize(col)), None)

    if loaded.report.crm is not None:
        crm_cols = [r[0] for r in loaded.con.execute("DESCRIBE customers").fetchall()]
        hit = find([c for c in crm_cols if c != "customer_id"])
        if hit is not None:
            return "crm", hit
    hit = find(loaded.report.dimensions)
    return ("orders", hit) if hit is not None else None


def load_for_churn(loader: Callable[..., Loaded], consent_col: str | None, has_crm: bool) -> Loaded:
    """Load with ``loader(dimensions=[...])`` so that the consent column is available: from
    the CRM file when it has it (no extra column from the orders), else from the orders."""
    if consent_col is None:
        return loader(dimensions=[])
    if has_crm:
        loaded = loader(dimensions=[])
        if consent_source(loaded, consent_col) is not None:
            return loaded
        loaded.con.close()
    try:
        return loader(dimensions=[consent_col])
    except UsageError as e:
        if not e.message.startswith(f"--by {consent_col!r}"):
            raise
        columns = e.message.split("(", 1)[1].rstrip(")") if "(" in e.message else "none"
        where = "the CRM file or in the orders" if has_crm else "the orders"
        raise UsageError(
            f"--consent-col {consent_col!r}: no such column in {where} (order columns: "
            f"{columns}){'' if has_crm else '; a CRM column needs --customers crm.csv'}"
        ) from None


def _consent_table(loaded: Loaded, col: str) -> dict[str, Any]:
    """Create ``_ch_consent(customer_id, consent)``; every value is checked first (the
    consent vocabulary is clientela.pii's, shared with the privacy commands)."""
    from clientela.pii import check_consent_column, consent_sql
    from clientela.sqlfiles import quote_ident

    found = consent_source(loaded, col)
    if found is None:
        raise UsageError(f"--consent-col {col!r}: no such column in the CRM file or the orders")
    source, column = found
    con = loaded.con
    if source == "crm":
        check_consent_column(con, "customers", column, source="the CRM file (--customers)")
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _ch_consent AS SELECT customer_id, "
            f"{consent_sql(quote_ident(column))} AS consent FROM customers"
        )
    else:  # the customer's latest stated answer
        files = ", ".join(f.path for f in loaded.report.files)
        check_consent_column(con, "orders", column, source=files)
        value = consent_sql(quote_ident(column))
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _ch_consent AS SELECT customer_id, "
            f"arg_max({value}, order_ts) FILTER (WHERE {value} IS NOT NULL) AS consent "
            "FROM orders GROUP BY customer_id"
        )
    return {"column": column, "source": "crm file" if source == "crm" else "orders"}


# ------------------------------------------------------------------------------ compute


def compute_churn(loaded: Loaded, params: ChurnParams | None = None) -> ChurnResult:
    """Create ``churn`` in the loaded connection. See the module docstring."""
    from clientela.load import customer_days, settle

    p = params or ChurnParams()
    p.validate()
    con = loaded.con
    as_of = loaded.report.as_of
    if as_of is None:  # pragma: no cover - load always sets it
        raise InputDataError("no as-of date could be determined")
    consent = _consent_table(loaded, p.consent_col) if p.consent_col else None
    model_meta: dict[str, Any] | None = None
    if p.method == "model":
        from clientela.clv import score_p_alive  # type: ignore[import-not-found,unused-ignore]

        model_meta = score_p_alive(loaded, model_path=p.model)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _ch_scores AS SELECT CAST(customer_id AS VARCHAR) AS "
            "customer_id, CAST(p_alive AS DOUBLE) AS p_alive FROM clv_p_alive"
        )
    else:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _ch_scores AS SELECT CAST(NULL AS VARCHAR) AS "
            "customer_id, CAST(NULL AS DOUBLE) AS p_alive WHERE false"
        )
    customer_days(con)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _ch_all AS {read_sql('churn')}",
        {
            "as_of": as_of,
            "method": p.method,
            "churn_days": p.days,
            "k": float(p.k),
            "min_purchase_days": MIN_PURCHASE_DAYS,
            "alive_threshold": float(p.alive_threshold),
        },
    )
    stats = con.execute("SELECT count(*), count(*) FILTER (WHERE churned) FROM _ch_all").fetchall()[
        0
    ]
    customers, churned = int(stats[0]), int(stats[1])
    if customers == 0:
        raise InputDataError(
            "no customer has a purchase (an order with positive net value) up to the as-of "
            f"date {as_of}; check --as-of, the amount column, or --zero-orders purchase"
        )
    by_rule = dict(
        con.execute("SELECT rule, count(*) FROM _ch_all GROUP BY 1 ORDER BY 1").fetchall()
    )
    where = []
    if p.only_churned:
        where.append("a.churned")
    if p.since_days is not None:
        where.append("a.days_since_last <= $since")
    cond = " AND ".join(where) or "true"
    bind = {"since": p.since_days} if p.since_days is not None else {}
    if consent is not None:
        join = " LEFT JOIN _ch_consent c ON c.customer_id = a.customer_id"
        row = con.execute(
            "SELECT count(*) FILTER (WHERE c.consent IS NOT true), count(*) FILTER (WHERE "
            f"c.consent IS NULL) FROM _ch_all a{join} WHERE {cond}",
            bind,
        ).fetchall()[0]
        consent.update(
            {
                "without_consent": int(row[0]),
                "without_value": int(row[1]),
                "left_out": int(row[0]) if p.only_churned else 0,
            }
        )
        if p.only_churned:
            cond += " AND c.consent IS true"
    else:
        join = ""
    extra = ", round(a.p_alive, 4) AS p_alive" if p.method == "model" else ""
    extra += ", coalesce(c.consent, false) AS consent" if consent is not None else ""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE churn AS SELECT a.customer_id, a.churned, a.rule, "
        "a.last_purchase, a.days_since_last, CAST(a.purchase_days AS BIGINT) AS purchase_days, "
        "round(a.expected_gap_days, 1) AS expected_gap_days, round(a.threshold_days, 2) AS "
        f"threshold_days{extra} FROM _ch_all a{join} WHERE {cond} ORDER BY a.customer_id",
        bind,
    )
    rows = int(con.execute("SELECT count(*) FROM churn").fetchall()[0][0])
    for t in ("_ch_all", "_ch_scores", "_ch_consent"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    warnings = []
    if p.method == "cadence" and by_rule.get("threshold_fallback"):
        warnings.append(
            f"{by_rule['threshold_fallback']:,} customers with fewer than {MIN_PURCHASE_DAYS} "
            f"purchase days have no cadence yet; the {p.days}-day threshold decides for them "
            "(rule threshold_fallback)"
        )
    if p.method == "model" and by_rule.get("threshold_fallback"):
        warnings.append(
            f"{by_rule['threshold_fallback']:,} one-time buyers (BG/NBD deems them alive by "
            f"construction) or unscored customers: the {p.days}-day threshold decides for "
            "them (rule threshold_fallback)"
        )
    settle(con)
    return ChurnResult(con, as_of, p, customers, churned, by_rule, rows, consent, model_meta,
                       warnings)  # fmt: skip


# ----------------------------------------------------------------------------- Python API


def churn(
    inputs: Sequence[str] | str,
    options: LoadOptions | None = None,
    *,
    method: str = "threshold",
    churn_days: int | None = None,
    k: float = 3.0,
    alive_threshold: float = 0.5,
    model: str | None = None,
    only_churned: bool = False,
    since_days: int | None = None,
    consent_col: str | None = None,
) -> pl.DataFrame:
    """Churn flags per customer as a Polars DataFrame; the same parameters and defaults as
    ``clientela churn``."""
    from clientela.load import LoadOptions as _LoadOptions
    from clientela.load import load

    p = ChurnParams(method, churn_days, k, alive_threshold, model, only_churned, since_days,
                    consent_col)  # fmt: skip
    p.validate()
    opts = options or _LoadOptions()

    def loader(*, dimensions: list[str]) -> Loaded:
        return load(inputs, replace(opts, dimensions=dimensions))

    loaded = load_for_churn(loader, consent_col, opts.customers is not None)
    try:
        compute_churn(loaded, p)
        frame: pl.DataFrame = loaded.con.sql("SELECT * FROM churn").pl()
        return frame
    finally:
        loaded.con.close()


make_module_callable(__name__, churn)  # clientela.churn(...) is the function
