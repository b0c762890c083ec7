"""The ``clientela`` command line: parse options, make one library call, render.

Nothing is computed here. stdout carries data only; messages go to stderr. Errors
become one line and a documented exit code in :func:`main`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from typing import Annotated, Any, NoReturn, Optional

import typer

from clientela import __version__
from clientela.cli_common import (
    Run,
    analysis_command,
    debug_enabled,
    default_map,
    err,
    find_config,
    report_load,
    set_debug,
)
from clientela.cli_options import Debug, Inputs
from clientela.errors import (
    ClientelaError,
    ExitCode,
    QualityGateError,
    UsageError,
    is_interrupt,
    raise_if_interrupted,
    resource_error,
)

EPILOG = (
    "Exit codes: 0 ok; 1 bad input data; 2 usage error; 3 data-quality gate failed "
    "(inspect --strict); 4 out of memory or spill space (see --memory-limit, --temp-dir); "
    "70 internal error; 130 interrupted."
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
    set_debug(debug)


@app.command()
@analysis_command(output=False)
def inspect(
    inputs: Inputs,
    format: Annotated[
        str, typer.Option("--format", help="text (readable) or json (for machines).")
    ] = "text",
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Exit 3 when any data-quality warning fires."),
    ] = False,
    *,
    run: Run,
) -> None:
    """Show how the inputs are read: column mapping, dialect, row counts and data quality.

    Example: clientela inspect exports/*.csv --strict
    """
    if format not in ("text", "json"):
        raise typer.BadParameter("use text or json", param_hint="--format")
    from clientela.load import inspect as inspect_

    report = inspect_(inputs, run.load_options)
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
@analysis_command()
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
    *,
    run: Run,
) -> None:
    """Run SQL over the canonical orders table, or print the SQL an analysis runs.

    Examples: clientela sql orders.csv -q "SELECT channel, sum(amount) FROM orders GROUP BY 1"
    | clientela sql rfm (prints the SQL files of rfm; also load, btyd, cohorts, status, churn,
    clv)
    """
    from pathlib import Path

    from clientela import sqlfiles

    if len(inputs) == 1 and inputs[0] in sqlfiles.ANALYSES and not Path(inputs[0]).exists():
        text = sqlfiles.render_analysis(inputs[0])
        if not text:
            raise UsageError(f"{inputs[0]}: this installation has no SQL files for it")
        sys.stdout.write(
            f"-- The SQL files clientela runs for '{inputs[0]}', over the canonical table "
            "orders (one row per order; see docs/rfm.md and DESIGN). Parameters are bound "
            "by name; the Python around them only composes and binds.\n\n" + text
        )
        return
    from clientela.query import check_query

    loaded = run.load(report=False)
    statement = check_query(loaded.con, query)
    report_load(loaded, counts=False)
    import duckdb

    try:
        run.emit(loaded.con, statement)
    except duckdb.Error as e:  # the query binds but fails on the data (a bad CAST, ...)
        raise_if_interrupted(e)
        resource = resource_error(e)
        if resource is not None:
            raise resource from e
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise UsageError(f"--query failed while running: {first}") from e
    run.write_meta({"query": statement, "as_of": loaded.as_of})


@app.command()
@analysis_command()
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
    *,
    run: Run,
) -> None:
    """RFM scores and segments per customer, a segment summary, or the BTYD summary.

    Examples: clientela rfm orders.parquet | clientela rfm x.csv -o rfm.xlsx --lang pt |
    clientela rfm x.csv --summary | clientela rfm x.csv --model btyd --unit weeks
    """
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
    run.check_output(segments)
    loaded = run.load(dimensions=[by] if by else [])
    run.guard_personal(loaded.con, "orders", [by] if by else [], "--by")
    if model == "btyd":
        res_b = compute_btyd(loaded, unit, calibration_end)
        metadata = res_b.metadata()
        err(f"BTYD summary of {res_b.customers:,} customers at {res_b.as_of} ({unit})")
        run.emit(loaded.con, "SELECT * FROM btyd", metadata=metadata)
        run.write_meta(metadata)
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
    title = f"RFM segments at {res.as_of}"
    if run.to_terminal and not summary:
        # a person at a terminal: the segment summary, per-customer rows on request
        run.emit(
            loaded.con,
            "SELECT * EXCLUDE (suggested_action), suggested_action FROM rfm_summary",
            title=title,
        )
        err("per-customer scores: -o rfm.csv (or .parquet, .xlsx); --summary for this table")
    else:
        table = "rfm_summary" if summary else "rfm"
        run.emit(loaded.con, f"SELECT * FROM {table}", metadata=metadata)
        if run.output not in (None, "-") and sys.stdout.isatty() and not summary:
            run.emit(loaded.con, "SELECT * FROM rfm_summary", output=None, fmt="table",
                     title=title)  # fmt: skip
    run.write_meta(metadata)


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
    set_debug(debug)
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


#: modules that hold further commands, each on its own ``app = typer.Typer()``
COMMAND_MODULES = (
    "clientela.cli_cohorts",
    "clientela.cli_status",
    "clientela.cli_clv",
    "clientela.cli_report",
    "clientela.cli_lgpd",
)


def _register_commands() -> None:
    import importlib

    for name in COMMAND_MODULES:
        app.registered_commands.extend(importlib.import_module(name).app.registered_commands)


_register_commands()


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
        extra: dict[str, Any] = {}
        config = find_config(args) if "--help" not in args and "-h" not in args else None
        if config is not None:
            commands = getattr(command, "commands", {})
            extra["default_map"] = default_map(
                config, {n: {p.name: p for p in c.params if p.name} for n, c in commands.items()}
            )
        # make_context + invoke, not command.main(): every exception reaches the handlers
        # below (click's main turns Ctrl-C and broken pipes into its own exit codes)
        with _terminated_as_interrupt(), command.make_context("clientela", args, **extra) as ctx:
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
        if debug or debug_enabled():
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
        if is_interrupt(e):  # DuckDB turns SIGINT during a query into its own error
            err("clientela: interrupted")
            _exit_interrupted()
        if debug or debug_enabled():
            import traceback

            traceback.print_exc()
        resource = resource_error(e)
        if resource is not None:  # out of memory or spill space: not a bug, a setting
            err(f"clientela: error: {resource.message}")
            code = resource.exit_code
        else:
            err(
                f"clientela: internal error: {type(e).__name__}: {_first_line(e)}"
                " (this is a bug; run with --debug for the traceback and report it)"
            )
            code = ExitCode.BUG
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_broken_pipe()
    if code == ExitCode.INTERRUPTED:
        _exit_interrupted()
    sys.exit(code)


@contextlib.contextmanager
def _terminated_as_interrupt() -> Iterator[None]:
    """SIGTERM (a cron job's timeout, a service stop, ``kill``) unwinds like Ctrl-C, for every
    command: no partial output, the spill folder and the loader's database files removed
    (up to about 100 bytes per order line in the temp folder at 100M lines), exit 130.
    Without it the process died on the signal and left them all in the system temp."""

    def handler(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (an embedding program's worker)
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _exit_interrupted() -> NoReturn:
    """Exit 130 after Ctrl-C or SIGTERM without the interpreter's teardown: a thread still
    inside a C++ extension then (the report page's font loading in matplotlib, seen in a core
    dump) made the teardown abort the process (SIGABRT, "terminate called without an active
    exception") about once in ten interrupted reports. The outputs' temporary files are gone
    by now (context managers); the exit handlers (the spill folders) still run."""
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # (a reader gone away: nothing to tell)
            stream.flush()
    os._exit(ExitCode.INTERRUPTED)


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
