"""What every analysis command shares: the input, resource and output options, the config
file, loading, and writing a result.

A command declares only its own options and takes a keyword-only ``run: Run``::

    @app.command()
    @analysis_command()
    def cohorts(inputs: Inputs, period: Period = "month", *, run: Run) -> None:
        loaded = run.load()
        ...
        run.emit(loaded.con, "SELECT * FROM cohorts")

:func:`analysis_command` adds the shared options to the signature typer sees (so they are
written once, here) and hands the command a :class:`Run` built from them.

Only typer is imported at module level, so ``clientela --help`` stays fast.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from clientela.cli_options import (
    LOAD,
    OUT,
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
    OrderCol,
    Output,
    PresetOpt,
    StatusCol,
    Tz,
    ZeroOrders,
)
from clientela.errors import UsageError

RES = "Resources"
PRIV = "Personal data (LGPD)"

ConfigOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--config",
        help="Settings file (TOML); default: ./clientela.toml when present. Options given "
        "on the command line win.",
        rich_help_panel=LOAD,
    ),
]
Threads = Annotated[
    Optional[int],  # noqa: UP045
    typer.Option("--threads", help="Worker threads (default: all cores).", rich_help_panel=RES),
]
MemoryLimit = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--memory-limit",
        help="Memory cap for the process, such as 4GB (DuckDB gets 3/4 of it and spills larger "
        "work to --temp-dir). Default: DuckDB's, 80 percent of RAM.",
        rich_help_panel=RES,
    ),
]
TempDir = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--temp-dir",
        help="Folder for spilled data (default: a fresh folder in the system temp, removed "
        "at exit).",
        rich_help_panel=RES,
    ),
]
Pseudonymize = Annotated[
    bool,
    typer.Option(
        "--pseudonymize",
        help="Replace customer ids in the output by HMAC-SHA256 pseudonyms keyed by "
        "CLIENTELA_PSEUDONYM_KEY or CLIENTELA_PSEUDONYM_KEY_FILE (same key, same pseudonyms).",
        rich_help_panel=PRIV,
    ),
]
AllowPii = Annotated[
    bool,
    typer.Option(
        "--allow-pii",
        help="Allow columns that look personal (e-mail, phone, CPF, name, address...) into "
        "the output through --by / --keep.",
        rich_help_panel=PRIV,
    ),
]
Meta = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--meta", help="Also write the run's metadata (parameters, cut points...) as JSON.",
        rich_help_panel=OUT,
    ),
]  # fmt: skip

#: (name, annotation, default) of the options every analysis command takes, in help order
LOAD_PARAMS: list[tuple[str, Any, Any]] = [
    ("customer_col", CustomerCol, None),
    ("date_col", DateCol, None),
    ("amount_col", AmountCol, None),
    ("order_col", OrderCol, None),
    ("status_col", StatusCol, None),
    ("preset", PresetOpt, None),
    ("delimiter", Delimiter, None),
    ("decimal", Decimal, None),
    ("encoding", Encoding, None),
    ("date_format", DateFormat, None),
    ("tz", Tz, "UTC"),
    ("as_of", AsOf, None),
    ("zero_orders", ZeroOrders, "ignore"),
    ("bad_rows", BadRows, "error"),
    ("duplicates", Duplicates, "drop"),
    ("customers", Customers, None),
    ("config", ConfigOpt, None),
]
PRIVACY_PARAMS: list[tuple[str, Any, Any]] = [
    ("pseudonymize", Pseudonymize, False),
    ("allow_pii", AllowPii, False),
]
RESOURCE_PARAMS: list[tuple[str, Any, Any]] = [
    ("threads", Threads, None),
    ("memory_limit", MemoryLimit, None),
    ("temp_dir", TempDir, None),
]
OUTPUT_PARAMS: list[tuple[str, Any, Any]] = [
    ("output", Output, None),
    ("format", Format, None),
    ("csv_locale", CsvLocale, "en"),
    ("meta", Meta, None),
]
LOAD_KEYS = tuple(n for n, _, _ in LOAD_PARAMS if n != "config") + tuple(
    n for n, _, _ in RESOURCE_PARAMS
)


def err(message: str) -> None:
    """One message line on stderr."""
    sys.stderr.write(message.rstrip("\n") + "\n")


_debug = False


def set_debug(debug: bool) -> None:
    global _debug
    _debug = _debug or debug


def debug_enabled() -> bool:
    return _debug


@dataclass
class Run:
    """The shared options of one command invocation, and the steps every command takes."""

    inputs: list[str]
    load_options: Any  # clientela.load.LoadOptions (imported lazily)
    output: str | None = None
    format: str | None = None
    csv_locale: str = "en"
    meta: str | None = None
    protected: list[str] = field(default_factory=list)  # other files a run must not overwrite
    pseudonymize: bool = False
    allow_pii: bool = False
    key: bytes | None = field(default=None, repr=False)  # the pseudonym key, never shown

    @property
    def to_terminal(self) -> bool:
        """No -o, no --format, and stdout is a terminal: a person is reading."""
        return self.output is None and self.format is None and sys.stdout.isatty()

    def check_output(self, *extra_protected: str | None) -> None:
        """Refuse unusable outputs (an input, the CRM file, a map) before any work is done."""
        self.protected.extend(p for p in extra_protected if p)
        check_output(self.output, self.inputs, self.meta, self.load_options.customers,
                     *self.protected)  # fmt: skip

    def load(
        self, *, dimensions: list[str] | None = None, counts: bool = True, report: bool = True
    ) -> Any:
        """Check the outputs, load the inputs (keeping only ``dimensions`` as extra columns
        when given) and, with ``report``, say what was read (:func:`report_load`).
        Returns :class:`clientela.load.Loaded`."""
        from dataclasses import replace

        from clientela.load import connect, load

        self.check_output()
        opts = self.load_options if dimensions is None else replace(
            self.load_options, dimensions=dimensions
        )  # fmt: skip
        opts.validate()  # usage errors before a connection is opened
        con = connect(opts)
        with self.step("reading " + _shown(self.inputs), con):
            loaded = load(self.inputs, opts, con=con)
        if report:
            report_load(loaded, counts=counts)
        return loaded

    def emit(
        self,
        con: Any,
        sql: str,
        params: list[Any] | None = None,
        *,
        title: str | None = None,
        metadata: dict[str, Any] | None = None,
        output: Any = ...,  # str | None; ... = the run's -o
        fmt: Any = ...,  # str | None; ... = the run's --format
        options: dict[str, Any] | None = None,
    ) -> None:
        """Write a query's rows to the run's output (or to ``output``/``fmt`` when given);
        ``options`` are extra :class:`clientela.output.WriteOptions` fields."""
        import contextlib

        dest = self.output if output is ... else output
        writing = (
            self.step(f"writing {dest}", con)
            if dest not in (None, "-")
            else contextlib.nullcontext()
        )
        with writing:
            self._emit(con, sql, params, title, metadata, output, fmt, options)

    def _emit(
        self,
        con: Any,
        sql: str,
        params: list[Any] | None,
        title: str | None,
        metadata: dict[str, Any] | None,
        output: Any,
        fmt: Any,
        options: dict[str, Any] | None,
    ) -> None:
        if self.key is not None:
            from clientela.pii import pseudonymize_sql

            sql = pseudonymize_sql(con, sql, self.key, params=params)
            metadata = {**(metadata or {}), "pseudonymized": ["customer_id"]}
        emit(
            con,
            sql,
            params or [],
            self.output if output is ... else output,
            self.format if fmt is ... else fmt,
            [*self.inputs, *self.protected],
            self.csv_locale,
            title=title,
            metadata=metadata,
            options=options,
        )

    def write_meta(self, metadata: dict[str, Any]) -> None:
        write_meta(self.meta, metadata)

    def guard_personal(self, con: Any, relation: str, columns: list[str], flag: str) -> None:
        """Refuse (usage error) to carry columns of ``relation`` that look personal into the
        output through ``flag`` (--by, --keep), unless --allow-pii."""
        if self.allow_pii or not columns:
            return
        from clientela.pii import detect_personal_columns

        found = detect_personal_columns(con, relation, columns)
        if found:
            pc = found[0]
            raise UsageError(
                f"{flag} {pc.name}: the column looks personal ({pc.kind}: {pc.reason}); it is "
                "kept out of outputs unless you add --allow-pii"
            )

    def step(self, label: str, con: Any = None) -> Any:
        """A context manager showing progress on long work (see :mod:`clientela.progress`)."""
        from clientela.progress import step

        return step(label, con)


def _shown(inputs: list[str]) -> str:
    return ", ".join(inputs[:2]) + (f" (+{len(inputs) - 2} more)" if len(inputs) > 2 else "")


def analysis_command(*, output: bool = True) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Give a command the shared input/resource (and, with ``output``, output) options.

    The command's own parameters come first; it must take ``run: Run`` keyword-only.
    """

    shared = [*LOAD_PARAMS, *RESOURCE_PARAMS, *PRIVACY_PARAMS, *(OUTPUT_PARAMS if output else [])]

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        sig = inspect.signature(fn, eval_str=True)
        own = [p for p in sig.parameters.values() if p.name not in ("run", "debug")]
        names = {p.name for p in own}
        clash = names & {n for n, _, _ in shared}
        if clash:  # pragma: no cover - a programming error
            raise TypeError(f"{fn.__name__}: options {clash} are shared; drop them")
        params = [
            *own,
            *(inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=d, annotation=a)
              for n, a, d in shared),
            inspect.Parameter("debug", inspect.Parameter.KEYWORD_ONLY, default=False,
                              annotation=Debug),
        ]  # fmt: skip

        @functools.wraps(fn)
        def wrapper(**kwargs: Any) -> Any:
            from clientela.load import LoadOptions

            set_debug(kwargs.pop("debug", False))
            kwargs.pop("config", None)  # read by main() before parsing
            load_opts = LoadOptions(**{k: kwargs.pop(k) for k in LOAD_KEYS})
            out = {n: kwargs.pop(n) for n, _, _ in OUTPUT_PARAMS} if output else {}
            privacy = {n: kwargs.pop(n) for n, _, _ in PRIVACY_PARAMS}
            run = Run(inputs=list(kwargs.get("inputs") or []), load_options=load_opts, **out,
                      **privacy)  # fmt: skip
            if run.pseudonymize:  # a missing key is a usage error before any work
                from clientela.pii import load_key

                run.key = load_key()
            return fn(**kwargs, run=run)

        wrapper.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in params}
        del wrapper.__wrapped__  # typer must see the new signature, not fn's
        return wrapper

    return decorate


# ------------------------------------------------------------------------ shared steps


def check_output(
    output: str | None, inputs: list[str], meta: str | None = None, *protected: str | None
) -> None:
    """Refuse unusable outputs (an input file, the CRM file) before any work is done."""
    from clientela.output import check_not_input

    guarded = [*inputs, *(p for p in protected if p)]
    check_not_input(output, guarded)
    if meta is not None:
        if meta == "-":
            raise UsageError("--meta -: give a file path (stdout carries the data)")
        if output not in (None, "-") and Path(meta).resolve() == Path(output).resolve():
            raise UsageError(f"--meta {meta}: the same path as -o; choose another file")
        if not Path(meta).resolve().parent.is_dir():
            raise UsageError(f"--meta {meta}: the folder {Path(meta).parent} does not exist")
        check_not_input(meta, guarded)


def report_load(loaded: Any, *, counts: bool = True) -> None:
    """One line about what was read (unless ``counts`` is false), and the loader's warnings,
    on stderr."""
    r = loaded.report
    if counts:
        dropped = r.rows["read"] - r.rows["used"]
        n = len(r.files)
        err(
            f"read {r.rows['read']:,} rows from {n} file{'s' if n != 1 else ''}"
            f" ({r.rows['used']:,} used, {dropped:,} dropped; details: clientela inspect)"
        )
    for w in r.warnings:
        err(f"warning: {w.message}")


def emit(
    con: Any,
    sql: str,
    params: list[Any],
    output: str | None,
    fmt: str | None,
    protected: list[str],
    csv_locale: str,
    title: str | None = None,
    metadata: dict[str, Any] | None = None,
    options: dict[str, Any] | None = None,
) -> None:
    """Write a query's rows with the shared output options and report where they went."""
    from clientela.output import WriteOptions, check_not_input, write

    check_not_input(output, protected)
    result = write(
        con,
        sql,
        params,
        output,
        fmt,
        WriteOptions(csv_locale=csv_locale, title=title, metadata=metadata or {},
                     **(options or {})),
    )  # fmt: skip
    if result.truncated_to is not None:
        err(f"showing {result.truncated_to} of {result.rows:,} rows; write them all with -o FILE")
    elif result.path != "-":
        err(f"wrote {result.rows:,} rows to {result.path} ({result.format})")


def write_meta(path: str | None, metadata: dict[str, Any]) -> None:
    if path is None:
        return
    import json

    from clientela.fsutil import atomic_path

    with atomic_path(path) as tmp:
        Path(tmp).write_text(json.dumps(metadata, indent=2, default=str) + "\n", encoding="utf-8")
    err(f"wrote metadata to {path}")


# ------------------------------------------------------------------------- config file

#: sections of clientela.toml that apply to every command
SHARED_SECTIONS = ("input", "output", "resources")


def find_config(args: list[str], cwd: Path | None = None) -> Path | None:
    """The config file of a run: ``--config FILE`` anywhere in ``args``, else
    ./clientela.toml when it exists."""
    for i, a in enumerate(args):
        if a == "--config" and i + 1 < len(args):
            return Path(args[i + 1])
        if a.startswith("--config="):
            return Path(a.split("=", 1)[1])
    default = (cwd or Path.cwd()) / "clientela.toml"
    return default if default.is_file() else None


def default_map(
    path: Path, commands: dict[str, dict[str, Any]] | dict[str, set[str]]
) -> dict[str, dict[str, Any]]:
    """click's ``default_map`` from a TOML file: shared sections apply to every command that
    has the option, a ``[command]`` section to that command. Unknown sections or keys are
    errors (a typo must not be silently ignored in an unattended run), and so is a value
    of the wrong type, named with the file and section (click would only name the flag).

    ``commands`` maps each command to its parameters: names to click ``Parameter``
    objects (whose types check the values), or just a set of names (no type checks)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"--config {path}: no such file") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise UsageError(f"{path}: not a valid TOML file ({e})") from None
    every = set().union(*commands.values()) if commands else set()
    shared: dict[str, Any] = {}
    result: dict[str, dict[str, Any]] = {name: {} for name in commands}
    for section, values in data.items():
        if not isinstance(values, dict):
            raise UsageError(
                f"{path}: '{section}' must be a section such as [input] or [{section}]"
            )
        values = {k.replace("-", "_"): v for k, v in values.items()}
        if section in SHARED_SECTIONS:
            for k in values:
                if k not in every or k in ("inputs", "config", "debug"):
                    raise UsageError(f"{path}: [{section}] has an unknown setting '{k}'")
            shared.update(values)
        elif section in commands:
            for k in values:
                if k not in commands[section] or k in ("inputs", "config", "debug"):
                    raise UsageError(
                        f"{path}: [{section}] has an unknown setting '{k}' (see "
                        f"'clientela {section} --help')"
                    )
            result[section].update(values)
        else:
            known = ", ".join([*SHARED_SECTIONS, *sorted(commands)])
            raise UsageError(f"{path}: unknown section [{section}]; use one of {known}")
    for name, params in commands.items():
        result[name] = {
            **{k: _click_value(v) for k, v in shared.items() if k in params},
            **{k: _click_value(v) for k, v in result[name].items()},
        }
        if isinstance(params, dict):
            for k, v in result[name].items():
                section = name if k in data_keys(data, name) else _shared_section(data, k)
                result[name][k] = _check_config_value(path, section, k, v, params[k])
    return result


def data_keys(data: dict[str, Any], section: str) -> set[str]:
    """The option names set in ``[section]`` of a parsed config (dashes as underscores)."""
    values = data.get(section)
    return {k.replace("-", "_") for k in values} if isinstance(values, dict) else set()


def _shared_section(data: dict[str, Any], key: str) -> str:
    """The last shared section that sets ``key`` (the one whose value is used)."""
    found = [s for s in SHARED_SECTIONS if key in data_keys(data, s)]
    return found[-1] if found else "?"


#: options that take comma-separated values; in the config file they may be TOML lists
COMMA_OPTIONS = frozenset({"formats", "r_cuts", "f_cuts", "m_cuts", "keep"})


def _check_config_value(path: Path, section: str, key: str, value: Any, param: Any) -> Any:
    """Check ``value`` against the option's declared type, as the command line would; a
    value of the wrong type is a usage error that names the file, section and key. A list
    given for a comma-separated text option (``formats = ["parquet", "csv"]``) becomes that
    text, a number given for a text option its text; the value is returned."""
    import enum
    import types
    import typing

    descriptor = getattr(param, "type_descriptor", None)
    annotation = getattr(descriptor, "annotation", None)
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        annotation = inner[0] if len(inner) == 1 else None

    def bad(expected: str) -> UsageError:
        return UsageError(
            f"{path}: [{section}] {key.replace('_', '-')} = {_toml_repr(value)}: expected "
            f"{expected}"
        )

    scalar = (str, int, float)
    if annotation is bool:
        if not isinstance(value, bool):
            raise bad("true or false")
    elif annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad("a whole number")
    elif annotation is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad("a number")
    elif annotation in (str, Path):
        if (
            key in COMMA_OPTIONS
            and isinstance(value, list)
            and all(isinstance(v, scalar) and not isinstance(v, bool) for v in value)
        ):
            return ",".join(str(v) for v in value)  # a comma-separated option as a list
        if isinstance(value, bool) or not isinstance(value, scalar):
            raise bad("text")
        return str(value)
    elif isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        choices = [str(m.value) for m in annotation]
        if str(value) not in choices:
            raise bad("one of " + ", ".join(choices))
    elif typing.get_origin(annotation) is typing.Literal:
        choices = [str(a) for a in args]
        if str(value) not in choices:
            raise bad("one of " + ", ".join(choices))
    return value


def _toml_repr(value: Any) -> str:
    import json

    try:
        return json.dumps(value, ensure_ascii=False)
    except TypeError:
        return repr(value)


def _click_value(v: Any) -> Any:
    """TOML values as click expects defaults (lists of flags stay lists; dates as text)."""
    import datetime as dt

    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    return v
