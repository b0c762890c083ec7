"""clientela: customer analytics from the command line.

The Python API mirrors the CLI: the same names and defaults.
Heavy libraries (duckdb, polars, pyarrow) are imported lazily so that
``import clientela`` and ``clientela --help`` stay fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "ChurnParams", "ClvParams", "CohortParams", "LoadOptions", "ReportParams", "RfmParams",
    "StatusParams", "__version__", "build_report", "churn", "clv", "cohorts", "compute_btyd",
    "compute_churn", "compute_clv", "compute_cohorts", "compute_history", "compute_rfm",
    "compute_status", "compute_transitions", "fit_bgnbd", "fit_gamma_gamma", "forget", "inspect",
    "load", "rfm", "status", "status_history", "subject_export",
]  # fmt: skip

if TYPE_CHECKING:  # pragma: no cover
    # (status and churn stay out: ``from clientela import status`` must name the module)
    from clientela.churn import ChurnParams, compute_churn
    from clientela.clv import ClvParams, clv, compute_clv, fit_bgnbd, fit_gamma_gamma
    from clientela.cohorts import CohortParams, cohorts, compute_cohorts
    from clientela.lgpd import forget, subject_export
    from clientela.load import LoadOptions, inspect, load
    from clientela.report import ReportParams, build_report
    from clientela.rfm import RfmParams, compute_btyd, compute_rfm, rfm
    from clientela.status import (
        StatusParams,
        compute_history,
        compute_status,
        compute_transitions,
        status_history,
    )

_LAZY = {
    "load": "clientela.load", "inspect": "clientela.load", "LoadOptions": "clientela.load",
    "rfm": "clientela.rfm", "RfmParams": "clientela.rfm", "compute_rfm": "clientela.rfm",
    "compute_btyd": "clientela.rfm", "forget": "clientela.lgpd", "subject_export": "clientela.lgpd",
    "clv": "clientela.clv", "ClvParams": "clientela.clv", "compute_clv": "clientela.clv",
    "fit_bgnbd": "clientela.clv", "fit_gamma_gamma": "clientela.clv",
    "cohorts": "clientela.cohorts", "CohortParams": "clientela.cohorts",
    "compute_cohorts": "clientela.cohorts",
    "status": "clientela.status", "status_history": "clientela.status",
    "StatusParams": "clientela.status", "compute_status": "clientela.status",
    "compute_history": "clientela.status", "compute_transitions": "clientela.status",
    "churn": "clientela.churn", "ChurnParams": "clientela.churn",
    "compute_churn": "clientela.churn", "ReportParams": "clientela.report",
    "build_report": "clientela.report",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'clientela' has no attribute {name!r}")
