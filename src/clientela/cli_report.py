"""The ``clientela report``-family commands (registered on the main app by clientela.cli).

``clientela report`` parses options, loads once, makes one library call
(:func:`clientela.report.build_report`) and says where the folder went. On a terminal a
Rich progress display lists the steps with their elapsed time; off a terminal (cron,
pipes) nothing of it is written, and ``--quiet`` leaves only errors on stderr.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Annotated, Any, ClassVar, Optional

import typer

from clientela.cli_common import Run, analysis_command, err, report_load
from clientela.cli_options import (
    ActiveDays,
    InactiveDays,
    Inputs,
    NewDays,
    VipMinRevenue,
    VipShare,
    VipWindowDays,
)

app = typer.Typer()

REPORT = "Report"
THRESHOLDS = "Thresholds"


@app.command()
@analysis_command(output=False)
def report(
    inputs: Inputs,
    out_dir: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--out-dir", help="Folder to write the report into (required).", rich_help_panel=REPORT
        ),
    ] = None,
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite",
            help="Replace an existing non-empty --out-dir (atomically).",
            rich_help_panel=REPORT,
        ),
    ] = False,
    formats: Annotated[
        str,
        typer.Option(
            "--formats", help="Table files: parquet, csv or parquet,csv.", rich_help_panel=REPORT
        ),
    ] = "parquet,csv",
    lang: Annotated[
        str,
        typer.Option(
            "--lang", help="Page, sheet names and labels: en or pt.", rich_help_panel=REPORT
        ),
    ] = "en",
    period: Annotated[
        str,
        typer.Option(
            "--period",
            help="KPI period ending at the as-of date, compared with the "
            "one before: week, month or quarter.",
            rich_help_panel=REPORT,
        ),
    ] = "week",
    cohort_period: Annotated[
        str,
        typer.Option(
            "--cohort-period",
            help="Cohort tables by week, month or quarter.",
            rich_help_panel=REPORT,
        ),
    ] = "month",
    max_periods: Annotated[
        int,
        typer.Option("--max-periods", help="Cohort table columns 0..K.", rich_help_panel=REPORT),
    ] = 12,
    history_every: Annotated[
        str,
        typer.Option(
            "--history-every",
            help="Status history and retention trend by week or month.",
            rich_help_panel=REPORT,
        ),
    ] = "month",
    history_periods: Annotated[
        int,
        typer.Option(
            "--history-periods",
            help="Periods in the status history and trend.",
            rich_help_panel=REPORT,
        ),
    ] = 12,
    csv_locale: Annotated[
        str,
        typer.Option(
            "--csv-locale",
            help="CSV tables: en, or pt-BR for ; and decimal commas.",
            rich_help_panel=REPORT,
        ),
    ] = "en",
    xlsx_max_rows: Annotated[
        int,
        typer.Option(
            "--xlsx-max-rows",
            help="Tables with more rows get a note in the workbook instead (see their files).",
            rich_help_panel=REPORT,
        ),
    ] = 100_000,
    bins: Annotated[
        int, typer.Option("--bins", help="RFM scores 1..N (2-10).", rich_help_panel=THRESHOLDS)
    ] = 5,
    segments: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--segments",
            help="RFM segment map: rfm10 (default), rfm11 or a TOML file.",
            rich_help_panel=THRESHOLDS,
        ),
    ] = None,
    new_days: NewDays = 30,
    active_days: ActiveDays = 90,
    inactive_days: InactiveDays = 180,
    vip_share: VipShare = None,
    vip_min_revenue: VipMinRevenue = None,
    vip_window_days: VipWindowDays = 365,
    churn_days: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(
            "--churn-days",
            help="Churned: no purchase for more than N days (default: --inactive-days).",
            rich_help_panel=THRESHOLDS,
        ),
    ] = None,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Exit 3 before writing anything when a data-quality "
            "warning fires (as inspect --strict).",
            rich_help_panel=REPORT,
        ),
    ] = False,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet", "-q", help="Only errors on stderr (for cron).", rich_help_panel=REPORT
        ),
    ] = False,
    *,
    run: Run,
) -> None:
    """The weekly report as one folder: tables (Parquet/CSV), a workbook, a page, KPIs and a
    manifest, written atomically.

    --as-of also takes last-sunday (the most recent Sunday before today). Settings can come
    from clientela.toml, section report (every option, same names).

    Example: clientela report exports/*.csv --as-of last-sunday --out-dir reports/2026-W47
    """
    from clientela.errors import QualityGateError, UsageError
    from clientela.report import ReportParams, build_report, check_target, parse_formats

    if out_dir is None:
        raise UsageError(
            "give --out-dir FOLDER (or out-dir in the [report] section of clientela.toml)"
        )
    params = ReportParams(
        lang=lang,
        formats=parse_formats(formats),
        period=period,
        cohort_period=cohort_period,
        max_periods=max_periods,
        history_every=history_every,
        history_periods=history_periods,
        bins=bins,
        segments=segments,
        new_days=new_days,
        active_days=active_days,
        inactive_days=inactive_days,
        vip_share=vip_share,
        vip_min_revenue=vip_min_revenue,
        vip_window_days=vip_window_days,
        churn_days=churn_days,
        csv_locale=csv_locale,
        xlsx_max_rows=xlsx_max_rows,
    )
    params.validate()
    check_target(out_dir, overwrite, [*run.inputs, *_crm(run)])
    import datetime as dt
    import time
    from dataclasses import asdict

    from clientela.report import resolve_as_of

    t0 = time.perf_counter()
    started_at = dt.datetime.now(dt.timezone.utc)
    opts = run.load_options
    opts.as_of = resolve_as_of(opts.as_of, opts.tz)
    # no analysis of the report groups by a dimension: carrying none keeps the lines-to-
    # orders aggregation as lean as for rfm (every dimension made it 3x slower at 10M lines)
    opts.dimensions = []
    opts.validate()
    with _Steps(enabled=not quiet) as steps:
        from clientela.load import connect, load

        con = connect(opts)
        with steps("load"):
            loaded = load(run.inputs, opts, con=con)
        if not quiet:
            steps.print_after(lambda: report_load(loaded))
        warnings = loaded.report.warnings
        if strict and warnings:
            raise QualityGateError(
                f"data-quality gate failed: {len(warnings)} warning"
                f"{'s' if len(warnings) != 1 else ''} ({', '.join(w.code for w in warnings)}); "
                "nothing was written"
            )
        result = build_report(
            loaded,
            params,
            out_dir,
            overwrite=overwrite,
            inputs=[*run.inputs, *_crm(run)],
            load_options={k: v for k, v in asdict(opts).items() if k != "dimensions"},
            step=steps,
            started=t0,
            started_at=started_at,
            pseudonym_key=run.key,
        )
    if not quiet:
        tables = ", ".join(result.tables)
        err(
            f"wrote the report at {result.as_of} to {result.folder}/ ({len(result.files)} "
            f"files; tables: {tables}) in {result.seconds:.1f} s"
        )
        for note in result.notes:
            err(f"note: {note}")


def _crm(run: Run) -> list[str]:
    c = run.load_options.customers
    return [c] if c else []


class _Steps:
    """A Rich progress list of the report's steps with elapsed times, on a terminal only."""

    LABELS: ClassVar[dict[str, str]] = {
        "load": "reading the inputs",
        "rfm": "RFM scores and segments",
        "cohorts": "cohort tables and retention trend",
        "status": "status and status history",
        "churn": "churn flags",
        "kpis": "KPIs",
        "tables": "writing the tables",
        "workbook": "writing the workbook",
        "page": "drawing the page",
        "manifest": "writing the manifest",
    }

    def __init__(self, *, enabled: bool) -> None:
        from clientela.progress import enabled as tty

        self.enabled = enabled and tty()
        self.progress: Any = None
        self._after: list[Any] = []

    def __enter__(self) -> _Steps:
        if self.enabled:
            from rich.console import Console
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            console = Console(file=sys.stderr, no_color=None, highlight=False)
            self.progress = Progress(
                SpinnerColumn(finished_text="[green]✓"),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=console,
                transient=False,
            )
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()
        for fn in self._after:
            fn()

    def print_after(self, fn: Any) -> None:
        """Run ``fn`` (which writes to stderr) now, or after the display ends."""
        if self.progress is None:
            fn()
        else:
            self._after.append(fn)

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        if self.progress is None:
            yield
            return
        task = self.progress.add_task(self.LABELS.get(name, name), total=1)
        try:
            yield
        finally:
            self.progress.update(task, completed=1)
            self.progress.stop_task(task)
