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
    BUG = 70  # an internal error (EX_SOFTWARE)
    INTERRUPTED = 130  # Ctrl-C


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
