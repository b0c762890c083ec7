"""The ``clientela cohorts``-family commands (registered on the main app by clientela.cli).

Options are parsed here, the work is one call to :func:`clientela.cohorts.compute_cohorts`,
and the table goes to the shared writer with presentation hints (percentages, heat map,
partial-cell marks) for the readable formats.
"""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from clientela.cli_common import Run, analysis_command, err
from clientela.cli_options import Inputs

#: on a terminal, without --max-periods: period indexes 0..K, K at most this and what fits
#: the terminal's width
TERMINAL_PERIODS = 12
#: on a terminal: the most recent cohorts (trend: periods) shown, per --by block
TERMINAL_COHORTS = 24
TERMINAL_COHORTS_BY = 12

app = typer.Typer()


@app.command()
@analysis_command()
def cohorts(
    inputs: Inputs,
    period: Annotated[
        str,
        typer.Option(
            "--period",
            help="Calendar period of cohorts and cells: day, week (ISO, Monday first), month, "
            "quarter or year, in the --tz zone.",
        ),
    ] = "month",
    metric: Annotated[
        str,
        typer.Option(
            "--metric",
            help="customers (with a purchase in the period), orders (purchases) or revenue "
            "(net of refunds).",
        ),
    ] = "customers",
    values: Annotated[
        str,
        typer.Option(
            "--values",
            help="rate: cell / cohort size (revenue: / the cohort's period-0 net revenue); "
            "count: the cell itself.",
        ),
    ] = "rate",
    cumulative: Annotated[
        bool,
        typer.Option(
            "--cumulative",
            help="'On or after' (unbounded) values: a customer counts in period k if they buy "
            "in k or any later observed period.",
        ),
    ] = False,
    shape: Annotated[
        str,
        typer.Option(
            "--shape",
            help="wide: one row per cohort, one column per period index, an average row; "
            "long: one row per cell (for machines).",
        ),
    ] = "wide",
    max_periods: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(
            "--max-periods",
            help="Period indexes 0..K (default: all; on a terminal what fits, up to "
            f"{TERMINAL_PERIODS}).",
        ),
    ] = None,
    include_partial: Annotated[
        bool,
        typer.Option(
            "--include-partial",
            help="Show the unfinished as-of period too, its cells marked partial (default: "
            "left out).",
        ),
    ] = False,
    fill_gaps: Annotated[
        bool,
        typer.Option(
            "--fill-gaps", help="Show cohorts that won no customer (a gap month) with size 0."
        ),
    ] = False,
    by: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--by",
            help="Split cohorts by a column of the first purchase (channel, category, state).",
        ),
    ] = None,
    since: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--since",
            help="YYYY-MM-DD: the first cohort (--trend: period) shown; membership still uses "
            "all history.",
        ),
    ] = None,
    trend: Annotated[
        bool,
        typer.Option(
            "--trend",
            help="Retention over time instead: per period active, new, returning, retained, "
            "reactivated, churned, retention and churn rates, net revenue retention.",
        ),
    ] = False,
    *,
    run: Run,
) -> None:
    """Cohort retention: customers grouped by the period of their first purchase, and how
    many came back in each later period; or retention over time (--trend).

    Examples: clientela cohorts orders.csv | clientela cohorts x.csv -o cohorts.xlsx |
    clientela cohorts x.csv --period week --metric revenue --cumulative |
    clientela cohorts x.csv --by channel | clientela cohorts x.csv --trend -o trend.csv
    """
    from clientela.cohorts import CohortParams, compute_cohorts

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
    terminal = run.to_terminal
    capped = terminal and max_periods is None and not trend and shape == "wide"
    if capped:
        params.max_periods = _fitting_periods(by is not None, values == "count")
    loaded = run.load(dimensions=[by] if by else [])
    run.guard_personal(loaded.con, "orders", [by] if by else [], "--by")
    res = compute_cohorts(loaded, params)
    metadata = res.metadata()
    _report(res)

    options: dict[str, Any] = {"percent_columns": res.rate_columns}
    if res.by_name:
        options["section_column"] = res.by_name
    if not trend and shape == "wide":
        options["heat_columns"] = res.period_columns[1:]  # period 0 is the base itself
        if values == "count":
            options["heat_base_column"] = "0" if metric == "revenue" else "cohort_size"
        else:
            from clientela.cohorts import AVERAGE_LABEL

            options["summary_row"] = ("cohort", AVERAGE_LABEL)
        if res.partial:  # the marked cells say it on screen; files keep the column
            options["marked_cell_column"] = "partial_period_index"
            options["hidden_columns"] = ["partial_period_index"]
    if res.partial:
        label = _period_label(res)
        options["footnote"] = (
            f"* partial {period} {label}: orders up to the as-of date {res.as_of}, not a whole "
            f"{period}"
        )
    sql = "SELECT * FROM cohorts"
    if terminal:
        recent = TERMINAL_COHORTS_BY if res.by_name else TERMINAL_COHORTS
        shown = res.periods if trend else res.cohorts // res.groups
        if shape == "wide" and shown > recent:
            sql = res.recent_sql(recent)
            what = "periods" if trend else "cohorts"
            err(f"showing the {recent} most recent {what}; all of them: -o cohorts.xlsx")
        if capped and res.max_period_index > res.periods:
            err(
                f"showing periods 0-{res.periods} of 0-{res.max_period_index}; more: "
                f"--max-periods {res.max_period_index}, or -o cohorts.xlsx"
            )
        options["max_terminal_rows"] = 400
    run.emit(loaded.con, sql, title=res.describe(), metadata=metadata, options=options)
    run.write_meta(metadata)


def _fitting_periods(by: bool, counts: bool) -> int:
    """How many period columns (0..K) fit beside the cohort label and size on this terminal:
    a percentage cell takes 9 columns with its padding and rule."""
    import shutil

    width = shutil.get_terminal_size((100, 24)).columns
    fixed = 24 + (14 if by else 0)
    cell = 10 if counts else 9
    return max(3, min(TERMINAL_PERIODS, (width - fixed) // cell - 1))


def _period_label(res: Any) -> str:
    from clientela.cohorts import period_label

    return period_label(res.last_period, res.params.period)


def _report(res: Any) -> None:
    """What was counted, on stderr."""
    p = res.params
    from clientela.cohorts import period_label

    first = period_label(res.first_cohort, p.period) if res.first_cohort else "?"
    last = period_label(res.last_period, p.period)
    groups = f" ({res.groups:,} {res.by_column} groups)" if res.by_column else ""
    err(
        f"{res.customers:,} customers in {res.cohorts:,} cohorts{groups} by {p.period} of first "
        f"purchase ({first} to {last}), as of {res.as_of}"
    )
    if res.left_out is not None:
        start, end = res.left_out
        acquired = (
            f"; {res.customers_in_partial_period:,} customers were acquired in it"
            if res.customers_in_partial_period
            else ""
        )
        err(
            f"the partial {p.period} {period_label(start, p.period)} (up to {res.as_of}, it ends "
            f"{end}) is left out{acquired}; --include-partial shows it, marked"
        )
    if res.customers_without_purchase:
        err(
            f"{res.customers_without_purchase:,} customers without a purchase (only refunds or "
            "zero-value orders) are in no cohort"
        )
    for w in res.warnings:
        err(f"warning: {w}")
