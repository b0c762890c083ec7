"""The ``clientela lgpd``-family commands (registered on the main app by clientela.cli):
``forget`` (erase a person's rows from export files) and ``subject-export`` (everything the
exports hold about one person). Thin wrappers over :mod:`clientela.lgpd`.

Messages never repeat the ids given: an id that matched nothing is named by where it was
given (``--customer #2``, ``ids.txt:4``).
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from clientela.cli_common import err, set_debug
from clientela.cli_options import Debug, Delimiter, Encoding

app = typer.Typer()

LGPD = "Matching"

Files = Annotated[
    list[str],
    typer.Argument(
        help="Export files: CSV/TSV (optionally .gz), Parquet or NDJSON; globs or directories.",
        show_default=False,
    ),
]
CustomerIds = Annotated[
    Optional[list[str]],  # noqa: UP045 - typer needs Optional on 3.10
    typer.Option(
        "--customer",
        help="Customer id or e-mail of the person (repeat for several ids).",
        show_default=False,
        rich_help_panel=LGPD,
    ),
]
CustomerCols = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--customer-col",
        help="Column with the customer id (repeat for files with different layouts; "
        "default: detected as by the loader).",
        show_default=False,
        rich_help_panel=LGPD,
    ),
]
EmailCols = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--email-col",
        help="Column with the e-mail, also matched against e-mail ids (repeatable; "
        "default: the columns detected as e-mail).",
        show_default=False,
        rich_help_panel=LGPD,
    ),
]


@app.command()
def forget(
    inputs: Files,
    customer: CustomerIds = None,
    from_file: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--from-file", help="Text file with one id per line.", rich_help_panel=LGPD),
    ] = None,
    out_dir: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--out-dir", help="Folder for the cleaned copies and the receipt."),
    ] = None,
    in_place: Annotated[
        bool,
        typer.Option(
            "--in-place",
            help="Rewrite the inputs themselves (atomically; files without a match are left "
            "untouched). Needs --receipt.",
        ),
    ] = False,
    receipt: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--receipt",
            help="Receipt file (JSON; default: DIR/forget-receipt-<UTC time>.json).",
        ),
    ] = None,
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Fail (exit 1, nothing written) when an id matches no row."),
    ] = False,
    customer_col: CustomerCols = None,
    email_col: EmailCols = None,
    delimiter: Delimiter = None,
    encoding: Encoding = None,
    debug: Debug = False,
) -> None:
    """Erase customers from export files: copies without any of their rows, and a receipt.

    CSV keeps its dialect byte for byte (every kept line is copied unchanged), Parquet its
    schema; gzip stays gzip. A row matches when its customer column equals an id (trimmed,
    leading zeros kept) or, for e-mail ids, when an e-mail column equals it (case ignored).
    The receipt lists the ids hashed, rows removed per file and sha256 of inputs and outputs.

    Example: clientela forget exports/ --customer 0042 --customer ana@example.com --out-dir clean/
    """
    set_debug(debug)
    from clientela.lgpd import forget as forget_

    result = forget_(
        inputs, customer, from_file=from_file, out_dir=out_dir, in_place=in_place,
        receipt=receipt, strict=strict, customer_col=customer_col, email_col=email_col,
        delimiter=delimiter, encoding=encoding,
    )  # fmt: skip
    for f in result.files:
        cols = [repr(c) for c in [f.customer_column, *f.email_columns] if c]
        where = f"-> {f.output}" if f.output is not None else "(nothing to remove; left untouched)"
        err(
            f"{f.input}: removed {f.rows_removed:,} of {f.rows:,} rows, matching on "
            f"{' and '.join(cols)} {where}"
        )
    if result.unmatched:
        n = len(result.unmatched)
        shown = ", ".join(result.unmatched[:10]) + (" ..." if n > 10 else "")
        err(f"warning: {n} of {result.ids} ids matched no row: {shown}")
    err(f"wrote receipt to {result.receipt_path}")


@app.command("subject-export")
def subject_export(
    inputs: Files,
    customer: CustomerIds = None,
    output: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "-o",
            "--output",
            help="JSON file to write (required; never stdout: it holds one person's data).",
        ),
    ] = None,
    customer_col: CustomerCols = None,
    email_col: EmailCols = None,
    delimiter: Delimiter = None,
    encoding: Encoding = None,
    debug: Debug = False,
) -> None:
    """Export every row the files hold about one person (an LGPD access request), as JSON.

    Rows are grouped by file with the file's columns and the original text values; the file
    is written atomically and readable by its owner only. Matching is the same as forget.

    Example: clientela subject-export exports/ --customer ana@example.com -o ana.json
    """
    set_debug(debug)
    from clientela.errors import UsageError
    from clientela.lgpd import subject_export as subject_export_

    if output is None:
        raise UsageError("-o FILE.json is required: the export is written to a file, not stdout")
    if not customer:
        raise UsageError("no customer given; name the person with --customer ID")
    result = subject_export_(
        inputs, customer, output=output, customer_col=customer_col, email_col=email_col,
        delimiter=delimiter, encoding=encoding,
    )  # fmt: skip
    if result.unmatched:
        err(f"warning: no row matches {', '.join(result.unmatched)}")
    n = len(result.files)
    err(
        f"wrote {result.rows:,} rows from {n} file{'s' if n != 1 else ''} to {result.path} "
        "(personal data: share it only with the person who asked)"
    )
