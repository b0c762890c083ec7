"""RFM: per-customer recency/frequency/monetary, tie-aware scores, segments, summaries,
and the BTYD summary used by lifetimes-style models.

Contract (DESIGN.md, Definitions: RFM and BTYD summary):
- :func:`compute_rfm` takes a loaded connection (``orders``) and :class:`RfmParams` and
  creates the temp tables ``rfm`` (one row per customer with a purchase) and
  ``rfm_summary`` (one row per segment, per group with ``by``); it returns an
  :class:`RfmResult` with the cut points used, warnings and counts. Nothing is printed.
- Quantile scores: score = 1 + floor(N·(rank−1)/n), rank = RANK() from worst to best
  (equal values, equal scores; the best get N). Without ``by`` the cut points come from
  order statistics (no sort): the score-k threshold is the smallest value strictly above
  the ⌈(k−1)n/N⌉-th smallest value; with ``by`` the same rule runs as window ranks per
  group (sql/rfm_rank_scores.sql). Both are checked against a plain reference in tests.
- :func:`compute_btyd` creates ``btyd``: frequency, recency, T, monetary_value per customer
  (purchases collapsed per calendar day; unit days or weeks), with holdout columns when a
  calibration end is given, as lifetimes 0.11.3 defines them.
- :func:`rfm` is the Python API: same parameters and defaults as ``clientela rfm``,
  returning a Polars DataFrame.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from clientela._callable import make_module_callable
from clientela.errors import InputDataError, UsageError
from clientela.segments import SegmentMap, get_map
from clientela.sqlfiles import quote_ident, read_sql, sql_text

if TYPE_CHECKING:
    import duckdb
    import polars as pl

    from clientela.load import Loaded, LoadOptions

DIMENSIONS = ("r", "f", "m")
# value column, and the expression that orders customers from worst to best (ascending)
_ASCENDING = {"r": "-recency_days", "f": "frequency", "m": "monetary"}
_NATURAL = {"r": "recency_days", "f": "frequency", "m": "monetary"}
RFM_COLUMNS = frozenset({
    "customer_id", "first_purchase", "last_purchase", "recency_days", "frequency", "monetary",
    "avg_order_value", "r_score", "f_score", "m_score", "rfm_score", "segment", "segment_label",
    "customers", "share_customers", "revenue", "share_revenue", "mean_recency_days",
    "mean_frequency", "mean_monetary", "suggested_action", "r", "f", "m", "action",
})  # fmt: skip


@dataclass
class RfmParams:
    """The parameters of ``clientela rfm`` (same names and defaults)."""

    bins: int = 5
    scoring: str = "quantile"  # "quantile" | "fixed"
    r_cuts: Sequence[float] | None = None  # fixed: recency days, best first (ascending days)
    f_cuts: Sequence[float] | None = None  # fixed: purchases, ascending
    m_cuts: Sequence[float] | None = None  # fixed: net revenue, ascending
    segments: str | None = None  # rfm10 (default), rfm11, or a TOML file
    lang: str = "en"  # "en" | "pt"
    by: str | None = None
    by_mode: str = "first"  # "first" | "last"

    def validate(self) -> None:
        if not 2 <= self.bins <= 10:
            raise UsageError(f"--bins {self.bins}: use a number from 2 to 10")
        if self.scoring not in ("quantile", "fixed"):
            raise UsageError(f"--scoring {self.scoring!r}: use quantile or fixed")
        if self.lang not in ("en", "pt"):
            raise UsageError(f"--lang {self.lang!r}: use en or pt")
        if self.by_mode not in ("first", "last"):
            raise UsageError(f"--by-mode {self.by_mode!r}: use first or last")
        get_map(self.segments, self.bins)  # a bad map is refused before any work
        given = {
            d: c
            for d, c in zip(DIMENSIONS, (self.r_cuts, self.f_cuts, self.m_cuts), strict=True)
            if c is not None
        }
        if self.scoring == "quantile" and given:
            raise UsageError("--r-cuts/--f-cuts/--m-cuts need --scoring fixed")
        if self.scoring == "fixed":
            for d in DIMENSIONS:
                cuts = given.get(d)
                if cuts is None:
                    raise UsageError(
                        f"--scoring fixed needs --{d}-cuts with {self.bins - 1} thresholds "
                        f"(e.g. --{d}-cuts {_example_cuts(d, self.bins)})"
                    )
                if len(cuts) != self.bins - 1:
                    raise UsageError(
                        f"--{d}-cuts: give {self.bins - 1} thresholds for --bins {self.bins}, "
                        f"got {len(cuts)}"
                    )
                if any(b <= a for a, b in itertools.pairwise(cuts)):
                    raise UsageError(f"--{d}-cuts: thresholds must increase strictly")


#: monetary (a DOUBLE already rounded to cents) as an exact integer number of cents
_CENTS = "CAST(CAST(monetary AS DECIMAL(38, 2)) * 100 AS HUGEINT)"


def _example_cuts(d: str, bins: int) -> str:
    examples = {
        "r": [30, 90, 180, 365, 540, 730, 900, 1080, 1260],
        "f": [2, 3, 5, 8, 12, 20, 30, 50, 80],
        "m": [50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000],
    }
    return ",".join(str(v) for v in examples[d][: bins - 1])


def parse_cuts(text: str | None, flag: str) -> list[float] | None:
    """``--r-cuts 30,90,180,365`` -> [30.0, 90.0, 180.0, 365.0]."""
    if text is None:
        return None
    try:
        return [float(x) for x in text.replace(";", ",").split(",") if x.strip()]
    except ValueError:
        raise UsageError(f"{flag} {text!r}: give numbers separated by commas") from None


@dataclass
class RfmResult:
    con: duckdb.DuckDBPyConnection
    as_of: dt.date
    params: RfmParams
    segment_map: SegmentMap
    customers: int  # customers scored
    no_purchase: int  # customers with orders but no purchase (only refunds / zero orders)
    cuts: dict[str, Any]  # per dimension: rule and thresholds (per group with by)
    distinct_scores: dict[str, int]
    warnings: list[str] = field(default_factory=list)
    by_column: str | None = None

    def metadata(self) -> dict[str, Any]:
        """What the output's metadata holds (Parquet key-value, xlsx sheet, --meta JSON)."""
        return {
            "clientela_analysis": "rfm",
            "as_of": self.as_of.isoformat(),
            "bins": self.params.bins,
            "scoring": self.params.scoring,
            "cut_points": self.cuts,
            "segments": self.segment_map.name,
            "lang": self.params.lang,
            "by": self.by_column,
            "by_mode": self.params.by_mode if self.by_column else None,
            "customers_scored": self.customers,
            "customers_without_purchase": self.no_purchase,
            "warnings": self.warnings,
        }


def compute_rfm(
    loaded: Loaded, params: RfmParams | None = None, values: str | None = None
) -> RfmResult:
    """Create ``rfm`` and ``rfm_summary`` in the loaded connection. See the module docstring.

    ``values``: a query giving sql/rfm_values.sql's rows (the same columns, the same as-of
    date) from a table made already, used instead of that pass over the orders; without
    --by only. The report takes them from its status rows, which carry the same values."""
    from clientela.load import dimension_column, settle

    p = params or RfmParams()
    p.validate()
    con = loaded.con
    as_of = loaded.report.as_of
    if as_of is None:  # pragma: no cover - load always sets it
        raise InputDataError("no as-of date could be determined")
    segmap = get_map(p.segments, p.bins)
    by_col = dimension_column(loaded, p.by)
    if values is not None and by_col is not None:
        raise ValueError("values are per customer, without --by")
    grp = "''" if by_col is None else f"coalesce(CAST({quote_ident(by_col)} AS VARCHAR), '(none)')"
    con.execute(f"CREATE OR REPLACE TEMP VIEW _rfm_orders AS SELECT *, {grp} AS _grp FROM orders")
    source = values or read_sql("rfm_values" if by_col is None else "rfm_values_by")
    con.execute(
        # rounded to cents on the decimal value (exact to 6 decimals), not on the binary
        # double: round(242.575::DOUBLE, 2) is 242.57 since DuckDB 2.0.1
        "CREATE OR REPLACE TEMP TABLE _rfm_values AS SELECT * REPLACE (CAST(round(CAST("
        f"monetary AS DECIMAL(38, 6)), 2) AS DOUBLE) AS monetary) FROM ({source})",
        {} if values is not None
        else {"as_of": as_of} if by_col is None
        else {"as_of": as_of, "by_last": p.by_mode == "last"},
    )
    n = int(con.execute("SELECT count(*) FROM _rfm_values").fetchall()[0][0])
    customers = loaded.report.orders.get("customers")  # counted by the loader already
    if customers is None:  # pragma: no cover - load always counts them
        customers = con.execute("SELECT count(DISTINCT customer_id) FROM orders").fetchall()[0][0]
    no_purchase = max(int(customers) - n, 0)
    if n == 0:
        raise InputDataError(
            "no customer has a purchase (an order with positive net value) up to the as-of "
            f"date {as_of}; check --as-of, the amount column, or --zero-orders purchase"
        )

    if p.scoring == "fixed":
        cuts = _fixed_cuts(p)
        _score_by_cuts(con, cuts, p.bins)
    elif by_col is None:
        cuts = _quantile_cuts(con, n, p.bins)
        _score_by_cuts(con, cuts, p.bins)
    else:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _rfm_ranked AS {read_sql('rfm_rank_scores')}",
            {"bins": p.bins},
        )
        con.execute("CREATE OR REPLACE TEMP VIEW _rfm_scored AS SELECT * FROM _rfm_ranked")
        cuts = _group_cuts(con)

    _segment_cells(con, segmap, p.lang)
    score_text = (
        "r_score::VARCHAR || f_score::VARCHAR || m_score::VARCHAR"
        if p.bins <= 9
        else "r_score::VARCHAR || '-' || f_score::VARCHAR || '-' || m_score::VARCHAR"
    )
    # the group column keeps its name unless it would clash with an RFM column
    by_name = "" if by_col is None else by_col if by_col not in RFM_COLUMNS else f"by_{by_col}"
    by_out = f"_grp AS {quote_ident(by_name)}, " if by_col else ""
    # sorted first, then the segment looked up by cell position in the map's lists (every
    # (r, f, m) cell is in _seg_cells): a join carried the text through the sort, 1.7x as
    # slow at 27M customers
    # (the lists are literals, so the plan is a projection over the sort, which keeps its
    # order; a subquery for them would be a join)
    cell = f"(r_score - 1) * {p.bins * p.bins} + (f_score - 1) * {p.bins} + m_score"
    segments, labels = _cell_lists(segmap, p.bins, p.lang)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE rfm AS SELECT customer_id, "
        f"{by_out}first_purchase, last_purchase, recency_days, frequency, monetary, "
        # avg_order_value: monetary (already in cents) / frequency, rounded half away from
        # zero in exact integer arithmetic on the cents; round(monetary / frequency, 2)
        # rounds the binary double instead (970.30 / 4 = 242.57499...: 242.57 since DuckDB
        # 2.0.1, 242.58 before), and a double division misrounds ties above 2^53 micro-units
        f"CAST(sign({_CENTS}) * ((2 * abs({_CENTS}) + frequency) // (2 * frequency)) AS DOUBLE) "
        "/ 100 AS avg_order_value, "
        "r_score, f_score, m_score, "
        f"{score_text} AS rfm_score, ({segments})[{cell}] AS segment, "
        f"({labels})[{cell}] AS segment_label "
        "FROM (SELECT * FROM _rfm_scored ORDER BY customer_id)"
    )
    by_group = f"{quote_ident(by_name)}, " if by_col else ""
    over = f"PARTITION BY {quote_ident(by_name)}" if by_col else ""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE rfm_summary AS SELECT {by_group}r.segment, "
        "any_value(r.segment_label) AS segment_label, count(*) AS customers, "
        f"round(count(*) / sum(count(*)) OVER ({over})"
        ", 4) AS share_customers, "
        "round(sum(monetary), 2) AS revenue, "
        f"round(sum(monetary) / nullif(sum(sum(monetary)) OVER ("
        f"{over}), 0), 4) AS share_revenue, "
        "round(avg(recency_days), 1) AS mean_recency_days, round(avg(frequency), 2) AS "
        "mean_frequency, round(avg(monetary), 2) AS mean_monetary, any_value(a.action) AS "
        "suggested_action FROM rfm r JOIN _seg_actions a ON r.segment = a.segment "
        f"GROUP BY {by_group}r.segment ORDER BY {by_group}revenue DESC, r.segment"
    )
    distinct = con.execute(
        "SELECT count(DISTINCT r_score), count(DISTINCT f_score), count(DISTINCT m_score) FROM rfm"
    ).fetchone()
    assert distinct is not None
    distinct_scores = dict(zip(("r", "f", "m"), (int(v) for v in distinct), strict=True))
    warnings = [
        f"{_NATURAL[d]} produced {k} distinct scores for {p.bins} bins (many customers share "
        f"the same value{'; most bought once' if d == 'f' else ''}); equal values always get "
        "equal scores"
        for d, k in distinct_scores.items()
        if k < p.bins
    ]
    con.execute("DROP VIEW IF EXISTS _rfm_scored")
    for t in ("_rfm_ranked", "_rfm_values"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    settle(con)
    return RfmResult(con, as_of, p, segmap, n, no_purchase, cuts, distinct_scores, warnings, by_col)


def _fixed_cuts(p: RfmParams) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for d, cuts in zip(DIMENSIONS, (p.r_cuts, p.f_cuts, p.m_cuts), strict=True):
        assert cuts is not None
        if d == "r":  # ascending days: the first threshold is the best score
            thresholds = {str(p.bins - i): float(c) for i, c in enumerate(cuts)}
        else:
            thresholds = {str(i + 2): float(c) for i, c in enumerate(cuts)}
        out[_NATURAL[d]] = _cut_doc(d, thresholds)
    return out


def _cut_doc(d: str, thresholds: Mapping[str, float | None]) -> dict[str, Any]:
    rule = (
        "score k when recency_days <= threshold[k]"
        if d == "r"
        else f"score k when {_NATURAL[d]} >= threshold[k]"
    )
    return {"rule": rule + " (highest k that holds; else 1)", "thresholds": thresholds}


def _quantile_cuts(con: duckdb.DuckDBPyConnection, n: int, bins: int) -> dict[str, Any]:
    """Thresholds from order statistics: score >= k iff value > x_(m_k - 1), m_k = ⌈(k-1)n/N⌉."""
    ms = [-(-(k - 1) * n // bins) for k in range(2, bins + 1)]
    qs = [(m - 0.5) / n for m in ms]  # quantile_disc picks index ceil(q*n) - 1 = m - 1
    exprs = ", ".join(f"quantile_disc({_ASCENDING[d]}, ?)" for d in DIMENSIONS)
    row = con.execute(f"SELECT {exprs} FROM _rfm_values", [qs, qs, qs]).fetchone()
    assert row is not None
    below = dict(zip(DIMENSIONS, row, strict=True))
    mins = []
    params: list[Any] = []
    for d in DIMENSIONS:
        for v in below[d]:
            mins.append(f"min({_ASCENDING[d]}) FILTER (WHERE {_ASCENDING[d]} > ?)")
            params.append(v)
    got = con.execute(f"SELECT {', '.join(mins)} FROM _rfm_values", params).fetchone()
    assert got is not None
    out: dict[str, Any] = {}
    for i, d in enumerate(DIMENSIONS):
        vals = got[i * (bins - 1) : (i + 1) * (bins - 1)]
        thresholds: dict[str, float | None] = {}
        for k, v in zip(range(2, bins + 1), vals, strict=True):
            if v is None:
                thresholds[str(k)] = None
            else:
                thresholds[str(k)] = float(-v) if d == "r" else float(v)
        out[_NATURAL[d]] = _cut_doc(d, thresholds)
    return out


def _score_by_cuts(con: duckdb.DuckDBPyConnection, cuts: dict[str, Any], bins: int) -> None:
    cases = []
    for d in DIMENSIONS:
        th = cuts[_NATURAL[d]]["thresholds"]
        whens = []
        for k in range(bins, 1, -1):
            t = th.get(str(k))
            if t is None:
                continue
            op = "<=" if d == "r" else ">="
            whens.append(f"WHEN {_NATURAL[d]} {op} {_number_sql(t)} THEN {k}")
        cases.append(
            f"CASE {' '.join(whens)} ELSE 1 END AS {d}_score" if whens else f"1 AS {d}_score"
        )
    # a view, not a table: the scores are computed once, as the rfm table is written
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW _rfm_scored AS SELECT *, {', '.join(cases)} FROM _rfm_values"
    )


def _number_sql(value: Any) -> str:
    """A threshold as a SQL number literal (views take no parameters). Only numbers
    reach here (cut points computed by DuckDB or validated from --r/f/m-cuts)."""
    import math

    if isinstance(value, bool):
        raise TypeError(f"not a number: {value!r}")  # pragma: no cover - internal guard
    if isinstance(value, int):
        return str(value)
    number = float(value)
    if not math.isfinite(number):
        raise TypeError(f"not a finite number: {value!r}")  # pragma: no cover
    return f"CAST('{number!r}' AS DOUBLE)"


def _group_cuts(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Thresholds per group, read back from window-ranked scores (documentation only)."""
    out: dict[str, Any] = {}
    for d in DIMENSIONS:
        agg = "max" if d == "r" else "min"
        rows = con.execute(
            f"SELECT _grp, {d}_score, {agg}({_NATURAL[d]}) FROM _rfm_scored "
            f"WHERE {d}_score > 1 GROUP BY ALL ORDER BY 1, 2"
        ).fetchall()
        per: dict[str, dict[str, float | None]] = {}
        for g, k, v in rows:
            per.setdefault(str(g), {})[str(k)] = float(v)
        out[_NATURAL[d]] = {
            "rule": _cut_doc(d, {})["rule"],
            "thresholds_by_group": per,
        }
    return out


def _cell_lists(segmap: SegmentMap, bins: int, lang: str) -> tuple[str, str]:
    """SQL list literals of the segment and its label for every (r, f, m) cell, in the
    order of the cell index (r - 1) * bins^2 + (f - 1) * bins + m."""
    order = [
        (r, f, m)
        for r in range(1, bins + 1)
        for f in range(1, bins + 1)
        for m in range(1, bins + 1)
    ]
    if segmap.bins != bins or sorted(segmap.assign) != order:  # pragma: no cover
        raise RuntimeError(f"segment map {segmap.name!r} does not cover every cell once")
    segs = [segmap.assign[c] for c in order]
    seg_sql = ", ".join(sql_text(v) for v in segs)
    label_sql = ", ".join(sql_text(segmap.segments[v].label(lang)) for v in segs)
    return f"[{seg_sql}]::VARCHAR[]", f"[{label_sql}]::VARCHAR[]"


def _segment_cells(con: duckdb.DuckDBPyConnection, segmap: SegmentMap, lang: str) -> None:
    import pyarrow as pa

    cells = segmap.cells()
    table = pa.table(
        {
            "r": [c[0] for c in cells],
            "f": [c[1] for c in cells],
            "m": [c[2] for c in cells],
            "segment": [c[3] for c in cells],
            "segment_label": [segmap.segments[c[3]].label(lang) for c in cells],
        }
    )
    actions = pa.table(
        {
            "segment": list(segmap.segments),
            "action": [s.action(lang) for s in segmap.segments.values()],
        }
    )
    con.register("_seg_cells_arrow", table)
    con.register("_seg_actions_arrow", actions)
    con.execute("CREATE OR REPLACE TEMP TABLE _seg_cells AS SELECT * FROM _seg_cells_arrow")
    con.execute("CREATE OR REPLACE TEMP TABLE _seg_actions AS SELECT * FROM _seg_actions_arrow")
    con.unregister("_seg_cells_arrow")
    con.unregister("_seg_actions_arrow")


# --------------------------------------------------------------------------------- BTYD


@dataclass
class BtydResult:
    con: duckdb.DuckDBPyConnection
    as_of: dt.date
    unit: str
    calibration_end: dt.date | None
    customers: int

    def metadata(self) -> dict[str, Any]:
        return {
            "clientela_analysis": "btyd_summary",
            "as_of": self.as_of.isoformat(),
            "unit": self.unit,
            "calibration_end": self.calibration_end.isoformat() if self.calibration_end else None,
            "customers": self.customers,
            "definition": "purchases collapsed per calendar day; frequency = repeat days; "
            "recency = last - first day; T = end - first day; monetary_value = mean of "
            "repeat-day sums (0 without repeats)",
        }


def compute_btyd(
    loaded: Loaded, unit: str = "days", calibration_end: str | dt.date | None = None
) -> BtydResult:
    """Create ``btyd`` (lifetimes' summary, or calibration + holdout columns)."""
    from clientela.load import parse_as_of, settle

    if unit not in ("days", "weeks"):
        raise UsageError(f"--unit {unit!r}: use days or weeks")
    con = loaded.con
    as_of = loaded.report.as_of
    assert as_of is not None
    factor = 7.0 if unit == "weeks" else 1.0
    cal = (
        parse_as_of(calibration_end, loaded.report.tz, "--calibration-end")
        if calibration_end
        else None
    )
    if cal is not None and cal >= as_of:
        raise UsageError(
            f"--calibration-end {cal}: must be before the as-of date {as_of} (the holdout "
            "period is the time after it)"
        )
    end = cal or as_of
    summary = read_sql("btyd_summary")
    if cal is None:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE btyd AS {summary} ORDER BY customer_id",
            {"end": end, "unit": factor},
        )
    else:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE btyd AS SELECT s.*, "
            "coalesce(h.frequency_holdout, 0) AS frequency_holdout, "
            "coalesce(h.monetary_value_holdout, 0) AS monetary_value_holdout, "
            "date_diff('day', $end, $as_of) / $unit AS duration_holdout "
            f"FROM ({summary}) s LEFT JOIN ({read_sql('btyd_holdout')}) h USING (customer_id) "
            "ORDER BY customer_id",
            {"end": end, "unit": factor, "as_of": as_of, "cal_end": end},
        )
    row = con.execute("SELECT count(*) FROM btyd").fetchone()
    customers = int(row[0]) if row else 0
    if customers == 0:
        raise InputDataError(f"no customer has a purchase on or before {end}")
    settle(con)
    return BtydResult(con, as_of, unit, cal, customers)


# ----------------------------------------------------------------------------- Python API


def rfm(
    inputs: Sequence[str] | str,
    options: LoadOptions | None = None,
    *,
    bins: int = 5,
    scoring: str = "quantile",
    r_cuts: Sequence[float] | None = None,
    f_cuts: Sequence[float] | None = None,
    m_cuts: Sequence[float] | None = None,
    segments: str | None = None,
    lang: str = "en",
    by: str | None = None,
    by_mode: str = "first",
    summary: bool = False,
    model: str = "rfm",
    unit: str = "days",
    calibration_end: str | dt.date | None = None,
) -> pl.DataFrame:
    """RFM per customer (or per segment with ``summary=True``; or the BTYD summary with
    ``model="btyd"``) as a Polars DataFrame.

    The same parameters and defaults as ``clientela rfm``. For data too large for memory,
    use :func:`clientela.load` and :func:`compute_rfm`, which keep the result in DuckDB.
    """
    if model not in ("rfm", "btyd"):
        raise UsageError(f"model={model!r}: use rfm or btyd")
    from dataclasses import replace

    from clientela.load import LoadOptions as _LoadOptions
    from clientela.load import load

    opts = options or _LoadOptions()
    opts = replace(opts, dimensions=[by] if by is not None else [])
    loaded = load(inputs, opts)
    try:
        if model == "btyd":
            compute_btyd(loaded, unit, calibration_end)
            btyd_frame: pl.DataFrame = loaded.con.sql("SELECT * FROM btyd").pl()
            return btyd_frame
        compute_rfm(
            loaded, RfmParams(bins, scoring, r_cuts, f_cuts, m_cuts, segments, lang, by, by_mode)
        )
        frame: pl.DataFrame = loaded.con.sql(
            f"SELECT * FROM {'rfm_summary' if summary else 'rfm'}"
        ).pl()
        return frame
    finally:
        loaded.con.close()


make_module_callable(__name__, rfm)  # clientela.rfm(...) is the function
