"""The ``clientela`` command line: parse options, make one library call, render.

Nothing is computed here. stdout carries data only; messages go to stderr. Errors
become one line and a documented exit code in :func:`main`.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any, Optional

import typer

from clientela import __version__
from clientela.cli_options import (
    AmountCol,
    AsOf,
    BadRows,
    CsvLocale,
    CustomerCol,
    Customers,
    DateCol,
    DateFormat,
    Debug,
    Decimal,
    Delimiter,
    Duplicates,
    Encoding,
    Format,
    Inputs,
    OrderCol,
    Output,
    PresetOpt,
    StatusCol,
    Tz,
    ZeroOrders,
)
from clientela.errors import ClientelaError, ExitCode, QualityGateError, UsageError

EPILOG = (
    "Exit codes: 0 ok; 1 bad input data; 2 usage error; 3 data-quality gate failed "
    "(inspect --strict); 70 internal error; 130 interrupted."
)

app = typer.Typer(
    name="clientela",
    help="Customer analytics from the command line over shop and CRM exports (CSV, Parquet), "
    "powered by DuckDB: inspect how an export is read, RFM scores and segments, the BTYD "
    "summary, and SQL over the canonical orders table.",
    epilog=EPILOG,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

_debug = False


def _version(value: bool) -> None:
    if value:
        typer.echo(f"clientela {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        Optional[bool],  # noqa: UP045
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = None,
    debug: Debug = False,
) -> None:
    global _debug
    _debug = _debug or debug


def _set_debug(debug: bool) -> None:
    global _debug
    _debug = _debug or debug


def err(message: str) -> None:
    """One message line on stderr."""
    sys.stderr.write(message.rstrip("\n") + "\n")


LOAD_KEYS = (
    "customer_col", "date_col", "amount_col", "order_col", "status_col", "preset", "delimiter",
    "decimal", "encoding", "date_format", "tz", "as_of", "zero_orders", "bad_rows", "duplicates",
    "customers",
)  # fmt: skip


def _load_options(params: dict[str, Any]) -> Any:
    """The LoadOptions of a command's parameters (every command shares the input options)."""
    from clientela.load import LoadOptions

    return LoadOptions(**{k: params[k] for k in LOAD_KEYS})


def _emit(
    con: Any,
    sql: str,
    params: list[Any],
    output: str | None,
    fmt: str | None,
    inputs: list[str],
    csv_locale: str,
    title: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> None:
    """Write a query's rows with the shared output options and report where they went."""
    from clientela.output import WriteOptions, check_not_input, write

    check_not_input(output, inputs)
    result = write(
        con,
        sql,
        params,
        output,
        fmt,
        WriteOptions(csv_locale=csv_locale, title=title, metadata=metadata or {}),
    )
    if result.truncated_to is not None:
        err(f"showing {result.truncated_to} of {result.rows:,} rows; write them all with -o FILE")
    elif result.path != "-":
        err(f"wrote {result.rows:,} rows to {result.path} ({result.format})")


@app.command()
def inspect(
    inputs: Inputs,
    customer_col: CustomerCol = None,
    date_col: DateCol = None,
    amount_col: AmountCol = None,
    order_col: OrderCol = None,
    status_col: StatusCol = None,
    preset: PresetOpt = None,
    delimiter: Delimiter = None,
    decimal: Decimal = None,
    encoding: Encoding = None,
    date_format: DateFormat = None,
    tz: Tz = "UTC",
    as_of: AsOf = None,
    zero_orders: ZeroOrders = "ignore",
    bad_rows: BadRows = "error",
    duplicates: Duplicates = "drop",
    customers: Customers = None,
    format: Annotated[
        str, typer.Option("--format", help="text (readable) or json (for machines).")
    ] = "text",
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Exit 3 when any data-quality warning fires."),
    ] = False,
    debug: Debug = False,
) -> None:
    """Show how the inputs are read: column mapping, dialect, row counts and data quality.

    Example: clientela inspect exports/*.csv --strict
    """
    _set_debug(debug)
    if format not in ("text", "json"):
        raise typer.BadParameter("use text or json", param_hint="--format")
    from clientela.load import inspect as inspect_

    opts = _load_options(locals())
    report = inspect_(inputs, opts)
    if format == "json":
        import json

        sys.stdout.write(json.dumps(report.to_dict(), indent=2, default=str) + "\n")
    else:
        from clientela.render import render_inspect

        render_inspect(report, sys.stdout)
    if strict and report.warnings:
        raise QualityGateError(
            f"data-quality gate failed: {len(report.warnings)} warning"
            f"{'s' if len(report.warnings) != 1 else ''} "
            f"({', '.join(w.code for w in report.warnings)})"
        )


@app.command()
def sql(
    inputs: Inputs,
    query: Annotated[
        str,
        typer.Option(
            "--query",
            "-q",
            help="SQL over the canonical tables: orders (one row per order) and, with "
            "--customers, customers.",
        ),
    ] = "SELECT * FROM orders",
    customer_col: CustomerCol = None,
    date_col: DateCol = None,
    amount_col: AmountCol = None,
    order_col: OrderCol = None,
    status_col: StatusCol = None,
    preset: PresetOpt = None,
    delimiter: Delimiter = None,
    decimal: Decimal = None,
    encoding: Encoding = None,
    date_format: DateFormat = None,
    tz: Tz = "UTC",
    as_of: AsOf = None,
    zero_orders: ZeroOrders = "ignore",
    bad_rows: BadRows = "error",
    duplicates: Duplicates = "drop",
    customers: Customers = None,
    output: Output = None,
    format: Format = None,
    csv_locale: CsvLocale = "en",
    debug: Debug = False,
) -> None:
    """Run SQL over the canonical orders table and write the result in any format.

    Example: clientela sql orders.csv -q "SELECT channel, sum(amount) FROM orders GROUP BY 1"
    """
    _set_debug(debug)
    from clientela.load import load
    from clientela.query import check_query

    check_output(output, inputs, customers=customers)
    loaded = load(inputs, _load_options(locals()))
    statement = check_query(loaded.con, query)
    _report_load(loaded, counts=False)
    import duckdb

    try:
        _emit(loaded.con, statement, [], output, format, inputs, csv_locale)
    except duckdb.Error as e:  # the query binds but fails on the data (a bad CAST, ...)
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise UsageError(f"--query failed while running: {first}") from e


@app.command()
def rfm(
    inputs: Inputs,
    bins: Annotated[int, typer.Option("--bins", help="Scores 1..N per dimension (2-10).")] = 5,
    scoring: Annotated[
        str, typer.Option("--scoring", help="quantile (tie-aware) or fixed (--r/f/m-cuts).")
    ] = "quantile",
    r_cuts: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--r-cuts", help="Fixed recency thresholds in days, best first: 30,90,180,365."
        ),
    ] = None,
    f_cuts: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--f-cuts", help="Fixed purchase-count thresholds, ascending: 2,3,5,10."),
    ] = None,
    m_cuts: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--m-cuts", help="Fixed net-revenue thresholds, ascending: 100,250,500,1000."),
    ] = None,
    segments: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--segments",
            help="Segment map: rfm10 (R x F, default), rfm11 (R x (F+M)/2), or a TOML file.",
        ),
    ] = None,
    lang: Annotated[str, typer.Option("--lang", help="Labels and actions: en or pt.")] = "en",
    by: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--by", help="Score within groups of this column (channel, state...)."),
    ] = None,
    by_mode: Annotated[
        str, typer.Option("--by-mode", help="Group of a customer: first or last purchase.")
    ] = "first",
    summary: Annotated[
        bool, typer.Option("--summary", help="One row per segment instead of per customer.")
    ] = False,
    model: Annotated[
        str, typer.Option("--model", help="rfm (segmentation) or btyd (lifetimes' summary).")
    ] = "rfm",
    unit: Annotated[
        str, typer.Option("--unit", help="btyd: time unit, days or weeks (days / 7).")
    ] = "days",
    calibration_end: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--calibration-end", help="btyd: split into calibration and holdout."),
    ] = None,
    meta: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--meta",
            help="Also write the run's metadata (cut points...) as JSON.",
            rich_help_panel="Output",
        ),
    ] = None,
    customer_col: CustomerCol = None,
    date_col: DateCol = None,
    amount_col: AmountCol = None,
    order_col: OrderCol = None,
    status_col: StatusCol = None,
    preset: PresetOpt = None,
    delimiter: Delimiter = None,
    decimal: Decimal = None,
    encoding: Encoding = None,
    date_format: DateFormat = None,
    tz: Tz = "UTC",
    as_of: AsOf = None,
    zero_orders: ZeroOrders = "ignore",
    bad_rows: BadRows = "error",
    duplicates: Duplicates = "drop",
    customers: Customers = None,
    output: Output = None,
    format: Format = None,
    csv_locale: CsvLocale = "en",
    debug: Debug = False,
) -> None:
    """RFM scores and segments per customer, a segment summary, or the BTYD summary.

    Examples: clientela rfm orders.parquet | clientela rfm x.csv -o rfm.xlsx --lang pt |
    clientela rfm x.csv --summary | clientela rfm x.csv --model btyd --unit weeks
    """
    _set_debug(debug)
    from dataclasses import replace

    from clientela.load import load
    from clientela.rfm import RfmParams, compute_btyd, compute_rfm, parse_cuts

    if model not in ("rfm", "btyd"):
        raise typer.BadParameter("use rfm or btyd", param_hint="--model")
    params = RfmParams(
        bins=bins,
        scoring=scoring,
        r_cuts=parse_cuts(r_cuts, "--r-cuts"),
        f_cuts=parse_cuts(f_cuts, "--f-cuts"),
        m_cuts=parse_cuts(m_cuts, "--m-cuts"),
        segments=segments,
        lang=lang,
        by=by,
        by_mode=by_mode,
    )
    if model == "rfm":
        params.validate()
    opts = replace(_load_options(locals()), dimensions=[by] if by else [])
    check_output(output, inputs, meta, customers, segments)
    loaded = load(inputs, opts)
    _report_load(loaded)
    if model == "btyd":
        res_b = compute_btyd(loaded, unit, calibration_end)
        metadata = res_b.metadata()
        err(f"BTYD summary of {res_b.customers:,} customers at {res_b.as_of} ({unit})")
        _emit(
            loaded.con,
            "SELECT * FROM btyd",
            [],
            output,
            format,
            inputs,
            csv_locale,
            metadata=metadata,
        )
        _write_meta(meta, metadata)
        return
    res = compute_rfm(loaded, params)
    metadata = res.metadata()
    from clientela.render import describe_cuts

    err(
        f"RFM of {res.customers:,} customers at {res.as_of}"
        + (
            f"; {res.no_purchase:,} customers without a purchase (only refunds or zero-value "
            "orders) are left out"
            if res.no_purchase
            else ""
        )
    )
    for line in describe_cuts(res.cuts):
        err(line)
    for w in res.warnings:
        err(f"warning: {w}")
    table = "rfm_summary" if summary else "rfm"
    if output is None and sys.stdout.isatty() and format is None and not summary:
        # a person at a terminal: the segment summary, per-customer rows on request
        _emit(
            loaded.con,
            "SELECT * EXCLUDE (suggested_action), suggested_action FROM rfm_summary",
            [],
            None,
            None,
            inputs,
            csv_locale,
            title=f"RFM segments at {res.as_of}",
        )
        err("per-customer scores: -o rfm.csv (or .parquet, .xlsx); --summary for this table")
    else:
        _emit(
            loaded.con,
            f"SELECT * FROM {table}",
            [],
            output,
            format,
            inputs,
            csv_locale,
            metadata=metadata,
        )
        if output not in (None, "-") and sys.stdout.isatty() and not summary:
            _emit(
                loaded.con,
                "SELECT * FROM rfm_summary",
                [],
                None,
                "table",
                inputs,
                csv_locale,
                title=f"RFM segments at {res.as_of}",
            )
    _write_meta(meta, metadata)


def check_output(
    output: str | None,
    inputs: list[str],
    meta: str | None = None,
    customers: str | None = None,
    segments: str | None = None,
) -> None:
    """Refuse unusable outputs (an input file, the CRM file) before any work is done."""
    from clientela.output import check_not_input

    protected = [*inputs, *(extra for extra in (customers, segments) if extra)]
    check_not_input(output, protected)
    if meta is not None:
        from pathlib import Path

        if meta == "-":
            raise UsageError("--meta -: give a file path (stdout carries the data)")
        if output not in (None, "-") and Path(meta).resolve() == Path(output).resolve():
            raise UsageError(f"--meta {meta}: the same path as -o; choose another file")
        if not Path(meta).resolve().parent.is_dir():
            raise UsageError(f"--meta {meta}: the folder {Path(meta).parent} does not exist")
        check_not_input(meta, protected)


def _report_load(loaded: Any, *, counts: bool = True) -> None:
    """One line about what was read (unless ``counts`` is false), and the loader's warnings,
    on stderr."""
    r = loaded.report
    if not counts:
        for w in r.warnings:
            err(f"warning: {w.message}")
        return
    dropped = r.rows["read"] - r.rows["used"]
    err(
        f"read {r.rows['read']:,} rows from {len(r.files)} file{'s' if len(r.files) != 1 else ''}"
        f" ({r.rows['used']:,} used, {dropped:,} dropped; details: clientela inspect)"
    )
    for w in r.warnings:
        err(f"warning: {w.message}")


def _write_meta(path: str | None, metadata: dict[str, Any]) -> None:
    if path is None:
        return
    import json
    from pathlib import Path

    from clientela.fsutil import atomic_path

    with atomic_path(path) as tmp:
        Path(tmp).write_text(json.dumps(metadata, indent=2, default=str) + "\n", encoding="utf-8")
    err(f"wrote metadata to {path}")


@app.command()
def sample(
    output: Annotated[
        str,
        typer.Option("-o", "--output", help="Folder to write orders.* and customers.* into."),
    ] = "sample_data",
    orders: Annotated[int, typer.Option("--orders", help="Number of orders.")] = 5000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same files).")] = 42,
    format: Annotated[str, typer.Option("--format", help="csv, parquet or ndjson.")] = "csv",
    locale: Annotated[
        str, typer.Option("--locale", help="en, or pt-BR for a Brazilian CSV export.")
    ] = "en",
    debug: Debug = False,
) -> None:
    """Generate realistic example exports (orders and a CRM customers file).

    Example: clientela sample --orders 100000 --locale pt-BR -o demo/
    """
    _set_debug(debug)
    from pathlib import Path

    from clientela import sample as sample_mod

    out_dir = Path(output)
    if out_dir.exists() and not out_dir.is_dir():
        raise typer.BadParameter(f"{output} is a file; give a folder", param_hint="-o")
    if orders < 1:
        raise typer.BadParameter("give at least 1", param_hint="--orders")
    out_dir.mkdir(parents=True, exist_ok=True)
    data = sample_mod.generate(orders=orders, seed=seed)
    paths = sample_mod.write(data, out_dir, fmt=format, locale=locale)
    for p in paths:
        err(f"wrote {p}")


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app and turn every failure into one line and an exit code."""
    try:  # typer >= 0.29 vendors click
        from typer import _click as click
    except ImportError:  # pragma: no cover - older typer with click installed
        import click  # type: ignore[no-redef,import-not-found,unused-ignore]

    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or bool(os.environ.get("CLIENTELA_DEBUG"))
    code: int = ExitCode.OK
    try:
        command = typer.main.get_command(app)
        # make_context + invoke, not command.main(): every exception reaches the handlers
        # below (click's main turns Ctrl-C and broken pipes into its own exit codes)
        with command.make_context("clientela", args) as ctx:
            command.invoke(ctx)
    except typer.Exit as e:
        code = e.exit_code
    except typer.Abort:
        err("clientela: interrupted")
        code = ExitCode.INTERRUPTED
    except click.ClickException as e:
        msg = e.format_message()
        err_ctx = getattr(e, "ctx", None)
        if msg:  # (no arguments at all: the help was shown; exit 2 without a message)
            hint = f" (see '{err_ctx.command_path} --help')" if err_ctx is not None else ""
            err(f"clientela: error: {msg}{hint}")
        code = ExitCode.USAGE
    except ClientelaError as e:
        if debug or _debug:
            import traceback

            traceback.print_exc()
        err(f"clientela: error: {e.message}")
        code = e.exit_code
    except KeyboardInterrupt:
        err("clientela: interrupted")
        code = ExitCode.INTERRUPTED
    except BrokenPipeError:
        _quiet_broken_pipe()
        code = ExitCode.OK
    except Exception as e:  # a bug: one line, traceback only with --debug
        if _is_interrupt(e):  # DuckDB turns SIGINT during a query into its own error
            err("clientela: interrupted")
            sys.exit(ExitCode.INTERRUPTED)
        if debug or _debug:
            import traceback

            traceback.print_exc()
        err(
            f"clientela: internal error: {type(e).__name__}: {_first_line(e)}"
            " (this is a bug; run with --debug for the traceback and report it)"
        )
        code = ExitCode.BUG
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_broken_pipe()
    sys.exit(code)


def _is_interrupt(e: BaseException) -> bool:
    name = type(e).__name__
    return name == "InterruptException" or (
        isinstance(e, RuntimeError) and "Query interrupted" in str(e)
    )


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else ""


def _quiet_broken_pipe() -> None:
    """The reader went away (``| head``): stop quietly, without Python's flush error."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


if __name__ == "__main__":  # pragma: no cover
    main()
