"""Progress lines: on a terminal only, erased when a step ends, never on stdout."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

from tests.conftest import SAMPLE, run_cli

ORDERS = str(SAMPLE / "orders.csv")


def test_progress_is_drawn_and_erased_on_stderr_only(tmp_path: Path) -> None:
    res = run_cli("rfm", ORDERS, "-o", str(tmp_path / "r.parquet"),
                  env={"CLIENTELA_PROGRESS": "1"})  # fmt: skip
    assert res.code == 0, res.err
    assert "\r\x1b[Kreading " in res.err and "orders.csv..." in res.err
    assert "\r\x1b[Kwriting " in res.err
    # every drawn line is erased before the next message
    for line in res.err.split("\n"):
        if "\x1b[K" in line:
            assert line.endswith("\r\x1b[K") or "wrote" in line or "read " in line, line
    assert "\x1b" not in res.out


def test_no_progress_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    res = run_cli("rfm", ORDERS, "-o", str(tmp_path / "r.parquet"))
    assert res.code == 0 and "\x1b" not in res.err and "\r" not in res.err


def test_enabled_follows_the_terminal_and_the_setting() -> None:
    code = "from clientela import progress; print(progress.enabled())"
    env = {k: v for k, v in os.environ.items() if k != "CLIENTELA_PROGRESS"}
    main, secondary = pty.openpty()
    try:
        args = [sys.executable, "-c", code]
        on_tty = subprocess.run(args, stderr=secondary, stdout=subprocess.PIPE, env=env)
        off_env = {**env, "CLIENTELA_PROGRESS": "0"}
        off = subprocess.run(args, stderr=secondary, stdout=subprocess.PIPE, env=off_env)
    finally:
        os.close(main)
        os.close(secondary)
    piped = subprocess.run([sys.executable, "-c", code], capture_output=True, env=env)
    assert on_tty.stdout.strip() == b"True"
    assert off.stdout.strip() == b"False"
    assert piped.stdout.strip() == b"False"
