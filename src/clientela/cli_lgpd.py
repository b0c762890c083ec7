"""The ``clientela lgpd``-family commands (registered on the main app by clientela.cli)."""

from __future__ import annotations

import typer

app = typer.Typer()
