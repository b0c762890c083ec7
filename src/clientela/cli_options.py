"""Option specs shared by the commands, defined once as ``Annotated`` aliases.

Only typer is imported here (no duckdb/polars), so ``clientela --help`` stays fast.
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

LOAD = "Input"
OUT = "Output"
TH = "Thresholds"

Inputs = Annotated[
    list[str],
    typer.Argument(
        help="Order files: CSV/TSV (optionally .gz), Parquet or NDJSON; globs, directories "
        "or - for CSV on stdin.",
        show_default=False,
    ),
]

CustomerCol = Annotated[
    Optional[str],  # noqa: UP045 - typer needs Optional on 3.10
    typer.Option("--customer-col", help="Column with the customer id.", rich_help_panel=LOAD),
]
DateCol = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--date-col", help="Column with the order date/time.", rich_help_panel=LOAD),
]
AmountCol = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--amount-col",
        help='Column with the amount, or an expression such as "Quantity * Price".',
        rich_help_panel=LOAD,
    ),
]
OrderCol = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--order-col", help="Column grouping lines into orders.", rich_help_panel=LOAD),
]
StatusCol = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--status-col",
        help="Order status column (cancelled/voided/refunded orders are excluded).",
        rich_help_panel=LOAD,
    ),
]
PresetOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--preset",
        help="A known export layout: shopify, woocommerce, online-retail (UCI).",
        rich_help_panel=LOAD,
    ),
]
Delimiter = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--delimiter", help="CSV delimiter (default: detected).", rich_help_panel=LOAD),
]
Decimal = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--decimal", help="Decimal separator, . or , (default: detected).", rich_help_panel=LOAD
    ),
]
Encoding = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--encoding", help="utf-8, latin-1 or cp1252 (default: detected).", rich_help_panel=LOAD
    ),
]
DateFormat = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--date-format",
        help="strptime format such as %d/%m/%Y, or dmy / mdy / ymd (default: detected).",
        rich_help_panel=LOAD,
    ),
]
Tz = Annotated[
    str,
    typer.Option(
        "--tz", help="Reporting time zone; offsets are converted to it.", rich_help_panel=LOAD
    ),
]
AsOf = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--as-of",
        help="Analysis date, inclusive: YYYY-MM-DD, today or yesterday "
        "(default: the last order date). Later orders are ignored.",
        rich_help_panel=LOAD,
    ),
]
ZeroOrders = Annotated[
    str,
    typer.Option(
        "--zero-orders",
        help="ignore: zero-value orders are not purchases; purchase: they are.",
        rich_help_panel=LOAD,
    ),
]
BadRows = Annotated[
    str,
    typer.Option(
        "--bad-rows",
        help="error: stop on unreadable dates/amounts; skip: drop and count them.",
        rich_help_panel=LOAD,
    ),
]
Duplicates = Annotated[
    str,
    typer.Option(
        "--duplicates",
        help="drop: exact duplicate rows are export glitches (default); keep: they are "
        "separate real transactions.",
        rich_help_panel=LOAD,
    ),
]
Customers = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--customers",
        help="CRM customers file; customers without orders are prospects.",
        rich_help_panel=LOAD,
    ),
]

Output = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "-o",
        "--output",
        help="Output file (format from the extension) or - for stdout. Default: a table on a "
        "terminal, CSV when piped.",
        rich_help_panel=OUT,
    ),
]
Format = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--format",
        help="csv, tsv, parquet, json, ndjson, xlsx, markdown or table.",
        rich_help_panel=OUT,
    ),
]
CsvLocale = Annotated[
    str,
    typer.Option(
        "--csv-locale",
        help="en, or pt-BR for ; separators and decimal commas (Brazilian spreadsheets).",
        rich_help_panel=OUT,
    ),
]
Debug = Annotated[
    bool,
    typer.Option("--debug", help="Show the full traceback on errors.", rich_help_panel=OUT),
]

# the status thresholds (DESIGN.md, Definitions: Status), shared by status and report
NewDays = Annotated[
    int,
    typer.Option("--new-days", help="new: first purchase at most N days ago.", rich_help_panel=TH),
]
ActiveDays = Annotated[
    int,
    typer.Option(
        "--active-days", help="active: last purchase at most N days ago.", rich_help_panel=TH
    ),
]
InactiveDays = Annotated[
    int,
    typer.Option(
        "--inactive-days",
        help="inactive: no purchase in the last N days; reactivated: back after a longer gap.",
        rich_help_panel=TH,
    ),
]
VipShare = Annotated[
    Optional[float],  # noqa: UP045
    typer.Option(
        "--vip-share",
        help="vip: the top share of customers by net revenue in "
        "the VIP window; ties at the cut-off included (default 0.1).",
        rich_help_panel=TH,
    ),
]
VipMinRevenue = Annotated[
    Optional[float],  # noqa: UP045
    typer.Option(
        "--vip-min-revenue",
        help="vip: net revenue of at least this amount in the VIP window (instead of --vip-share).",
        rich_help_panel=TH,
    ),
]
VipWindowDays = Annotated[
    int,
    typer.Option(
        "--vip-window-days",
        help="VIP window: orders at most N days before the as-of date.",
        rich_help_panel=TH,
    ),
]
