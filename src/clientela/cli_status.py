"""The ``clientela status`` and ``clientela churn`` commands (registered on the main app by
clientela.cli). Each parses its options, makes one library call (clientela.status,
clientela.churn) and renders; nothing is computed here."""

from __future__ import annotations

import sys
from typing import Annotated, Any, Optional

import typer

from clientela.cli_common import Run, analysis_command, err
from clientela.cli_options import (
    ActiveDays,
    InactiveDays,
    Inputs,
    NewDays,
    VipMinRevenue,
    VipShare,
    VipWindowDays,
)
from clientela.errors import UsageError

app = typer.Typer()

HIST = "History and transitions"
LIST = "Win-back list"


def _rule_lines(rules: dict[str, str], as_of: Any = None) -> None:
    when = f" at {as_of}" if as_of is not None else ""
    err(f"status rules{when} (first match wins):")
    width = max(len(k) for k in rules)
    for name, text in rules.items():
        err(f"  {name:<{width}}  {text}")


@app.command()
@analysis_command()
def status(
    inputs: Inputs,
    new_days: NewDays = 30,
    active_days: ActiveDays = 90,
    inactive_days: InactiveDays = 180,
    vip_share: VipShare = None,
    vip_min_revenue: VipMinRevenue = None,
    vip_window_days: VipWindowDays = 365,
    keep: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--keep",
            help="CRM columns to carry into the output (consent, segment; "
            "not names, e-mails or phones): --keep marketing_consent,segment_crm.",
        ),
    ] = None,
    summary: Annotated[
        bool, typer.Option("--summary", help="One row per status instead of per customer.")
    ] = False,
    history: Annotated[
        bool,
        typer.Option(
            "--history",
            help="Customers per status at the end of every complete week or month.",
            rich_help_panel=HIST,
        ),
    ] = False,
    every: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--every",
            help="--history: week (ISO, Monday to Sunday) or month (default).",
            rich_help_panel=HIST,
        ),
    ] = None,
    since: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--since",
            help="--history: start at the period holding this date (default: the first purchase).",
            rich_help_panel=HIST,
        ),
    ] = None,
    shape: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--shape",
            help="--history: long (period, status, customers...) or wide "
            "(a column per status); default long, wide on a terminal.",
            rich_help_panel=HIST,
        ),
    ] = None,
    from_date: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--from",
            help="Transition matrix: status at this date against --to.",
            rich_help_panel=HIST,
        ),
    ] = None,
    to_date: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--to",
            help="Transition matrix: the later date (default: the as-of date).",
            rich_help_panel=HIST,
        ),
    ] = None,
    *,
    run: Run,
) -> None:
    """Status per customer: new, active, at risk, inactive, VIP, reactivated or prospect;
    a summary per status, the history per week or month, and transitions between two dates.

    Examples: clientela status orders.csv | clientela status x.csv -o status.xlsx
    --customers crm.csv --keep segment | clientela status x.csv --history --every week |
    clientela status x.csv --from 2025-11-30 --to 2025-12-31
    """
    from clientela import status as st

    params = st.StatusParams(
        new_days=new_days,
        active_days=active_days,
        inactive_days=inactive_days,
        vip_share=vip_share,
        vip_min_revenue=vip_min_revenue,
        vip_window_days=vip_window_days,
        keep=st.parse_keep(keep),
        allow_pii=run.allow_pii,
    )
    params.validate()
    if not history:
        for flag, value in (("--every", every), ("--since", since), ("--shape", shape)):
            if value is not None:
                raise UsageError(f"{flag}: needs --history")
    if history and summary:
        raise UsageError("--summary and --history: choose one")
    if to_date is not None and from_date is None:
        raise UsageError("--to: needs --from (the earlier date of the transition matrix)")
    if from_date is not None and (history or summary):
        raise UsageError("--from: the transition matrix is its own table; drop "
                         f"{'--history' if history else '--summary'}")  # fmt: skip
    if keep is not None and (history or summary or from_date is not None):
        raise UsageError("--keep: applies to the per-customer table only")
    if every is not None and every not in st.EVERY:
        raise UsageError(f"--every {every!r}: use week or month")
    if shape is not None and shape not in st.SHAPES:
        raise UsageError(f"--shape {shape!r}: use long or wide")
    st.parse_date(since, "--since")
    st.parse_date(from_date, "--from")
    st.parse_date(to_date, "--to")
    loaded = run.load(dimensions=[])

    if history:
        res_h = st.compute_history(loaded, params, every or "month", since)
        meta = res_h.metadata()
        err(
            f"status at the end of {res_h.periods:,} {res_h.every}s, "
            f"{res_h.first_period_end} to {res_h.last_period_end} (periods ending after the "
            f"as-of date {res_h.as_of} are incomplete and left out)"
        )
        wide = shape == "wide" or (shape is None and run.to_terminal)
        table = "status_history_wide" if wide else "status_history"
        run.emit(loaded.con, f"SELECT * FROM {table}", metadata=meta,
                 title=f"Customers per status, every {res_h.every}")  # fmt: skip
        _rule_lines(meta["rules"])
        run.write_meta(meta)
        return

    if from_date is not None:
        res_t = st.compute_transitions(loaded, params, from_date, to_date)
        meta = res_t.metadata()
        err(
            f"status transitions {res_t.from_date} -> {res_t.to_date}: "
            f"{res_t.population_from:,} customers at {res_t.from_date}, {res_t.entrants:,} "
            "new since (from_status none)"
        )
        run.emit(loaded.con, "SELECT * FROM status_transitions", metadata=meta,
                 title=f"Status transitions {res_t.from_date} -> {res_t.to_date}")  # fmt: skip
        _rule_lines(meta["rules"])
        run.write_meta(meta)
        return

    res = st.compute_status(loaded, params)
    meta = res.metadata()
    err(f"status of {res.customers:,} customers at {res.as_of}")
    for w in res.warnings:
        err(f"warning: {w}")
    title = f"Customers per status at {res.as_of}"
    if run.to_terminal and not summary:
        # a person at a terminal: the summary per status; per-customer rows on request
        run.emit(loaded.con, "SELECT * FROM status_summary", title=title)
        _rule_lines(meta["rules"], res.as_of)
        err("per-customer statuses: -o status.csv (or .parquet, .xlsx); --summary for this table")
    else:
        table = "status_summary" if summary else "status"
        run.emit(loaded.con, f"SELECT * FROM {table}", metadata=meta, title=title)
        if run.output not in (None, "-") and sys.stdout.isatty() and not summary:
            run.emit(loaded.con, "SELECT * FROM status_summary", output=None, fmt="table",
                     title=title)  # fmt: skip
        _rule_lines(meta["rules"], res.as_of)
    run.write_meta(meta)


@app.command()
@analysis_command()
def churn(
    inputs: Inputs,
    method: Annotated[
        str,
        typer.Option(
            "--method",
            help="threshold (no purchase in --churn-days), cadence "
            "(silent for --k x the customer's median gap) or model (BG/NBD "
            "probability alive below --alive-threshold).",
        ),
    ] = "threshold",
    churn_days: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(
            "--churn-days",
            help="threshold: churned after N days without a purchase "
            "(default 180, the inactive threshold of status).",
        ),
    ] = None,
    k: Annotated[
        float,
        typer.Option(
            "--k",
            help="cadence: churned when silent for more than k x the "
            "median gap between purchase days (3 or more purchase days; "
            "others use the threshold).",
        ),
    ] = 3.0,
    alive_threshold: Annotated[
        float, typer.Option("--alive-threshold", help="model: churned when P(alive) is below this.")
    ] = 0.5,
    model: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--model", help="model: a model saved by clientela clv (JSON) instead of fitting one."
        ),
    ] = None,
    only_churned: Annotated[
        bool,
        typer.Option(
            "--only-churned",
            help="Only churned customers (with --consent-col: only those who consented).",
            rich_help_panel=LIST,
        ),
    ] = False,
    since_days: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(
            "--since-days",
            help="Only customers whose last purchase is at most N "
            "days ago (with --only-churned: the recently lapsed).",
            rich_help_panel=LIST,
        ),
    ] = None,
    consent_col: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--consent-col",
            help="Marketing consent column (CRM file or orders): "
            "yes/no, true/false, sim/não, 1/0; empty = no consent.",
            rich_help_panel=LIST,
        ),
    ] = None,
    *,
    run: Run,
) -> None:
    """Churn flags per customer, the rule that decided each, and a win-back contact list.

    Examples: clientela churn orders.csv | clientela churn x.csv --method cadence --k 3 |
    clientela churn x.csv --only-churned --since-days 365 --customers crm.csv
    --consent-col marketing_consent -o winback.csv
    """
    from clientela import churn as ch

    params = ch.ChurnParams(
        method=method,
        churn_days=churn_days,
        k=k,
        alive_threshold=alive_threshold,
        model=model,
        only_churned=only_churned,
        since_days=since_days,
        consent_col=consent_col,
    )
    params.validate()
    run.check_output(model)
    loaded = ch.load_for_churn(run.load, consent_col, run.load_options.customers is not None)
    res = ch.compute_churn(loaded, params)
    meta = res.metadata()
    pct = 100 * res.churned / res.customers
    err(
        f"churn at {res.as_of} ({params.method}: {params.describe()}): {res.churned:,} of "
        f"{res.customers:,} customers churned ({pct:.1f}%)"
    )
    for w in res.warnings:
        err(f"warning: {w}")
    if res.consent is not None and params.only_churned:
        c = res.consent
        err(
            f"left out {c['left_out']:,} customers without consent (column {c['column']!r} of "
            f"the {c['source']}; {c['without_value']:,} of them with no value)"
        )
    if params.only_churned or params.since_days is not None:
        err(f"list: {res.rows:,} customers")
    run.emit(loaded.con, "SELECT * FROM churn", metadata=meta,
             title=f"Churn at {res.as_of} ({params.method})")  # fmt: skip
    run.write_meta(meta)
