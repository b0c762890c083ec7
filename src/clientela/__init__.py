"""clientela: customer analytics from the command line.

The Python API mirrors the CLI: the same names and defaults.
Heavy libraries (duckdb, polars, pyarrow) are imported lazily so that
``import clientela`` and ``clientela --help`` stay fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["LoadOptions", "__version__", "inspect", "load"]

if TYPE_CHECKING:  # pragma: no cover
    from clientela.load import LoadOptions, inspect, load


def __getattr__(name: str) -> Any:
    if name in ("load", "inspect", "LoadOptions"):
        from clientela import load as _load

        return getattr(_load, name)
    raise AttributeError(f"module 'clientela' has no attribute {name!r}")
