"""One exception family and the documented exit codes.

Every error a user can cause is a :class:`ClientelaError` subclass carrying its
exit code; the CLI turns it into one line on stderr. Anything else is a bug
(exit 70, traceback only with ``--debug``).
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes (documented in the README and ``clientela --help``)."""

    OK = 0
    BAD_INPUT = 1  # the data: a file, a column or rows that cannot be used
    USAGE = 2  # the command line: unknown option, missing file, bad value
    QUALITY_GATE = 3  # a data-quality gate failed (inspect --strict)
    RESOURCES = 4  # out of memory or of disk for spilling: change the resource options
    BUG = 70  # an internal error (EX_SOFTWARE)
    INTERRUPTED = 130  # Ctrl-C or SIGTERM


class ClientelaError(Exception):
    """Base of every error meant for the user. ``str(err)`` is the one-line message."""

    exit_code: ExitCode = ExitCode.BAD_INPUT

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InputDataError(ClientelaError):
    """The input data cannot be used as it is (exit 1)."""

    exit_code = ExitCode.BAD_INPUT


class UsageError(ClientelaError):
    """The command line or a parameter is wrong (exit 2)."""

    exit_code = ExitCode.USAGE


class OutputError(ClientelaError):
    """The output cannot be written as asked (exit 2: change the option)."""

    exit_code = ExitCode.USAGE


class QualityGateError(ClientelaError):
    """A data-quality gate failed (exit 3)."""

    exit_code = ExitCode.QUALITY_GATE


class ResourceError(ClientelaError):
    """The run needs more memory or spill space than it was given (exit 4)."""

    exit_code = ExitCode.RESOURCES


def first_line(err: BaseException) -> str:
    """The first line of an error's message (its type's name when it has none)."""
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def is_interrupt(err: BaseException) -> bool:
    """DuckDB's error for a query stopped by Ctrl-C or SIGTERM (its InterruptException, or
    the RuntimeError some versions raise)."""
    return type(err).__name__ == "InterruptException" or (
        isinstance(err, RuntimeError) and "Query interrupted" in str(err)
    )


def raise_if_interrupted(err: BaseException) -> None:
    """Re-raise an interrupted query as KeyboardInterrupt, so code that turns DuckDB's
    errors into messages about the input (a file that cannot be read) never reports an
    interruption as bad data: the run ends with "interrupted" and exit 130."""
    if is_interrupt(err):
        raise KeyboardInterrupt from err


def resource_error(err: BaseException) -> ResourceError | None:
    """The :class:`ResourceError` for a DuckDB (or Python) out-of-memory or disk-full
    error, naming the options that fix it; None for any other error."""
    text = str(err)
    first = first_line(err)
    if type(err).__name__ == "OutOfMemoryException" or isinstance(err, MemoryError):
        detail = first.split("Error: ", 1)[-1]
        return ResourceError(
            f"out of memory ({detail}); DuckDB may use 3/4 of --memory-limit: raise "
            "--memory-limit, lower --threads, or free memory on this machine"
        )
    if "No space left on device" in text or "Could not write all bytes" in text:
        return ResourceError(
            f"out of disk space while working ({first}); point --temp-dir at a disk with "
            "room for the spilled data"
        )
    return None
