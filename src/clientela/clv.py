"""CLV: probability alive, expected purchases and lifetime value from BG/NBD and Gamma-Gamma.

Contract (DESIGN.md: clv.py; docs/clv.md):
- The models work on the BTYD summary (:func:`clientela.rfm.compute_btyd`, one row per
  customer: frequency = repeat purchase days, recency, T, monetary_value). The data-heavy
  part stays in DuckDB: identical (frequency, recency, T) rows are grouped there with
  weights (sql/clv_fit_rows.sql), numpy sees only the distinct rows, and the scores of the
  distinct rows are joined back in DuckDB (sql/clv_customers.sql).
- :func:`fit_bgnbd` (Fader, Hardie & Lee 2005, "Counting your customers the easy way") and
  :func:`fit_gamma_gamma` (Fader, Hardie & Lee 2005, "RFM and CLV"; Fader & Hardie 2013)
  maximise the weighted log-likelihood with scipy (BFGS with the analytic gradient, in
  log-parameter space, on data rescaled to mean T = 1 and mean spend = 1, from two starts,
  warm-started on a subsample for large data; Nelder-Mead as a fallback) and say whether
  the fit converged (largest gradient component below GRAD_TOL). An optional L2 penalizer
  adds ``penalizer * sum(theta**2)`` to the mean negative log-likelihood per customer, with
  the scale parameters (alpha, gamma) measured in those rescaled units, so it means the
  same in days and weeks and in any currency.
- The conditional expectations are closed forms of the papers, evaluated in numerically
  stable forms (log space, ``logaddexp``, and the Gauss hypergeometric function after two
  Pfaff transformations so that it cannot overflow for frequent buyers).
- :func:`compute_clv` creates the temp table ``clv`` (one row per customer) and, with a
  calibration end, the holdout validation (:func:`score_summary` is its modelling step on
  a ``btyd`` table already built); :func:`score_p_alive` creates ``clv_p_alive``
  for ``clientela churn --method model``; :func:`clv` is the Python API (a Polars
  DataFrame). Model files are plain JSON (:func:`save_model`, :func:`load_model`).
  Nothing is printed; warnings are returned.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from clientela._callable import make_module_callable
from clientela.errors import InputDataError, UsageError
from clientela.sqlfiles import read_sql

if TYPE_CHECKING:
    import duckdb
    import polars as pl

    from clientela.load import Loaded, LoadOptions
    from clientela.rfm import BtydResult

FloatArray = npt.NDArray[np.float64]
ArrayLike = npt.ArrayLike

#: days in a month for --horizon and the monthly discount rate (365.25 / 12)
DAYS_PER_MONTH = 30.4375
#: days in each --horizon unit
HORIZON_DAYS = {"d": 1.0, "w": 7.0, "m": DAYS_PER_MONTH, "y": 365.25}
UNIT_DAYS = {"days": 1.0, "weeks": 7.0}
#: log-parameters are kept within +-LOG_BOUND (the data are rescaled to mean 1 first);
#: beyond +-EDGE a parameter is reported as not identified
LOG_BOUND = 18.0
EDGE = 15.0
#: a fit has converged when the largest gradient component of the mean negative
#: log-likelihood per customer (in log-parameter space) is below this
GRAD_TOL = 1e-6
#: |correlation| between frequency and spend above which Gamma-Gamma is warned about
CORRELATION_WARN = 0.3
MODEL_KIND = "clientela.clv"
MODEL_VERSION = 1
BGNBD_NAMES = ("r", "alpha", "a", "b")
GG_NAMES = ("p", "q", "gamma")


# ------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class BgNbdParams:
    """BG/NBD: purchase rate lambda ~ Gamma(r, alpha) (alpha a rate, in the time unit of the
    data); dropout probability after each repeat purchase p ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float

    def as_dict(self) -> dict[str, float]:
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b}


@dataclass(frozen=True)
class GammaGammaParams:
    """Gamma-Gamma: the value of each purchase ~ Gamma(p, nu), nu ~ Gamma(q, gamma) across
    customers (lifetimes calls gamma ``v``)."""

    p: float
    q: float
    gamma: float

    def as_dict(self) -> dict[str, float]:
        return {"p": self.p, "q": self.q, "gamma": self.gamma}

    @property
    def mean_spend(self) -> float | None:
        """The population mean spend per purchase, p gamma / (q - 1); None when q <= 1."""
        return self.p * self.gamma / (self.q - 1) if self.q > 1 else None


@dataclass
class FitDiagnostics:
    """How a maximum-likelihood fit went."""

    customers: float  # sum of the weights
    rows: int  # distinct rows the likelihood was summed over
    converged: bool
    message: str
    iterations: int
    penalizer: float
    max_gradient: float
    std_errors: dict[str, float | None]  # delta method from the observed information
    at_bound: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "customers": self.customers,
            "distinct_rows": self.rows,
            "converged": self.converged,
            "message": self.message,
            "iterations": self.iterations,
            "penalizer": self.penalizer,
            "max_gradient": self.max_gradient,
            "std_errors": self.std_errors,
            "parameters_at_bound": self.at_bound,
        }


@dataclass
class BgNbdFit:
    params: BgNbdParams
    log_likelihood: float  # sum over customers, without the penalty
    diagnostics: FitDiagnostics

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.params.as_dict(),
            "log_likelihood": self.log_likelihood,
            **self.diagnostics.as_dict(),
        }


@dataclass
class GammaGammaFit:
    params: GammaGammaParams
    log_likelihood: float  # of the mean-spend density, sum over the customers fitted
    diagnostics: FitDiagnostics
    excluded_one_time: float = 0.0  # weights of rows with frequency 0 (no repeat spend)
    excluded_nonpositive: float = 0.0  # weights of repeat buyers with spend <= 0

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.params.as_dict(),
            "log_likelihood": self.log_likelihood,
            "population_mean_spend": self.params.mean_spend,
            "excluded_one_time_buyers": self.excluded_one_time,
            "excluded_nonpositive_spend": self.excluded_nonpositive,
            **self.diagnostics.as_dict(),
        }


# ----------------------------------------------------------------------------- inputs


def _arr(values: ArrayLike, name: str) -> FloatArray:
    a = np.asarray(values, dtype=np.float64)
    if a.ndim == 0:
        a = a.reshape(1)
    if a.ndim != 1:
        raise InputDataError(f"{name}: give a one-dimensional sequence of numbers")
    return a


def _summary_arrays(
    frequency: ArrayLike, recency: ArrayLike, T: ArrayLike, weights: ArrayLike | None
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    x, t_x, t = _arr(frequency, "frequency"), _arr(recency, "recency"), _arr(T, "T")
    w = np.ones_like(x) if weights is None else _arr(weights, "weights")
    if not len(x) == len(t_x) == len(t) == len(w):
        raise InputDataError("frequency, recency, T (and weights) must have the same length")
    if len(x) == 0:
        raise InputDataError("the BTYD summary is empty: no customer to fit")
    for name, a in (("frequency", x), ("recency", t_x), ("T", t), ("weights", w)):
        if not np.all(np.isfinite(a)) or np.any(a < 0):
            raise InputDataError(f"{name}: every value must be a finite number >= 0")
    if np.any(x != np.round(x)):
        raise InputDataError("frequency: repeat purchases must be whole numbers")
    if np.any(t_x > t) or np.any((x == 0) & (t_x != 0)):
        raise InputDataError(
            "recency must be at most T, and 0 for one-time buyers: it is the age at the last "
            "purchase, not the time since it (the BTYD summary: clientela rfm --model btyd)"
        )
    return x, t_x, t, w


# ---------------------------------------------------------------------- optimisation


def _dot(a: FloatArray, b: FloatArray) -> float:
    """A dot product without BLAS: BLAS threads make ``a @ b`` erratic (tens of ms for 50k
    elements on a busy two-core machine); einsum's own loop is steady."""
    return float(np.einsum("i,i->", a, b))


@dataclass
class _Optimum:
    theta: FloatArray  # log-parameters, rescaled data
    converged: bool
    message: str
    iterations: int
    max_gradient: float
    hessian: FloatArray | None


Objective = Callable[[FloatArray], tuple[float, FloatArray]]


#: above this many distinct rows, the starts are first optimised on a weighted subsample
SUBSAMPLE_ROWS = 20_000
SUBSAMPLE_CUSTOMERS = 50_000


def _minimize(
    fun: Objective, starts: Sequence[FloatArray], warm: Objective | None = None
) -> _Optimum:
    """Minimise ``fun`` (value and gradient) over log-parameters.

    BFGS from each start (on ``warm``, a cheap subsample objective, when given, and then
    once on ``fun`` from the best of them); if the gradient is not small at the end, BFGS
    on ``fun`` from every start, then Nelder-Mead and a final BFGS polish. The range
    +-LOG_BOUND is kept by evaluating at the clipped point plus a quadratic wall. (BFGS,
    not L-BFGS-B: scipy's L-BFGS-B calls BLAS on 4-vectors, and OpenBLAS' threads make
    each of its iterations cost milliseconds on a busy machine.)
    """
    from scipy.optimize import minimize

    k = len(starts[0])
    iterations = 0

    def guarded(f: Objective) -> Objective:
        def g(theta: FloatArray) -> tuple[float, FloatArray]:
            inside = np.clip(theta, -LOG_BOUND, LOG_BOUND)
            out = theta - inside
            with np.errstate(all="ignore"):
                v, grad = f(inside)
            if not (math.isfinite(v) and np.all(np.isfinite(grad))):
                return 1e300, np.zeros(k)
            grad = np.where(out == 0, grad, 0.0)
            return v + _dot(out, out), grad + 2 * out

        return g

    safe = guarded(fun)

    def bfgs(f: Objective, x0s: Sequence[FloatArray], hess_inv: Any = None) -> Any:
        nonlocal iterations
        best: Any = None
        for x0 in x0s:
            options = {"maxiter": 1000, "gtol": GRAD_TOL / 100, "hess_inv0": hess_inv}
            res = minimize(f, x0, jac=True, method="BFGS", options=options)
            iterations += int(res.nit)
            if best is None or res.fun < best.fun:
                best = res
        return best

    def small(res: Any) -> bool:
        return float(np.max(np.abs(res.jac))) < GRAD_TOL

    if warm is None:
        best = bfgs(safe, starts)
    else:  # the subsample's solution and curvature (of a mean per customer) start the fit
        first = bfgs(guarded(warm), starts)
        h = (first.hess_inv + first.hess_inv.T) / 2
        best = bfgs(safe, [first.x], h if np.min(np.linalg.eigvalsh(h)) > 0 else None)
        if not small(best):
            other = bfgs(safe, starts)
            best = other if other.fun < best.fun else best
    if not small(best) and not _at_bound(best.x):  # fall back: simplex, then polish
        # (at the edge of the range the data do not identify a parameter: no point)
        nm = minimize(
            lambda th: safe(th)[0],
            best.x,
            method="Nelder-Mead",
            bounds=[(-LOG_BOUND, LOG_BOUND)] * k,
            options={"maxiter": 500 * k, "xatol": 1e-10, "fatol": 1e-15, "adaptive": True},
        )
        iterations += int(nm.nit)
        polished = bfgs(safe, [nm.x])
        best = polished if polished.fun <= best.fun else best
    theta = np.clip(np.asarray(best.x, dtype=np.float64), -LOG_BOUND, LOG_BOUND)
    grad = safe(theta)[1]
    max_grad = float(np.max(np.abs(grad)))
    converged = bool(np.isfinite(max_grad) and max_grad < GRAD_TOL)
    hessian = _hessian(safe, theta, grad)
    return _Optimum(theta, converged, str(best.message), iterations, max_grad, hessian)


def _hessian(
    fun: Objective, theta: FloatArray, grad: FloatArray, h: float = 1e-6
) -> FloatArray | None:
    """Forward differences of the analytic gradient, symmetrised."""
    k = len(theta)
    hess = np.empty((k, k))
    for i in range(k):
        step = np.zeros(k)
        step[i] = h
        hess[i] = (fun(theta + step)[1] - grad) / h
    hess = (hess + hess.T) / 2
    return hess if np.all(np.isfinite(hess)) else None


def _subsample(w: FloatArray) -> FloatArray | None:
    """Deterministic weights of a random subsample of the customers (about
    SUBSAMPLE_CUSTOMERS, drawn in proportion to the weights), or None for small data."""
    if len(w) <= SUBSAMPLE_ROWS:
        return None
    rng = np.random.default_rng(20050101)
    return rng.multinomial(SUBSAMPLE_CUSTOMERS, w / w.sum()).astype(np.float64)


def _std_errors(
    opt: _Optimum, params: Iterable[float], names: Sequence[str], n: float, at_bound: list[str]
) -> dict[str, float | None]:
    """Standard errors by the delta method: cov(log theta) = inverse of n times the Hessian
    of the mean negative log-likelihood; se(theta) = theta * se(log theta). None when the
    fit ended at the edge of the range or the Hessian is not positive definite."""
    none: dict[str, float | None] = dict.fromkeys(names)
    if opt.hessian is None or at_bound:
        return none
    try:
        if np.min(np.linalg.eigvalsh(opt.hessian)) <= 0:
            return none
        cov = np.linalg.inv(opt.hessian * n)
    except np.linalg.LinAlgError:
        return none
    return {
        name: float(p * math.sqrt(v)) if v > 0 else None
        for name, p, v in zip(names, params, np.diag(cov), strict=True)
    }


def _at_bound(theta: FloatArray, names: Sequence[str] | None = None) -> list[str]:
    """The parameters that ran off towards 0 or infinity (beyond e^+-EDGE in the rescaled
    units: the likelihood is flat there and the data do not identify them)."""
    names = names or [str(i) for i in range(len(theta))]
    return [n for n, t in zip(names, theta, strict=True) if abs(t) > EDGE]


def _fit_message(opt: _Optimum, at_bound: list[str]) -> str:
    if at_bound:
        return f"{', '.join(at_bound)} ran off towards 0 or infinity (not identified)"
    if not opt.converged:
        return f"largest gradient {opt.max_gradient:.2g} after {opt.iterations} iterations"
    return "converged"


# ---------------------------------------------------------------------------- BG/NBD


def bgnbd_log_likelihood(
    params: BgNbdParams, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> FloatArray:
    """Per-customer log-likelihood of (x, t_x, T) under BG/NBD (FHL 2005, eq. 6):

    L = B(a, b+x)/B(a, b) G(r+x)/G(r) alpha^r / (alpha+T)^(r+x)
        + [x > 0] B(a+1, b+x-1)/B(a, b) G(r+x)/G(r) alpha^r / (alpha+t_x)^(r+x)

    as log(first term) + log1p(exp(d)), d = log of the second term over the first
    = log a - log(b+x-1) + (r+x) (log(alpha+T) - log(alpha+t_x)).
    """
    from scipy.special import betaln, gammaln

    x, t_x, t = _arr(frequency, "frequency"), _arr(recency, "recency"), _arr(T, "T")
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    first = (
        gammaln(r + x)
        - gammaln(r)
        + r * np.log(alpha)
        + betaln(a, b + x)
        - betaln(a, b)
        - (r + x) * np.log(alpha + t)
    )
    d = (
        math.log(a)
        - np.log(b + np.maximum(x, 1) - 1)
        + (r + x) * (np.log(alpha + t) - np.log(alpha + t_x))
    )
    return np.asarray(first + np.where(x > 0, np.logaddexp(0.0, d), 0.0), dtype=np.float64)


class _BgData:
    """Distinct summary rows, with the parts of the likelihood that do not depend on the
    rows individually precomputed (sums per distinct frequency and per distinct T)."""

    def __init__(self, x: FloatArray, t_x: FloatArray, t: FloatArray, w: FloatArray) -> None:
        self.n = float(w.sum())
        self.xu, xi = np.unique(x, return_inverse=True)
        self.wx = np.bincount(xi, weights=w).astype(np.float64)  # weight per distinct x
        self.tu, ti = np.unique(t, return_inverse=True)
        self.wt = np.bincount(ti, weights=w).astype(np.float64)  # weight per distinct T
        self.xt = np.bincount(ti, weights=w * x).astype(np.float64)  # sum w x per distinct T
        rep = x > 0  # only repeat buyers have the second (dropout) term
        self.xr, self.wr = x[rep], w[rep]
        self.rec_u, self.rec_i = np.unique(t_x[rep], return_inverse=True)
        self.t_i = ti[rep]
        self.xr_u, self.xr_i = np.unique(self.xr, return_inverse=True)


def _bgnbd_objective(data: _BgData, penalizer: float) -> Objective:
    """Mean negative log-likelihood per customer and its gradient, in log-parameters."""
    from scipy.special import betaln, digamma, gammaln

    def fun(theta: FloatArray) -> tuple[float, FloatArray]:
        r, alpha, a, b = np.exp(theta)
        xu, wx, n = data.xu, data.wx, data.n
        # first term: sums over the distinct frequencies and the distinct T
        log_at = np.log(alpha + data.tu)
        ll = float(
            _dot(wx, gammaln(r + xu) - gammaln(r) + betaln(a, b + xu) - betaln(a, b))
            + n * r * math.log(alpha)
            - _dot(r * data.wt + data.xt, log_at)
        )
        psi_abx = digamma(a + b + xu)
        g_r = _dot(wx, digamma(r + xu) - digamma(r)) + n * math.log(alpha) - _dot(data.wt, log_at)
        g_alpha = n * r / alpha - _dot(r * data.wt + data.xt, 1.0 / (alpha + data.tu))
        g_a = _dot(wx, digamma(a + b) - psi_abx)
        g_b = _dot(wx, digamma(b + xu) - psi_abx - digamma(b) + digamma(a + b))
        # second term, repeat buyers only: log1p(exp(d)) per row, as
        # max(d, 0) + log1p(exp(-|d|)); its derivative sigmoid(d) = exp(d - log1p(exp(d)))
        if len(data.xr):
            take = np.take
            diff = take(log_at, data.t_i) - take(np.log(alpha + data.rec_u), data.rec_i)
            rx = r + data.xr
            d = math.log(a) - take(np.log(b + data.xr_u - 1), data.xr_i) + rx * diff
            soft = np.maximum(d, 0.0) + np.log1p(np.exp(-np.abs(d)))
            ll += _dot(data.wr, soft)
            ws = data.wr * np.exp(d - soft)  # weight * sigmoid(d)
            g_r += _dot(ws, diff)
            inv_gap = take(1.0 / (alpha + data.tu), data.t_i) - take(
                1.0 / (alpha + data.rec_u), data.rec_i
            )
            g_alpha += _dot(ws, rx * inv_gap)
            g_a += float(ws.sum() / a)
            g_b -= _dot(ws, take(1.0 / (b + data.xr_u - 1), data.xr_i))
        params = np.array([r, alpha, a, b])
        grad = np.array([g_r, g_alpha, g_a, g_b]) * params  # chain rule for log-parameters
        value = -ll / n + penalizer * _dot(params, params)
        return value, -grad / n + 2 * penalizer * params * params

    return fun


def fit_bgnbd(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    penalizer: float = 0.0,
) -> BgNbdFit:
    """Fit BG/NBD by maximum likelihood to a BTYD summary (``weights``: customers per row).

    Raises :class:`InputDataError` when the data cannot identify the model (no customer,
    one customer, no repeat purchase at all). A fit that did not converge is returned with
    ``diagnostics.converged`` false.
    """
    if not (math.isfinite(penalizer) and penalizer >= 0):
        raise UsageError(f"--penalizer {penalizer}: give a number >= 0 (e.g. 0.001)")
    x, t_x, t, w = _summary_arrays(frequency, recency, T, weights)
    keep = w > 0
    x, t_x, t, w = x[keep], t_x[keep], t[keep], w[keep]
    n = float(w.sum())
    if n == 0:
        raise InputDataError("the BTYD summary is empty: no customer to fit")
    if n < 2:
        raise InputDataError(
            "only one customer: BG/NBD needs many customers to be estimated; score this "
            "customer with a model fitted on more data (--model FILE.json)"
        )
    if not np.any(x > 0):
        raise InputDataError(
            f"all {n:,.0f} customers bought once (frequency 0): BG/NBD cannot be fitted "
            "without repeat purchases; use more history (a later --as-of) or recency rules "
            "(clientela churn)"
        )
    scale = _dot(w, t) / n  # time in units of the mean customer age
    if scale <= 0:
        raise InputDataError("every customer's first purchase is on the as-of date (T = 0)")
    data = _BgData(x, t_x / scale, t / scale, w)
    fun = _bgnbd_objective(data, penalizer)
    sub = _subsample(w)
    warm = None
    if sub is not None:
        s = sub > 0
        warm = _bgnbd_objective(_BgData(x[s], t_x[s] / scale, t[s] / scale, sub[s]), penalizer)
    rate = max(_dot(w, x) / _dot(w, t / scale), 1e-3)
    starts = [np.log([1.0, 1.0 / rate, 1.0, 1.0]), np.log([0.25, 0.25 / rate, 0.8, 2.5])]
    opt = _minimize(fun, starts, warm)
    r, alpha_s, a, b = (float(v) for v in np.exp(opt.theta))
    params = BgNbdParams(r, alpha_s * scale, a, b)
    at_bound = _at_bound(opt.theta, BGNBD_NAMES)
    converged = opt.converged and not at_bound
    diag = FitDiagnostics(
        customers=n,
        rows=len(x),
        converged=converged,
        message=_fit_message(opt, at_bound),
        iterations=opt.iterations,
        penalizer=penalizer,
        max_gradient=opt.max_gradient,
        std_errors=_std_errors(opt, params.as_dict().values(), BGNBD_NAMES, n, at_bound),
        at_bound=at_bound,
    )
    ll = _dot(w, bgnbd_log_likelihood(params, x, t_x, t))
    return BgNbdFit(params, ll, diag)


def bgnbd_p_alive(
    params: BgNbdParams, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> FloatArray:
    """P(alive | x, t_x, T) = 1 / (1 + [x > 0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))
    (FHL 2005 note; 1 for one-time buyers by the model's assumptions)."""
    from scipy.special import expit

    x, t_x, t = _arr(frequency, "frequency"), _arr(recency, "recency"), _arr(T, "T")
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    d = (
        math.log(a)
        - np.log(b + np.maximum(x, 1) - 1)
        + (r + x) * (np.log(alpha + t) - np.log(alpha + t_x))
    )
    return np.asarray(np.where(x > 0, expit(-d), 1.0), dtype=np.float64)


def _purchase_factor(params: BgNbdParams, t: float, x: FloatArray, T: FloatArray) -> FloatArray:
    """E[purchases in (T, T+t] | alive, x, T] (FHL 2005, eq. 10 without the P(alive) factor):

    (a+b+x-1)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; t/(alpha+T+t))]

    The power times 2F1 is rewritten by two Pfaff transformations as
    (1 + t/(alpha+T))^(1-a) 2F1(a-1, a+b-1-r; a+b+x-1; t/(alpha+T+t)), whose parameters
    stay small (no overflow for frequent buyers) and whose argument is in [0, 1).
    """
    from scipy.special import hyp2f1

    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    if abs(a - 1) < 1e-7:  # the closed form is 0/0 at a = 1; its limit is smooth
        a = 1 + math.copysign(1e-7, a - 1)
    if t <= 0:
        return np.zeros_like(x)
    z = t / (alpha + T + t)
    f = hyp2f1(a - 1, a + b - 1 - r, a + b + x - 1, z)
    one_minus_g = -np.expm1((1 - a) * np.log1p(t / (alpha + T)) + np.log(f))
    return np.asarray((a + b + x - 1) / (a - 1) * one_minus_g, dtype=np.float64)


def _pairs(x: FloatArray, T: FloatArray) -> tuple[FloatArray, FloatArray, npt.NDArray[np.intp]]:
    """The distinct (x, T) pairs and the index of each row's pair (the expectations of a
    live customer depend on x and T only, so they are computed once per pair)."""
    xu, xi = np.unique(x, return_inverse=True)
    tu, ti = np.unique(T, return_inverse=True)
    ku, ki = np.unique(xi.astype(np.int64) * len(tu) + ti, return_inverse=True)
    return xu[ku // len(tu)], tu[ku % len(tu)], ki


def bgnbd_expected_purchases(
    params: BgNbdParams,
    t: float,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
) -> FloatArray:
    """Expected purchases in the next ``t`` time units of customers with (x, t_x, T):
    P(alive) times the expected purchases of a live customer (FHL 2005, eq. 10)."""
    x, t_x, tt = _arr(frequency, "frequency"), _arr(recency, "recency"), _arr(T, "T")
    xu, tu, idx = _pairs(x, tt)
    return np.asarray(
        bgnbd_p_alive(params, x, t_x, tt) * _purchase_factor(params, float(t), xu, tu)[idx],
        dtype=np.float64,
    )


def bgnbd_expected_purchases_new(params: BgNbdParams, t: ArrayLike) -> FloatArray:
    """E[X(t)], expected repeat purchases in (0, t] of a customer just acquired (eq. 9)."""
    ts = _arr(t, "t")
    zero = np.zeros(1)
    return np.array([_purchase_factor(params, float(v), zero, zero)[0] for v in ts])


def bgnbd_probability_of_purchases(params: BgNbdParams, t: float, n: ArrayLike) -> FloatArray:
    """P(X(t) = n), the probability of n repeat purchases in (0, t] (FHL 2005, eq. 8)."""
    from scipy.special import betaln, gammaln

    ns = _arr(n, "n")
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    log_q = math.log(alpha / (alpha + t))  # log of alpha / (alpha + t)
    log_s = math.log(t / (alpha + t)) if t > 0 else -math.inf
    with np.errstate(divide="ignore"):
        first = np.exp(
            betaln(a, b + ns)
            - betaln(a, b)
            + gammaln(r + ns)
            - gammaln(r)
            - gammaln(ns + 1)
            + r * log_q
            + np.where(ns > 0, ns * log_s, 0.0)
        )
    top = int(ns.max()) if len(ns) else 0
    j = np.arange(max(top, 1), dtype=np.float64)
    with np.errstate(divide="ignore"):
        terms = np.exp(gammaln(r + j) - gammaln(r) - gammaln(j + 1) + np.where(j > 0, j * log_s, 0))
    partial = np.concatenate([[0.0], np.cumsum(terms)])  # partial[k] = sum_{j<k}
    k = ns.astype(np.intp)
    with np.errstate(divide="ignore", invalid="ignore"):
        second = np.exp(betaln(a + 1, b + ns - 1) - betaln(a, b)) * (
            1 - math.exp(r * log_q) * partial[k]
        )
    return np.asarray(first + np.where(ns > 0, second, 0.0), dtype=np.float64)


def discounted_purchases(
    params: BgNbdParams,
    horizon: float,
    month: float,
    discount_rate: float,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
) -> tuple[FloatArray, FloatArray]:
    """Expected purchases over ``horizon`` and the same purchases discounted month by month.

    The horizon (in the data's time unit) is cut into months of ``month`` units (the last
    one shorter when the horizon is not whole months); the purchases expected in month k
    are discounted by (1 + discount_rate)^(-end_k / month), end_k the month's end. With a
    zero rate both results are equal. Returns (expected, discounted).
    """
    x, t_x, tt = _arr(frequency, "frequency"), _arr(recency, "recency"), _arr(T, "T")
    alive = bgnbd_p_alive(params, x, t_x, tt)
    xu, tu, idx = _pairs(x, tt)
    if horizon <= 0:
        zero = np.zeros_like(x)
        return zero, zero.copy()
    total = _purchase_factor(params, horizon, xu, tu)
    if discount_rate == 0:
        disc = total
    else:
        ends = [min(k * month, horizon) for k in range(1, math.ceil(horizon / month - 1e-9) + 1)]
        disc = np.zeros_like(xu)
        prev = np.zeros_like(xu)
        for end in ends:
            cur = total if end >= horizon else _purchase_factor(params, end, xu, tu)
            disc += (cur - prev) / (1 + discount_rate) ** (end / month)
            prev = cur
    return alive * total[idx], alive * disc[idx]


# ----------------------------------------------------------------------- Gamma-Gamma


def gamma_gamma_log_likelihood(
    params: GammaGammaParams, frequency: ArrayLike, monetary_value: ArrayLike
) -> FloatArray:
    """Per-customer log density of the mean spend m of x purchases under Gamma-Gamma:

    G(px+q) / (G(px) G(q)) gamma^q m^(px-1) x^(px) / (gamma + m x)^(px+q)

    (the density of the mean, not of the individual values; FHL 2005 JMR, Fader & Hardie
    2013). Only defined for x > 0 and m > 0.
    """
    from scipy.special import gammaln

    x, m = _arr(frequency, "frequency"), _arr(monetary_value, "monetary_value")
    p, q, g = params.p, params.q, params.gamma
    px = p * x
    return np.asarray(
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * math.log(g)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(g + m * x),
        dtype=np.float64,
    )


class _GgData:
    def __init__(self, x: FloatArray, m: FloatArray, w: FloatArray) -> None:
        self.x, self.m, self.w = x, m, w
        self.n = float(w.sum())
        self.xu, xi = np.unique(x, return_inverse=True)
        self.wx = np.bincount(xi, weights=w).astype(np.float64)
        self.wx_x = self.wx * self.xu
        self.w_x = w * x
        log_m = np.log(m)
        self.sum_w_log_m = _dot(w, log_m)
        self.sum_wx_log_mx = _dot(self.w_x, log_m + np.log(x))


def _gg_objective(data: _GgData, penalizer: float) -> Objective:
    from scipy.special import digamma, gammaln

    def fun(theta: FloatArray) -> tuple[float, FloatArray]:
        p, q, g = np.exp(theta)
        n, xu, wx = data.n, data.xu, data.wx
        lg = np.log(g + data.m * data.x)
        pxq = p * xu + q
        ll = float(
            _dot(wx, gammaln(pxq) - gammaln(p * xu))
            - n * gammaln(q)
            + n * q * math.log(g)
            + p * data.sum_wx_log_mx
            - data.sum_w_log_m
            - p * _dot(data.w_x, lg)
            - q * _dot(data.w, lg)
        )
        psi = digamma(pxq)
        g_p = _dot(data.wx_x, psi - digamma(p * xu)) + data.sum_wx_log_mx - _dot(data.w_x, lg)
        g_q = _dot(wx, psi) - n * digamma(q) + n * math.log(g) - _dot(data.w, lg)
        g_g = n * q / g - _dot(data.w, (p * data.x + q) / (g + data.m * data.x))
        params = np.array([p, q, g])
        grad = np.array([g_p, g_q, g_g]) * params
        value = -ll / n + penalizer * _dot(params, params)
        return value, -grad / n + 2 * penalizer * params * params

    return fun


def fit_gamma_gamma(
    frequency: ArrayLike,
    monetary_value: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    penalizer: float = 0.0,
) -> GammaGammaFit:
    """Fit Gamma-Gamma by maximum likelihood to the repeat buyers' mean spend.

    Rows with frequency 0 (no repeat purchase, so no spend information) and repeat buyers
    with spend <= 0 (the model needs positive values) are left out and counted in the
    result. Raises :class:`InputDataError` when fewer than two customers remain.
    """
    if not (math.isfinite(penalizer) and penalizer >= 0):
        raise UsageError(f"--penalizer {penalizer}: give a number >= 0 (e.g. 0.001)")
    x, m = _arr(frequency, "frequency"), _arr(monetary_value, "monetary_value")
    w = np.ones_like(x) if weights is None else _arr(weights, "weights")
    if not len(x) == len(m) == len(w):
        raise InputDataError("frequency, monetary_value (and weights) must have the same length")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(m)) and np.all(np.isfinite(w))):
        raise InputDataError("frequency, monetary_value and weights must be finite numbers")
    one_time = float(w[x <= 0].sum())
    nonpositive = float(w[(x > 0) & (m <= 0)].sum())
    keep = (x > 0) & (m > 0) & (w > 0)
    x, m, w = x[keep], m[keep], w[keep]
    n = float(w.sum())
    if n < 2:
        raise InputDataError(
            f"Gamma-Gamma needs repeat buyers with positive spend; found {n:,.0f} "
            f"({nonpositive:,.0f} repeat buyers with zero or negative spend left out)"
        )
    scale = _dot(w, m) / n  # spend in units of the mean spend
    fun = _gg_objective(_GgData(x, m / scale, w), penalizer)
    sub = _subsample(w)
    warm = None
    if sub is not None:
        s = sub > 0
        warm = _gg_objective(_GgData(x[s], m[s] / scale, sub[s]), penalizer)
    starts = [np.log([1.0, 2.0, 1.0]), np.log([5.0, 3.0, 0.4])]
    opt = _minimize(fun, starts, warm)
    p, q, g_s = (float(v) for v in np.exp(opt.theta))
    params = GammaGammaParams(p, q, g_s * scale)
    at_bound = _at_bound(opt.theta, GG_NAMES)
    diag = FitDiagnostics(
        customers=n,
        rows=len(x),
        converged=opt.converged and not at_bound,
        message=_fit_message(opt, at_bound),
        iterations=opt.iterations,
        penalizer=penalizer,
        max_gradient=opt.max_gradient,
        std_errors=_std_errors(opt, params.as_dict().values(), GG_NAMES, n, at_bound),
        at_bound=at_bound,
    )
    ll = _dot(w, gamma_gamma_log_likelihood(params, x, m))
    return GammaGammaFit(params, ll, diag, one_time, nonpositive)


def gamma_gamma_expected_value(
    params: GammaGammaParams, frequency: ArrayLike, monetary_value: ArrayLike
) -> FloatArray:
    """E[mean spend | x, m] = p (gamma + x m) / (p x + q - 1) for repeat buyers (a weighted
    average of the population mean and the customer's own mean), the population mean
    p gamma / (q - 1) for one-time buyers; NaN where undefined (q <= 1 for one-time
    buyers). Spend below 0 counts as 0."""
    x, m = _arr(frequency, "frequency"), _arr(monetary_value, "monetary_value")
    p, q, g = params.p, params.q, params.gamma
    den = p * x + q - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        value = p * (g + x * np.maximum(m, 0)) / den
    return np.asarray(np.where(den > 0, value, np.nan), dtype=np.float64)


# ------------------------------------------------------------------------- horizons


@dataclass(frozen=True)
class Horizon:
    text: str
    days: float

    @property
    def months(self) -> float:
        return self.days / DAYS_PER_MONTH


_HORIZON_RE = re.compile(
    r"\s*(\d+(?:\.\d+)?)\s*(d|days?|w|weeks?|m|months?|y|years?)\s*", re.IGNORECASE
)


def parse_horizon(text: str) -> Horizon:
    """``90d``, ``12w``, ``12m``, ``1y`` (a month is 365.25/12 = 30.4375 days, a year 365.25)."""
    match = _HORIZON_RE.fullmatch(str(text))
    if not match or float(match.group(1)) <= 0:
        raise UsageError(
            f"--horizon {text!r}: give a positive number and a unit: 90d, 12w, 12m or 1y"
        )
    unit = match.group(2)[0].lower()
    return Horizon(str(text).strip(), float(match.group(1)) * HORIZON_DAYS[unit])


# ---------------------------------------------------------------------- model files


@dataclass
class ClvModel:
    """A fitted model as saved by ``--save-model`` and read by ``--model``."""

    unit: str
    bgnbd: BgNbdParams
    gamma_gamma: GammaGammaParams | None
    info: dict[str, Any] = field(default_factory=dict)  # how and on what it was fitted

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": MODEL_KIND,
            "format_version": MODEL_VERSION,
            "unit": self.unit,
            "bgnbd": self.bgnbd.as_dict(),
            "gamma_gamma": self.gamma_gamma.as_dict() if self.gamma_gamma else None,
            "fitted": self.info,
        }


def save_model(model: ClvModel, path: str | Path) -> None:
    """Write ``model`` as plain JSON, atomically."""
    from clientela.fsutil import atomic_path

    text = json.dumps(model.to_json(), indent=2, default=str, allow_nan=False) + "\n"
    try:
        with atomic_path(path) as tmp:
            tmp.write_text(text, encoding="utf-8")
    except OSError as e:
        raise UsageError(f"--save-model {path}: cannot write ({e.strerror or e})") from None


def _params_from(doc: Any, names: Sequence[str], section: str, path: str) -> list[float]:
    if not isinstance(doc, dict):
        raise UsageError(f"--model {path}: '{section}' must be an object with {', '.join(names)}")
    missing = [n for n in names if n not in doc]
    if missing:
        raise UsageError(f"--model {path}: '{section}' lacks {', '.join(missing)}")
    values = []
    for n in names:
        v = doc[n]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
            raise UsageError(
                f"--model {path}: {section}.{n} = {v!r}; every parameter must be a finite "
                "number > 0 (refit with --save-model)"
            )
        values.append(float(v))
    return values


def load_model(path: str | Path) -> ClvModel:
    """Read and check a model file; every problem is a :class:`UsageError` naming it."""
    p = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"--model {p}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"--model {p}: cannot read it ({e})") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise UsageError(f"--model {p}: not valid JSON ({e.msg}, line {e.lineno})") from None
    if not isinstance(doc, dict) or doc.get("kind") != MODEL_KIND:
        raise UsageError(
            f"--model {p}: not a clientela CLV model (a file written by clientela clv "
            f'--save-model has "kind": "{MODEL_KIND}")'
        )
    if doc.get("format_version") != MODEL_VERSION:
        raise UsageError(
            f"--model {p}: format_version {doc.get('format_version')!r} is not supported "
            f"(this clientela reads {MODEL_VERSION}); refit with --save-model"
        )
    missing = [k for k in ("unit", "bgnbd", "gamma_gamma") if k not in doc]
    if missing:
        raise UsageError(f"--model {p}: missing {', '.join(missing)}")
    if doc["unit"] not in UNIT_DAYS:
        raise UsageError(f"--model {p}: unit {doc['unit']!r}; expected days or weeks")
    bg = BgNbdParams(*_params_from(doc["bgnbd"], BGNBD_NAMES, "bgnbd", p))
    gg_doc = doc["gamma_gamma"]
    gg = GammaGammaParams(*_params_from(gg_doc, GG_NAMES, "gamma_gamma", p)) if gg_doc else None
    fitted = doc.get("fitted")
    return ClvModel(doc["unit"], bg, gg, fitted if isinstance(fitted, dict) else {})


# ------------------------------------------------------------------ the DuckDB layer


@dataclass
class ClvParams:
    """The parameters of ``clientela clv`` (same names and defaults)."""

    horizon: str = "12m"
    discount_rate: float = 0.01  # per month
    alive_threshold: float = 0.5
    churn_days: int = 180  # one-time buyers: churned when the only purchase is older
    unit: str | None = None  # days | weeks; None: weeks, or the model file's unit
    penalizer: float = 0.0
    calibration_end: str | dt.date | None = None
    model: str | None = None  # a model file to score with instead of fitting
    save_model: str | None = None

    def validate(self) -> None:
        parse_horizon(self.horizon)
        if not (math.isfinite(self.discount_rate) and 0 <= self.discount_rate < 1):
            raise UsageError(
                f"--discount-rate {self.discount_rate}: give the monthly rate as a fraction "
                "from 0 to below 1 (0.01 = 1% a month)"
            )
        if not (math.isfinite(self.alive_threshold) and 0 <= self.alive_threshold <= 1):
            raise UsageError(f"--alive-threshold {self.alive_threshold}: give a number 0..1")
        if self.churn_days < 0:
            raise UsageError(f"--churn-days {self.churn_days}: give 0 or more days")
        if self.unit is not None and self.unit not in UNIT_DAYS:
            raise UsageError(f"--unit {self.unit!r}: use days or weeks")
        if not (math.isfinite(self.penalizer) and self.penalizer >= 0):
            raise UsageError(f"--penalizer {self.penalizer}: give a number >= 0 (e.g. 0.001)")
        if self.model is not None and self.penalizer:
            raise UsageError("--penalizer applies to fitting; it has no effect with --model")
        if self.calibration_end is not None:
            from clientela.load import parse_as_of

            try:
                parse_as_of(self.calibration_end, "UTC")
            except UsageError:
                raise UsageError(
                    f"--calibration-end {self.calibration_end!r}: give a date YYYY-MM-DD"
                ) from None


@dataclass
class ClvResult:
    con: duckdb.DuckDBPyConnection
    as_of: dt.date
    calibration_end: dt.date | None
    unit: str
    horizon: Horizon
    params: ClvParams
    model: ClvModel
    model_source: str  # "fitted" | the model file
    bgnbd_fit: BgNbdFit | None
    gamma_gamma_fit: GammaGammaFit | None
    stats: dict[str, Any]
    churned: dict[str, int]
    holdout: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def customers(self) -> int:
        return int(self.stats["customers"])

    def metadata(self) -> dict[str, Any]:
        """What the output's metadata holds (Parquet key-value, xlsx sheet, --meta JSON)."""
        unit_days = UNIT_DAYS[self.unit]
        bg: dict[str, Any] = (
            self.bgnbd_fit.as_dict() if self.bgnbd_fit else dict(self.model.bgnbd.as_dict())
        )
        gg: dict[str, Any] | None
        if self.gamma_gamma_fit:
            gg = self.gamma_gamma_fit.as_dict()
        elif self.model.gamma_gamma:
            gg = {
                **self.model.gamma_gamma.as_dict(),
                "population_mean_spend": self.model.gamma_gamma.mean_spend,
            }
        else:
            gg = None
        return {
            "clientela_analysis": "clv",
            "as_of": self.as_of.isoformat(),
            "calibration_end": self.calibration_end.isoformat() if self.calibration_end else None,
            "unit": self.unit,
            "horizon": {
                "text": self.horizon.text,
                "days": self.horizon.days,
                "units": self.horizon.days / unit_days,
                "months": self.horizon.months,
                "days_per_month": DAYS_PER_MONTH,
            },
            "discount_rate_monthly": self.params.discount_rate,
            "alive_threshold": self.params.alive_threshold,
            "churn_days_one_time_buyers": self.params.churn_days,
            "model_source": self.model_source,
            "bgnbd": bg,
            "gamma_gamma": gg,
            "customers": self.customers,
            "one_time_buyers": int(self.stats["one_time_buyers"]),
            "repeat_buyers": int(self.stats["repeat_buyers"]),
            "repeat_buyers_nonpositive_spend": int(self.stats["nonpositive_spend"]),
            "mean_spend_repeat_buyers": self.stats["mean_spend"],
            "frequency_spend_correlation": self.stats["frequency_spend_corr"],
            "churned": self.churned,
            "holdout": self.holdout,
            "warnings": self.warnings,
            "notes": self.notes,
        }


def _stats(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    cur = con.execute(read_sql("clv_stats"))
    row = cur.fetchone()
    assert row is not None and cur.description is not None
    return {d[0]: v for d, v in zip(cur.description, row, strict=True)}


def _fetch(con: duckdb.DuckDBPyConnection, sql: str) -> dict[str, FloatArray]:
    got = con.execute(sql).fetchnumpy()
    return {k: np.asarray(v, dtype=np.float64) for k, v in got.items()}


def _resolve_unit(params: ClvParams, model: ClvModel | None) -> str:
    if model is None:
        return params.unit or "weeks"
    if params.unit is not None and params.unit != model.unit:
        raise UsageError(
            f"--unit {params.unit}: the model file was fitted in {model.unit}; leave --unit "
            "out (the model's unit is used)"
        )
    return model.unit


def _fit_warnings(fit: BgNbdFit | GammaGammaFit, name: str) -> list[str]:
    d = fit.diagnostics
    if d.converged:
        return []
    return [
        f"the {name} fit did not converge ({d.message}); the results may be unreliable: try "
        "--penalizer 0.001 (or larger) to keep the parameters in range, more history (an "
        "earlier start or a later --as-of), or check the data with clientela rfm --model btyd"
    ]


def compute_clv(loaded: Loaded, params: ClvParams | None = None) -> ClvResult:
    """Build the BTYD summary, fit (or load) the models and create ``clv`` in the loaded
    connection (one row per customer; with a calibration end also the holdout
    validation). See the module docstring and docs/clv.md."""
    from clientela.rfm import compute_btyd

    p = params or ClvParams()
    p.validate()
    file_model = load_model(p.model) if p.model else None
    unit = _resolve_unit(p, file_model)
    btyd = compute_btyd(loaded, unit, p.calibration_end)
    return score_summary(btyd, p, file_model, has_amount="amount" in loaded.report.mapping)


def score_summary(
    btyd: BtydResult,
    params: ClvParams,
    file_model: ClvModel | None = None,
    *,
    has_amount: bool = True,
) -> ClvResult:
    """The modelling step of :func:`compute_clv` on a ``btyd`` table already in
    ``btyd.con`` (e.g. a summary read from a file): fit or use ``file_model``, score, and
    create ``clv``."""
    import pyarrow as pa

    from clientela.load import settle

    p = params
    horizon = parse_horizon(p.horizon)
    unit = btyd.unit
    unit_days = UNIT_DAYS[unit]
    con = btyd.con
    stats = _stats(con)
    corr = stats["frequency_spend_corr"]
    if corr is not None and not math.isfinite(corr):
        stats["frequency_spend_corr"] = None  # (no spread in frequency or spend)
    warnings: list[str] = []
    notes: list[str] = []

    bg_fit: BgNbdFit | None = None
    gg_fit: GammaGammaFit | None = None
    rows = _fetch(con, read_sql("clv_fit_rows"))  # the distinct rows: fitted and scored
    if file_model is None:
        bg_fit = fit_bgnbd(
            rows["frequency"], rows["recency"], rows["T"], rows["weight"], penalizer=p.penalizer
        )
        warnings += _fit_warnings(bg_fit, "BG/NBD")
        if stats["customers"] < 100 or stats["repeat_buyers"] < 30:
            warnings.append(
                f"only {stats['customers']:,} customers ({stats['repeat_buyers']:,} repeat "
                "buyers): the estimates are unreliable (standard errors in --meta); fit on "
                "more customers, or score with --model FILE fitted on more data"
            )
        spend = _fetch(con, read_sql("clv_spend_rows"))
        if len(spend["frequency"]) and float(spend["weight"].sum()) >= 2:
            gg_fit = fit_gamma_gamma(
                spend["frequency"], spend["monetary_value"], spend["weight"], penalizer=p.penalizer
            )
            gg_fit.excluded_one_time = float(stats["one_time_buyers"])
            gg_fit.excluded_nonpositive = float(stats["nonpositive_spend"])
            warnings += _fit_warnings(gg_fit, "Gamma-Gamma")
        else:
            why = "" if has_amount else " (the input has no amount column)"
            warnings.append(
                f"Gamma-Gamma not fitted: fewer than 2 repeat buyers with positive spend{why}; "
                "expected_avg_value and clv are empty"
            )
        model = ClvModel(
            unit,
            bg_fit.params,
            gg_fit.params if gg_fit else None,
            {
                "as_of": btyd.as_of.isoformat(),
                "calibration_end": btyd.calibration_end.isoformat()
                if btyd.calibration_end
                else None,
                "customers": int(stats["customers"]),
                "bgnbd_log_likelihood": bg_fit.log_likelihood,
                "gamma_gamma_log_likelihood": gg_fit.log_likelihood if gg_fit else None,
                "penalizer": p.penalizer,
                "clientela_version": _version(),
            },
        )
        source = "fitted"
    else:
        model = file_model
        source = str(p.model)
        if model.gamma_gamma is None:
            warnings.append(
                "the model file has no Gamma-Gamma part; expected_avg_value and clv are empty"
            )
    if stats["nonpositive_spend"]:
        warnings.append(
            f"{stats['nonpositive_spend']:,} repeat buyers whose repeat purchases sum to 0 "
            "are left out of the Gamma-Gamma fit (it needs positive spend); their "
            "expected_avg_value is computed with spend 0"
        )
    corr = stats["frequency_spend_corr"]
    if corr is not None and math.isfinite(corr) and abs(corr) >= CORRELATION_WARN:
        warnings.append(
            f"frequency and spend are correlated among repeat buyers (r = {corr:.2f}); "
            "Gamma-Gamma assumes they are independent, so expected_avg_value and clv may be "
            "biased (compare segments, or use the expected purchases alone)"
        )
    gg = model.gamma_gamma
    if gg is not None and gg.mean_spend is None:
        warnings.append(
            f"Gamma-Gamma q = {gg.q:.3g} <= 1: the population mean spend is not finite, so "
            "one-time buyers get no expected_avg_value or clv"
        )
    if stats["one_time_buyers"]:
        notes.append(
            f"{stats['one_time_buyers']:,} one-time buyers have p_alive = 1 by BG/NBD's "
            "assumptions (a customer can only drop out after a repeat purchase); their churn "
            f"flag uses recency instead: only purchase more than {p.churn_days} days before "
            f"{btyd.calibration_end or btyd.as_of} (--churn-days)"
        )

    # score the distinct (frequency, recency, T) rows; the join back happens in DuckDB
    x, t_x, tt = rows["frequency"], rows["recency"], rows["T"]
    h_units = horizon.days / unit_days
    expected, discounted = discounted_purchases(
        model.bgnbd, h_units, DAYS_PER_MONTH / unit_days, p.discount_rate, x, t_x, tt
    )
    columns: dict[str, Any] = {
        "frequency": x.astype(np.int64),  # the type of btyd.frequency: a plain join
        "recency": t_x,
        "T": tt,
        "p_alive": bgnbd_p_alive(model.bgnbd, x, t_x, tt),
        "expected_purchases": expected,
        "discounted_purchases": discounted,
    }
    holdout_units = None
    if btyd.calibration_end is not None:
        holdout_units = (btyd.as_of - btyd.calibration_end).days / unit_days
        columns["expected_holdout_purchases"] = bgnbd_expected_purchases(
            model.bgnbd, holdout_units, x, t_x, tt
        )
    holdout_cols = (
        ", frequency_holdout, expected_holdout_purchases" if holdout_units is not None else ""
    )
    con.register("_clv_scores", pa.table(columns))
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE clv AS SELECT customer_id, frequency, recency, T, "
            "monetary_value, p_alive, expected_purchases, round(expected_avg_value, 2) AS "
            "expected_avg_value, round(clv, 2) AS clv, churn, churn_rule"
            f"{holdout_cols} FROM ({read_sql('clv_customers')}) ORDER BY customer_id",
            {
                "p": gg.p if gg else None,
                "q": gg.q if gg else None,
                "gamma": gg.gamma if gg else None,
                "alive_threshold": p.alive_threshold,
                "churn_days": p.churn_days,
                "unit_days": unit_days,
            },
        )
    finally:
        con.unregister("_clv_scores")
    churn_row = con.execute(
        "SELECT count(*) FILTER (WHERE churn AND frequency > 0), "
        "count(*) FILTER (WHERE churn AND frequency = 0) FROM clv"
    ).fetchone()
    assert churn_row is not None
    churned = {"by_p_alive": int(churn_row[0]), "by_recency": int(churn_row[1])}
    holdout = _holdout(con, holdout_units) if holdout_units is not None else None
    settle(con)
    result = ClvResult(
        con=con,
        as_of=btyd.as_of,
        calibration_end=btyd.calibration_end,
        unit=unit,
        horizon=horizon,
        params=p,
        model=model,
        model_source=source,
        bgnbd_fit=bg_fit,
        gamma_gamma_fit=gg_fit,
        stats=stats,
        churned=churned,
        holdout=holdout,
        warnings=warnings,
        notes=notes,
    )
    if p.save_model:
        save_model(model, p.save_model)
    return result


def _holdout(con: duckdb.DuckDBPyConnection, units: float) -> dict[str, Any]:
    row = con.execute(
        "SELECT count(*), sum(frequency_holdout), sum(expected_holdout_purchases), "
        "avg(abs(frequency_holdout - expected_holdout_purchases)), "
        "sqrt(avg((frequency_holdout - expected_holdout_purchases) ^ 2)) FROM clv"
    ).fetchone()
    assert row is not None
    table = con.execute(read_sql("clv_holdout")).fetchall()
    return {
        "duration": units,
        "customers": int(row[0]),
        "actual_total": float(row[1]),
        "predicted_total": float(row[2]),
        "mae": float(row[3]),
        "rmse": float(row[4]),
        "by_calibration_purchases": [
            {
                "calibration_purchases": k,
                "customers": int(n),
                "actual": float(a),
                "predicted": float(pr),
                "actual_mean": float(am),
                "predicted_mean": float(pm),
            }
            for k, n, a, pr, am, pm in table
        ],
    }


def _version() -> str:
    from clientela import __version__

    return __version__


def score_p_alive(loaded: Loaded, *, model_path: str | None = None) -> dict[str, Any]:
    """P(alive) per customer for ``clientela churn --method model``.

    Builds the BTYD summary at ``loaded.as_of`` (weeks, or the model file's unit), fits
    BG/NBD (or reads ``model_path``), creates ``clv_p_alive(customer_id VARCHAR, p_alive
    DOUBLE)`` in ``loaded.con`` and returns the metadata: model, parameters,
    log-likelihood (None for a model file), customers, unit, converged, warnings.
    """
    import pyarrow as pa

    from clientela.load import settle
    from clientela.rfm import compute_btyd

    model = load_model(model_path) if model_path else None
    unit = model.unit if model else "weeks"
    con = loaded.con
    compute_btyd(loaded, unit)
    warnings: list[str] = []
    ll: float | None = None
    converged: bool | None = None
    rows = _fetch(con, read_sql("clv_fit_rows"))
    if model is None:
        fit = fit_bgnbd(rows["frequency"], rows["recency"], rows["T"], rows["weight"])
        params, ll, converged = fit.params, fit.log_likelihood, fit.diagnostics.converged
        warnings += _fit_warnings(fit, "BG/NBD")
    else:
        params = model.bgnbd
    keys = {k: rows[k] for k in ("frequency", "recency", "T")}
    alive = bgnbd_p_alive(params, keys["frequency"], keys["recency"], keys["T"])
    keys["frequency"] = keys["frequency"].astype(np.int64)  # the type of btyd.frequency
    con.register("_clv_alive_arrow", pa.table({**keys, "p_alive": alive}))
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE clv_p_alive AS SELECT CAST(b.customer_id AS VARCHAR) "
            "AS customer_id, CAST(a.p_alive AS DOUBLE) AS p_alive FROM btyd b JOIN "
            "_clv_alive_arrow a USING (frequency, recency, T) ORDER BY b.customer_id"
        )
    finally:
        con.unregister("_clv_alive_arrow")
    row = con.execute("SELECT count(*) FROM clv_p_alive").fetchone()
    settle(con)
    return {
        "model": "bgnbd",
        "source": model_path or "fitted",
        "parameters": params.as_dict(),
        "log_likelihood": ll,
        "converged": converged,
        "customers": int(row[0]) if row else 0,
        "unit": unit,
        "as_of": loaded.as_of.isoformat() if loaded.as_of else None,
        "warnings": warnings,
    }


# ----------------------------------------------------------------------------- Python API


def clv(
    inputs: Sequence[str] | str,
    options: LoadOptions | None = None,
    *,
    horizon: str = "12m",
    discount_rate: float = 0.01,
    alive_threshold: float = 0.5,
    churn_days: int = 180,
    unit: str | None = None,
    penalizer: float = 0.0,
    calibration_end: str | dt.date | None = None,
    model: str | None = None,
    save_model: str | None = None,
) -> pl.DataFrame:
    """p_alive, expected purchases, expected average value, CLV and churn per customer as a
    Polars DataFrame: the same parameters and defaults as ``clientela clv``. For the fit
    details use :func:`clientela.load` and :func:`compute_clv` (which keeps the table in
    DuckDB and returns the metadata)."""
    from dataclasses import replace

    from clientela.load import LoadOptions as _LoadOptions
    from clientela.load import load

    params = ClvParams(
        horizon, discount_rate, alive_threshold, churn_days, unit, penalizer, calibration_end,
        model, save_model,
    )  # fmt: skip
    params.validate()
    loaded = load(inputs, replace(options or _LoadOptions(), dimensions=[]))
    try:
        compute_clv(loaded, params)
        frame: pl.DataFrame = loaded.con.sql("SELECT * FROM clv").pl()
        return frame
    finally:
        loaded.con.close()


make_module_callable(__name__, clv)  # clientela.clv(...) is the function
