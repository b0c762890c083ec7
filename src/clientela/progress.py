"""Progress on long work, on stderr, only when stderr is a terminal.

    with progress.step("loading orders", con):
        con.execute(...)

A step that ends within ``DELAY`` seconds shows nothing (no flicker on small files). After
that one status line is redrawn four times a second: the step, DuckDB's own estimate of the
running query's progress (``query_progress``) when it has one, and the elapsed time. The
line is erased when the step ends, so messages and data are never interleaved with it.
Nothing is written when stderr is not a terminal (cron, pipes, tests) or when
``CLIENTELA_PROGRESS=0``; ``CLIENTELA_PROGRESS=1`` forces it on (used by the tests).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

DELAY = 1.0
INTERVAL = 0.25


def enabled() -> bool:
    setting = os.environ.get("CLIENTELA_PROGRESS")
    if setting is not None:
        return setting not in ("0", "", "false", "no")
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _line(label: str, con: Any, started: float) -> str:
    elapsed = time.monotonic() - started
    text = f"{label}..."
    if con is not None:
        try:
            pct = float(con.query_progress())
        except Exception:  # no query running, or an API without it
            pct = -1.0
        if pct >= 0:
            text += f" {min(pct, 100.0):.0f}%"
    return f"{text} ({elapsed:.0f} s)"


@contextlib.contextmanager
def step(label: str, con: Any = None, *, delay: float | None = None) -> Iterator[None]:
    """Show ``label`` (and the query progress of ``con``) while the block runs."""
    if not enabled():
        yield
        return
    wait = DELAY if delay is None else delay
    if os.environ.get("CLIENTELA_PROGRESS") == "1":
        wait = 0.0
    stop = threading.Event()
    started = time.monotonic()
    shown = False

    def draw() -> None:
        nonlocal shown
        if stop.wait(wait):
            return
        while True:
            sys.stderr.write("\r\x1b[K" + _line(label, con, started))
            sys.stderr.flush()
            shown = True
            if stop.wait(INTERVAL):
                return

    thread = threading.Thread(target=draw, name="clientela-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        if shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
