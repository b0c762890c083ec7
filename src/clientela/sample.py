"""Seeded, vectorised generator of realistic shop/CRM exports (``clientela sample``).

Contract:
- :func:`generate` returns :class:`SampleData`: ``orders`` (one row per order LINE) and
  ``customers`` (the CRM file), both :class:`pyarrow.Table`. The number of distinct
  ``order_id`` values is exactly the ``orders`` argument; sales orders (status ``paid`` or
  ``cancelled``) and return orders (``"R" + original id``, status ``returned``) all count.
- Shape: customers are acquired with growth, Nov/Dec seasonality, a Black-Friday spike and a
  weekly pattern; each buys as in BG/NBD (Gamma-distributed purchase rates, geometric dropout
  after every purchase = silent churn), so most buy once and a few buy many times. Orders have
  1-6 lines; about 2% of rows are returns (negative quantity and amount, a later date, same
  customer and product as an earlier paid line), about 1% of sales orders are cancelled, about
  0.2% of rows are exact duplicates. Customers with a signup date but no order are prospects
  (``prospects_share`` x the number of buying customers).
- ``orders`` columns: order_id, customer_id (text, leading zeros), order_ts (timestamp[us],
  whole seconds, within ``[start, end]``), status, channel, state (Brazilian UF), category,
  product, quantity (int32), unit_price, amount (float64; amount = quantity x unit_price,
  exact in cents), sorted by order_ts then order_id. ``customers`` columns: customer_id,
  email, signup_date (date32, on or before the first order), state, marketing_consent (bool),
  segment_crm, sorted by customer_id. Text columns with repeated values (every one of
  ``orders``; state and segment_crm) are dictionary-encoded; the files hold plain text.
- Deterministic: the same arguments give identical tables, and :func:`write` byte-identical
  files. No Python loop per row or customer: numpy draws, pyarrow/DuckDB writers.
- :func:`write` writes ``orders.<ext>`` and ``customers.<ext>`` atomically
  (:func:`clientela.fsutil.atomic_path`): csv (``en``: comma, UTF-8, ISO timestamps, dot
  decimals; ``pt-BR``: ``;``, Windows-1252, Portuguese headers and values, ``dd/mm/aaaa``
  dates, ``1.234,56`` numbers), parquet (typed) or ndjson (UTF-8, one object a line). The
  locale only changes CSV: typed formats are locale-neutral and ignore it.
- Bad parameters raise :class:`clientela.errors.UsageError` naming the CLI option.
- A library module: it never prints. It imports numpy and pyarrow, so import it lazily.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from clientela.errors import OutputError, UsageError
from clientela.fsutil import atomic_path

__all__ = ["FORMATS", "LOCALES", "SampleData", "generate", "write"]

FORMATS: Final[tuple[str, ...]] = ("csv", "parquet", "ndjson")  # also the file extensions
LOCALES: Final[tuple[str, ...]] = ("en", "pt-BR")

IntArray = npt.NDArray[np.integer[Any]]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_DAY: Final = 86_400  # seconds

# fmt: off
# --- behaviour (BG/NBD-like) -----------------------------------------------------------------
_RATE_SHAPE: Final = 0.3          # Gamma shape r of the purchase rate (heterogeneity, heavy tail)
_RATE_SCALE_DAYS: Final = 1 / 40  # Gamma scale 1/alpha, alpha in days
_RATE_MAX: Final = 0.5            # purchases per day: a cap against absurd rates
_DROPOUT_A: Final = 0.9           # Beta(a, b): probability of dropping out after each purchase
_DROPOUT_B: Final = 2.5
_GROWTH_PER_YEAR: Final = 0.35    # log growth of customer acquisition
_B2B_SHARE: Final = 0.06
_B2B_RATE_FACTOR: Final = 2.5
_B2B_DROPOUT_FACTOR: Final = 0.6
_FIRST_BATCH_ORDERS_PER_CUSTOMER: Final = 2.0  # initial guess; later batches use the average

# --- order contents and events ---------------------------------------------------------------
_LINES_P: Final = (0.64, 0.2, 0.085, 0.045, 0.02, 0.01)  # 1..6 lines per order
_QTY_P: Final = (0.83, 0.11, 0.04, 0.015, 0.005)         # 1..5 units per line (b2c)
_B2B_QTY_MEAN: Final = 4.0          # b2b: 1 + Poisson units
_B2B_QTY_MAX: Final = 60
_DISCOUNT_P: Final = 0.12           # share of discounted lines (0.6 in Black-Friday week)
_DISCOUNT_PROMO_P: Final = 0.6
_DISCOUNTS: Final = ((0.9, 0.4), (0.85, 0.25), (0.8, 0.25), (0.7, 0.1))  # factor, weight
_CANCEL_RATE: Final = 0.01          # share of sales orders cancelled
_RETURN_ORDER_RATE: Final = 0.028   # return orders per order: about 2% of rows are returns
_RETURN_ALL_LINES: Final = 0.35     # a return takes back the whole order (else one line)
_RETURN_PARTIAL_QTY: Final = 0.3    # a returned line with several units returns only some
_RETURN_DELAY_P: Final = 0.1        # geometric delay in days (mean 10)
_DUPLICATE_RATE: Final = 0.002      # exact duplicate rows
_PREFERRED_CHANNEL: Final = 0.7     # share of a customer's orders on their usual channel
_SIGNUP_SAME_DAY: Final = 0.45      # buyers who signed up on the day of their first order
_SIGNUP_LAG_P: Final = 1 / 45       # otherwise a geometric lag (days) before the first order
_CONSENT_P: Final = (0.55, 0.7, 0.65)  # marketing consent: b2c, b2b, prospects

_STATUSES: Final = ("paid", "cancelled", "returned")
_PAID, _CANCELLED, _RETURNED = 0, 1, 2
_CHANNELS: Final = ("web", "app", "store", "marketplace")
_CHANNEL_P: Final = (0.45, 0.25, 0.18, 0.12)
_SEGMENTS: Final = ("b2c", "b2b")

# Brazilian states (UF), weights ~ population share (%)
_STATES: Final = (
    ("SP", 21.9), ("MG", 9.9), ("RJ", 7.9), ("BA", 6.9), ("PR", 5.6), ("RS", 5.3),
    ("PE", 4.5), ("CE", 4.3), ("PA", 4.0), ("SC", 3.7), ("GO", 3.5), ("MA", 3.3),
    ("AM", 1.9), ("ES", 1.9), ("PB", 1.9), ("MT", 1.8), ("RN", 1.6), ("PI", 1.6),
    ("AL", 1.5), ("DF", 1.4), ("MS", 1.4), ("SE", 1.1), ("RO", 0.8), ("TO", 0.7),
    ("AC", 0.4), ("AP", 0.4), ("RR", 0.3),
)

# category (en, pt-BR), share of lines, median price (BRL), products (en, pt-BR)
_CATEGORIES: Final = (
    ("Electronics", "Eletrônicos", 0.13, 320.0,
     (("Headphones", "Fone de Ouvido"), ("Smartwatch", "Relógio Inteligente"),
      ("Bluetooth Speaker", "Caixa de Som Bluetooth"),
      ("Phone Charger", "Carregador de Celular"), ("Tablet", "Tablet"))),
    ("Footwear", "Calçados", 0.12, 210.0,
     (("Sneakers", "Tênis"), ("Sandals", "Sandália"), ("Boots", "Bota"),
      ("Loafers", "Mocassim"))),
    ("Apparel", "Vestuário", 0.18, 110.0,
     (("T-Shirt", "Camiseta"), ("Jeans", "Calça Jeans"), ("Dress", "Vestido"),
      ("Jacket", "Jaqueta"), ("Shorts", "Bermuda"))),
    ("Accessories", "Acessórios", 0.10, 75.0,
     (("Backpack", "Mochila"), ("Wallet", "Carteira"), ("Sunglasses", "Óculos de Sol"),
      ("Belt", "Cinto"), ("Cap", "Boné"))),
    ("Home & Decor", "Casa e Decoração", 0.11, 140.0,
     (("Cushion", "Almofada"), ("Table Lamp", "Luminária"), ("Bath Towel", "Toalha de Banho"),
      ("Bed Sheet Set", "Jogo de Lençol"), ("Vase", "Vaso"))),
    ("Beauty", "Beleza", 0.10, 55.0,
     (("Perfume", "Perfume"), ("Moisturizer", "Hidratante"), ("Shampoo", "Xampu"),
      ("Lipstick", "Batom"))),
    ("Sports", "Esportes", 0.07, 160.0,
     (("Yoga Mat", "Tapete de Yoga"), ("Dumbbell", "Halter"),
      ("Football", "Bola de Futebol"), ("Water Bottle", "Garrafa Térmica"))),
    ("Books", "Livros", 0.06, 48.0,
     (("Novel", "Romance"), ("Cookbook", "Livro de Receitas"), ("Comic Book", "Quadrinhos"),
      ("Children's Book", "Livro Infantil"))),
    ("Toys", "Brinquedos", 0.06, 85.0,
     (("Puzzle", "Quebra-Cabeça"), ("Building Blocks", "Blocos de Montar"),
      ("Doll", "Boneca"), ("Board Game", "Jogo de Tabuleiro"))),
    ("Grocery", "Mercearia", 0.07, 28.0,
     (("Coffee", "Café"), ("Olive Oil", "Azeite"), ("Chocolate", "Chocolate"),
      ("Tea", "Chá"))),
)
_MODEL_TIERS: Final = (0.7, 0.85, 1.0, 1.3, 1.8)  # price factor of a product's models A..E
_CATALOG_SEED: Final = 20_231_124  # the shop's catalogue is the same for every seed

# seasonality: month factors (Jan..Dec), weekday factors (Mon..Sun), hour-of-day weights
_MONTH_FACTOR: Final = (0.85, 0.8, 0.9, 0.9, 1.05, 0.95, 0.9, 0.95, 0.95, 1.0, 1.25, 1.45)
_WEEKDAY_FACTOR: Final = (1.12, 1.06, 1.02, 1.0, 0.95, 0.9, 0.95)
_HOUR_WEIGHT: Final = (
    0.6, 0.35, 0.2, 0.15, 0.12, 0.15, 0.3, 0.6, 1.0, 1.4, 1.6, 1.7,
    1.8, 1.7, 1.6, 1.6, 1.6, 1.7, 1.9, 2.2, 2.4, 2.3, 1.8, 1.1,
)
# Black-Friday week, days from Black Friday: demand factor (all are promotion days)
_BLACK_FRIDAY: Final = (
    (-4, 1.5), (-3, 1.5), (-2, 1.6), (-1, 1.8), (0, 4.0), (1, 2.0), (2, 1.8), (3, 2.6),
)

# --- presentation ----------------------------------------------------------------------------
_ORDER_COLUMNS_PT: Final = {
    "order_id": "pedido", "customer_id": "cliente", "order_ts": "data_pedido",
    "status": "situacao", "channel": "canal", "state": "uf", "category": "categoria",
    "product": "produto", "quantity": "quantidade", "unit_price": "preco_unitario",
    "amount": "valor_total",
}
_CUSTOMER_COLUMNS_PT: Final = {
    "customer_id": "cliente", "email": "email", "signup_date": "data_cadastro", "state": "uf",
    "marketing_consent": "aceita_marketing", "segment_crm": "segmento",
}
_VALUES_PT: Final = {
    "status": {"paid": "pago", "cancelled": "cancelado", "returned": "devolvido"},
    "channel": {"web": "site", "app": "app", "store": "loja", "marketplace": "marketplace"},
    "segment_crm": {"b2c": "pessoa física", "b2b": "pessoa jurídica"},
    "category": {c[0]: c[1] for c in _CATEGORIES},
}
_MONEY_COLUMNS: Final = ("unit_price", "amount")
_CSV_CHUNK_ROWS: Final = 1 << 19
# fmt: on


@dataclass(frozen=True)
class SampleData:
    """A generated export: ``orders`` (one row per order line) and ``customers`` (CRM)."""

    orders: pa.Table
    customers: pa.Table


@dataclass(frozen=True)
class _Calendar:
    n_days: int
    epoch_day: int  # the start date as days since 1970-01-01
    acquisition: _Guide  # cumulative share of new customers up to each day, 0..1
    warp_level: FloatArray  # (n_days + 1,) cumulative seasonal intensity at day starts, 0..n_days
    warp: _Guide  # over warp_level
    promo: BoolArray  # (n_days,) Black-Friday week: more discounts


_GUIDE_CELLS: Final = 1 << 16


@dataclass(frozen=True)
class _Guide:
    """``np.searchsorted(edges, x, side="right")`` for many x in [0, top], exactly and fast:
    a table of 2**16 equal cells knows the answer for cells no edge crosses (most); only x
    in the other cells need the binary search."""

    edges: FloatArray
    top: float
    lo: IntArray  # answer at the start of the cell before, and at the end of the cell after
    hi: IntArray  # (one cell of slack either side covers floating-point rounding)

    @classmethod
    def build(cls, edges: FloatArray, top: float) -> _Guide:
        at = np.searchsorted(edges, np.arange(_GUIDE_CELLS + 1) * (top / _GUIDE_CELLS), "right")
        at = at.astype(np.int32)
        lo = np.concatenate([at[:1], at[:-2]])
        hi = np.concatenate([at[2:], at[-1:]])
        return cls(edges=edges, top=top, lo=lo, hi=hi)

    def find(self, x: FloatArray) -> IntArray:
        cell = np.clip((x * (_GUIDE_CELLS / self.top)).astype(np.int64), 0, _GUIDE_CELLS - 1)
        out = self.lo[cell]
        (unsure,) = np.nonzero(out != self.hi[cell])
        out[unsure] = np.searchsorted(self.edges, x[unsure], side="right")
        return out


@dataclass(frozen=True)
class _Catalog:
    names_en: tuple[str, ...]
    names_pt: tuple[str, ...]
    category: IntArray
    price_cents: IntArray
    weights: tuple[float, ...]  # popularity


@dataclass(frozen=True)
class _Pool:
    """Simulated customers and their sales orders: customer-major, each customer's in time."""

    counts: IntArray  # sales orders per customer
    day: IntArray  # per order
    second: IntArray  # per order, time of day
    cancelled: BoolArray  # per order
    b2b: BoolArray  # per customer


# --------------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------------


def generate(
    orders: int = 5000,
    seed: int = 42,
    start: dt.date = dt.date(2023, 1, 1),
    end: dt.date = dt.date(2025, 12, 31),
    prospects_share: float = 0.15,
) -> SampleData:
    """Generate a shop's ``orders`` orders (distinct order ids) and its CRM customers file.

    Deterministic in all arguments. Raises :class:`UsageError` for bad parameters.
    """
    _check_generate_args(orders, seed, start, end, prospects_share)
    orders = int(orders)
    rng = np.random.default_rng(int(seed))
    cal = _calendar(_as_date(start), _as_date(end))
    pool = _simulate_pool(rng, cal, orders)

    # Returns are orders too. Keep `n_sales` sales orders, a prefix of the pool (whole
    # customers, then the earliest orders of the last one), and `n_returns` returns of
    # eligible ones (paid, before the last day): n_sales + n_returns == orders.
    return_target = round(orders * _RETURN_ORDER_RATE) if cal.n_days > 1 else 0
    eligible = ~pool.cancelled & (pool.day < cal.n_days - 1)
    eligible_upto = np.cumsum(eligible)
    r = np.arange(return_target + 1)
    n_returns = int(r[eligible_upto[orders - r - 1] >= r].max())
    n_sales = orders - n_returns
    first_order = np.cumsum(pool.counts) - pool.counts
    n_buyers = int(np.searchsorted(first_order, n_sales, side="left"))
    customer = np.repeat(np.arange(n_buyers, dtype=np.int32), pool.counts[:n_buyers])[:n_sales]

    # sales orders in time order; order ids follow time
    o_ts = pool.day[:n_sales].astype(np.int64) * _DAY + pool.second[:n_sales]
    by_time = _argsort_small(o_ts, (cal.n_days * _DAY).bit_length())
    o_ts = o_ts[by_time]
    o_customer = customer[by_time]
    o_cancelled = pool.cancelled[:n_sales][by_time]
    returned_pool = rng.choice(np.flatnonzero(eligible[:n_sales]), size=n_returns, replace=False)
    rank = np.empty(n_sales, dtype=np.int64)
    rank[by_time] = np.arange(n_sales)
    returned = np.sort(rank[returned_pool])  # time ranks of the orders that get a return
    del eligible, eligible_upto, customer, by_time, rank, returned_pool

    # customers: buyers (signup on or before the first order), then prospects
    n_prospects = round(prospects_share * n_buyers)
    n_customers = n_buyers + n_prospects
    b2b = np.concatenate([pool.b2b[:n_buyers], rng.random(n_prospects) < _B2B_SHARE])
    state = _draw(rng, [w for _, w in _STATES], n_customers)
    preferred_channel = _draw(rng, _CHANNEL_P, n_buyers)
    lag = np.where(
        rng.random(n_buyers) < _SIGNUP_SAME_DAY, 0, rng.geometric(_SIGNUP_LAG_P, n_buyers)
    )
    first_day = pool.day[first_order[:n_buyers]]
    prospect_day = _draw_days(rng, cal, n_prospects)
    signup = np.concatenate([np.maximum(first_day - lag, 0), prospect_day]).astype(np.int32)
    consent_p = np.where(b2b, _CONSENT_P[1], _CONSENT_P[0])
    consent_p[n_buyers:] = _CONSENT_P[2]
    consent = rng.random(n_customers) < consent_p
    # customer numbers follow signup (random order within a day)
    shuffled = rng.permutation(n_customers)
    by_signup = shuffled[_argsort_small(signup[shuffled], cal.n_days.bit_length())]
    number = np.empty(n_customers, dtype=np.int32)  # 0-based customer number
    number[by_signup] = np.arange(n_customers, dtype=np.int32)
    id_width = max(7, len(str(n_customers)))
    ids = _numbers_text(1, n_customers, id_width)
    emails = _numbers_text(1, n_customers, id_width, b"customer", b"@example.com")
    del pool, first_order, lag, first_day, prospect_day, consent_p, shuffled

    orders_table = _build_orders(
        rng, cal, o_ts, o_customer, o_cancelled, returned,
        b2b, state, preferred_channel, number, ids,
    )  # fmt: skip
    customers_table = pa.table(
        {
            "customer_id": ids,
            "email": emails,
            "signup_date": pa.array(signup[by_signup] + np.int32(cal.epoch_day)).cast(pa.date32()),
            "state": _labels([s for s, _ in _STATES], state[by_signup]),
            "marketing_consent": pa.array(consent[by_signup]),
            "segment_crm": _labels(_SEGMENTS, b2b[by_signup].astype(np.int8)),
        }
    )
    return SampleData(orders=orders_table, customers=customers_table)


def write(data: SampleData, out_dir: Path, fmt: str = "csv", locale: str = "en") -> list[Path]:
    """Write ``orders.<ext>`` and ``customers.<ext>`` into ``out_dir``, each atomically.

    ``fmt``: csv, parquet or ndjson (the extension). ``locale``: ``en``, or ``pt-BR`` for a
    Brazilian CSV (``;``, Windows-1252, Portuguese headers and values); parquet and ndjson
    are typed, locale-neutral, and ignore it. Returns the written paths, orders first.
    """
    fmt_key = fmt.strip().lower() if isinstance(fmt, str) else ""
    if fmt_key not in FORMATS:
        raise UsageError(f"--format: unknown sample format {fmt!r}; use {', '.join(FORMATS)}")
    locale_key = _normalize_locale(locale)
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"--output: cannot create folder {out_dir}: {exc.strerror}") from exc

    written: list[Path] = []
    for kind, table in (("orders", data.orders), ("customers", data.customers)):
        target = out_dir / f"{kind}.{fmt_key}"
        with atomic_path(target) as tmp:
            if fmt_key == "parquet":
                _write_parquet(table, tmp)
            elif fmt_key == "ndjson":
                _write_ndjson(table, tmp)
            else:
                _write_csv(table, tmp, kind, locale_key)
        written.append(target)
    return written


# --------------------------------------------------------------------------------------------
# parameters
# --------------------------------------------------------------------------------------------


def _as_date(value: dt.date) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _check_generate_args(
    orders: int, seed: int, start: dt.date, end: dt.date, prospects_share: float
) -> None:
    if not _is_int(orders) or orders < 1:
        raise UsageError(f"--orders must be a whole number, at least 1 (got {orders!r})")
    if not _is_int(seed) or seed < 0:
        raise UsageError(f"--seed must be a whole number, at least 0 (got {seed!r})")
    for option, value in (("--start", start), ("--end", end)):
        if not isinstance(value, dt.date):
            raise UsageError(f"{option} must be a date (got {value!r})")
    if _as_date(end) < _as_date(start):
        raise UsageError(f"--end {end.isoformat()} is before --start {start.isoformat()}")
    if (
        isinstance(prospects_share, bool)
        or not isinstance(prospects_share, (int, float))
        or not 0 <= prospects_share <= 10  # NaN fails too
    ):
        raise UsageError(f"--prospects-share must be from 0 to 10 (got {prospects_share!r})")
    n_days = (_as_date(end) - _as_date(start)).days + 1
    if n_days * _DAY * 2 * (int(orders) + 1) >= 2**62:  # packed int64 sort keys
        raise UsageError("--orders is too large for the date range (--start/--end)")


def _normalize_locale(locale: str) -> str:
    key = locale.strip().replace("_", "-").lower() if isinstance(locale, str) else ""
    for known in LOCALES:
        if key == known.lower():
            return known
    raise UsageError(f"--locale: unknown locale {locale!r}; use {', '.join(LOCALES)}")


# --------------------------------------------------------------------------------------------
# calendar, catalogue, draws
# --------------------------------------------------------------------------------------------


def _black_friday(year: int) -> dt.date:
    """The day after the fourth Thursday of November."""
    first_thursday = 1 + (3 - dt.date(year, 11, 1).weekday()) % 7
    return dt.date(year, 11, first_thursday + 22)


def _calendar(start: dt.date, end: dt.date) -> _Calendar:
    n_days = (end - start).days + 1
    epoch_day = (start - dt.date(1970, 1, 1)).days
    days = np.arange(n_days, dtype=np.int64)
    dates = np.datetime64(start.isoformat(), "D") + days
    month_start = dates.astype("datetime64[M]")
    month = month_start.astype(np.int64) % 12
    day_of_month = (dates - month_start.astype("datetime64[D]")).astype(np.int64) + 1
    weekday = (days + epoch_day + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0

    level = np.asarray(_MONTH_FACTOR)[month] * np.asarray(_WEEKDAY_FACTOR)[weekday]
    december = month == 11
    level[december & (day_of_month >= 23) & (day_of_month <= 24)] *= 0.85
    level[december & (day_of_month == 25)] *= 0.35
    level[december & (day_of_month >= 26)] *= 0.65
    level[(month == 0) & (day_of_month == 1)] *= 0.4
    promo = np.zeros(n_days, dtype=np.bool_)
    for year in range(start.year, end.year + 1):  # a loop over years, not rows
        black_friday = (_black_friday(year) - start).days
        for offset, factor in _BLACK_FRIDAY:
            if 0 <= black_friday + offset < n_days:
                level[black_friday + offset] *= factor
                promo[black_friday + offset] = True

    acquisition_cdf = np.cumsum(level * np.exp(_GROWTH_PER_YEAR * days / 365.25))
    acquisition_cdf /= acquisition_cdf[-1]
    warp_level = np.concatenate([[0.0], np.cumsum(level)])
    warp_level *= n_days / warp_level[-1]
    return _Calendar(
        n_days=n_days,
        epoch_day=epoch_day,
        acquisition=_Guide.build(acquisition_cdf, 1.0),
        warp_level=warp_level,
        warp=_Guide.build(warp_level, float(n_days)),
        promo=promo,
    )


def _draw_days(rng: np.random.Generator, cal: _Calendar, size: int) -> IntArray:
    """Days (0-based) drawn with the calendar's acquisition weights."""
    return np.minimum(cal.acquisition.find(rng.random(size)), cal.n_days - 1)


@functools.lru_cache(maxsize=1)
def _catalog() -> _Catalog:
    """The shop's products: names (en, pt-BR), category, a ``,90`` price, popularity."""
    rng = np.random.default_rng(_CATALOG_SEED)
    names_en: list[str] = []
    names_pt: list[str] = []
    category: list[int] = []
    price: list[float] = []
    weight: list[float] = []
    for c, (_, _, share, median, products) in enumerate(_CATEGORIES):
        n = len(products) * len(_MODEL_TIERS)
        models = rng.integers(1, 10, size=n) * 100
        popularity = 1.0 / np.arange(1, n + 1) ** 0.9
        rng.shuffle(popularity)
        popularity *= share / popularity.sum()
        noise = rng.lognormal(0.0, 0.35, size=n)
        for i in range(n):
            product, tier = divmod(i, len(_MODEL_TIERS))
            en, pt = products[product]
            code = f"{'ABCDE'[tier]}{int(models[i])}"
            names_en.append(f"{en} {code}")
            names_pt.append(f"{pt} {code}")
            category.append(c)
            price.append(median * _MODEL_TIERS[tier] * float(noise[i]))
            weight.append(float(popularity[i]))
    reais = np.maximum(np.floor(np.asarray(price)), 4.0)
    return _Catalog(
        names_en=tuple(names_en),
        names_pt=tuple(names_pt),
        category=np.asarray(category, dtype=np.int8),
        price_cents=(reais * 100 + 90).astype(np.int32),  # shop prices end in ,90
        weights=tuple(weight),
    )


_TABLE_BITS: Final = 16


@functools.lru_cache(maxsize=64)
def _lookup_table(weights: tuple[float, ...]) -> IntArray:
    """2**16 cells holding codes in proportion to the weights (resolution 1/65536)."""
    cdf = np.cumsum(np.asarray(weights, dtype=np.float64))
    cdf /= cdf[-1]
    mid = (np.arange(1 << _TABLE_BITS) + 0.5) / (1 << _TABLE_BITS)
    codes = np.minimum(np.searchsorted(cdf, mid, side="right"), len(weights) - 1)
    return codes.astype(np.int8 if len(weights) <= 127 else np.int16)


def _draw(rng: np.random.Generator, weights: Sequence[float], size: int) -> IntArray:
    """``size`` codes 0..len(weights)-1 (int8/int16) drawn with the given relative weights."""
    table = _lookup_table(tuple(float(w) for w in weights))
    return table[rng.integers(0, 1 << _TABLE_BITS, size=size, dtype=np.uint16)]


def _time_of_day(rng: np.random.Generator, size: int) -> IntArray:
    """Seconds after midnight, by an hour-of-day profile (evening peak)."""
    hour = _draw(rng, _HOUR_WEIGHT, size).astype(np.int32)
    return hour * 3600 + rng.integers(0, 3600, size=size, dtype=np.int32)


def _segment_positions(counts: IntArray) -> IntArray:
    """0, 1, ..., c-1 for every count c, concatenated."""
    starts = np.cumsum(counts) - counts
    return np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(starts, counts)


def _argsort_small(keys: IntArray, bits: int) -> IntArray:
    """Stable argsort of non-negative integer keys below 2**bits (LSD radix, 16 bits a pass)."""
    order: IntArray | None = None
    for shift in range(0, max(bits, 1), 16):
        digit = ((keys >> shift) & 0xFFFF).astype(np.uint16)
        order = (
            np.argsort(digit, kind="stable")
            if order is None
            else order[np.argsort(digit[order], kind="stable")]
        )
    assert order is not None
    return order


# --------------------------------------------------------------------------------------------
# customers and their orders
# --------------------------------------------------------------------------------------------


def _simulate_batch(
    rng: np.random.Generator, cal: _Calendar, n: int
) -> tuple[IntArray, IntArray, IntArray, BoolArray]:
    """``n`` customers: sales orders per customer, each order's day and time, b2b flags.

    The first order (acquisition) follows the calendar's growth and seasonality. Repeat
    orders follow a Poisson process at the customer's Gamma-distributed rate in seasonally
    warped time; after each order the customer drops out with a Beta-distributed
    probability (BG/NBD). Of the a arrivals in the window the customer makes the first
    k = min(a, repeats before dropout), whose times are the first k order statistics of a
    uniforms, drawn exactly as normalised exponential spacings.
    """
    acq_day = _draw_days(rng, cal, n)
    acq_second = _time_of_day(rng, n)
    b2b = rng.random(n) < _B2B_SHARE
    rate = rng.gamma(_RATE_SHAPE, _RATE_SCALE_DAYS, size=n)
    rate = np.minimum(rate * np.where(b2b, _B2B_RATE_FACTOR, 1.0), _RATE_MAX)
    dropout = rng.beta(_DROPOUT_A, _DROPOUT_B, size=n) * np.where(b2b, _B2B_DROPOUT_FACTOR, 1.0)
    dropout = np.clip(dropout, 1e-6, 1.0)

    frac = acq_second / _DAY
    u0 = cal.warp_level[acq_day] * (1.0 - frac) + cal.warp_level[acq_day + 1] * frac
    horizon = cal.warp_level[-1] - u0
    arrivals = rng.poisson(rate * horizon)
    repeats = np.minimum(arrivals, rng.geometric(dropout) - 1)

    spacing = np.concatenate([[0.0], np.cumsum(rng.standard_exponential(int(repeats.sum())))])
    first = np.cumsum(repeats) - repeats
    with_repeats = repeats > 0
    rest = np.zeros(n)
    rest[with_repeats] = rng.standard_gamma((arrivals - repeats + 1)[with_repeats])
    total = spacing[first + repeats] - spacing[first] + rest
    scale = np.divide(horizon, total, out=np.zeros(n), where=with_repeats)
    u = np.repeat(u0 - scale * spacing[first], repeats) + np.repeat(scale, repeats) * spacing[1:]
    repeat_day = cal.warp.find(u) - 1
    repeat_day = np.clip(repeat_day, np.repeat(acq_day, repeats), cal.n_days - 1)

    counts = repeats + 1
    is_first = np.zeros(int(counts.sum()), dtype=np.bool_)
    is_first[np.cumsum(counts) - counts] = True
    day = np.empty(is_first.size, dtype=np.int32)
    day[is_first] = acq_day
    day[~is_first] = repeat_day
    second = np.empty(is_first.size, dtype=np.int32)
    second[is_first] = acq_second
    second[~is_first] = _time_of_day(rng, repeat_day.size)
    return counts, day, second, b2b


def _simulate_pool(rng: np.random.Generator, cal: _Calendar, orders: int) -> _Pool:
    """Customers, in batches, until they have at least ``orders`` sales orders."""
    batches: list[tuple[IntArray, IntArray, IntArray, BoolArray]] = []
    n_customers = n_orders = 0
    while n_orders < orders:
        per_customer = n_orders / n_customers if n_customers else _FIRST_BATCH_ORDERS_PER_CUSTOMER
        n = math.ceil((orders - n_orders) / per_customer * 1.05) + 8
        batches.append(_simulate_batch(rng, cal, n))
        n_customers += n
        n_orders += batches[-1][1].size
    day = np.concatenate([b[1] for b in batches])
    return _Pool(
        counts=np.concatenate([b[0] for b in batches]),
        day=day,
        second=np.concatenate([b[2] for b in batches]),
        cancelled=rng.random(day.size) < _CANCEL_RATE,
        b2b=np.concatenate([b[3] for b in batches]),
    )


def _draw_products(
    rng: np.random.Generator, catalog: _Catalog, o_lines: IntArray, line_order: IntArray
) -> IntArray:
    """Products by popularity, distinct within each order (lines are order-major): a later
    line that repeats an earlier product of its order is drawn again."""
    product = _draw(rng, catalog.weights, line_order.size)
    line_start = np.cumsum(o_lines) - o_lines
    check = np.flatnonzero(o_lines > 1)  # orders to check
    for _ in range(100):  # converges in a few rounds
        counts = o_lines[check] - 1
        pos = _segment_positions(counts) + 1  # position of each later line in its order
        later = np.repeat(line_start[check], counts) + pos
        clash = np.zeros(later.size, dtype=np.bool_)
        at = np.arange(later.size)
        for lag in range(1, len(_LINES_P)):
            at = at[pos[at] >= lag]
            clash[at] |= product[later[at]] == product[later[at] - lag]
        redo = later[clash]
        if not redo.size:
            return product
        product[redo] = _draw(rng, catalog.weights, redo.size)
        check = np.unique(line_order[redo])
    raise AssertionError("could not draw distinct products per order")  # pragma: no cover


def _build_orders(
    rng: np.random.Generator,
    cal: _Calendar,
    o_ts: IntArray,
    o_customer: IntArray,
    o_cancelled: BoolArray,
    returned: IntArray,
    b2b: BoolArray,
    state: IntArray,
    preferred_channel: IntArray,
    number: IntArray,
    ids: Any,
) -> pa.Table:
    """The order-lines table: sales lines, return rows and duplicates, by (order_ts, id)."""
    catalog = _catalog()
    n_sales = o_ts.size
    usual = rng.random(n_sales) < _PREFERRED_CHANNEL
    o_channel = np.where(usual, preferred_channel[o_customer], _draw(rng, _CHANNEL_P, n_sales))
    o_lines = _draw(rng, _LINES_P, n_sales).astype(np.int64) + 1

    # sales lines, in time order
    line_order = np.repeat(np.arange(n_sales, dtype=np.int32), o_lines)
    n_lines = line_order.size
    product = _draw_products(rng, catalog, o_lines, line_order)
    quantity = _draw(rng, _QTY_P, n_lines).astype(np.int32) + np.int32(1)
    (b2b_lines,) = np.nonzero(np.repeat(b2b[o_customer], o_lines))
    b2b_quantity = 1 + rng.poisson(_B2B_QTY_MEAN, b2b_lines.size)
    quantity[b2b_lines] = np.minimum(b2b_quantity, _B2B_QTY_MAX)
    # discount tier per line (0 = full price): more and deeper in Black-Friday week
    tier = _draw(rng, _discount_weights(_DISCOUNT_P), n_lines)
    (promo_lines,) = np.nonzero(np.repeat(cal.promo[o_ts // _DAY], o_lines))
    tier[promo_lines] = _draw(rng, _discount_weights(_DISCOUNT_PROMO_P), promo_lines.size)
    price = catalog.price_cents[product]
    (sale,) = np.nonzero(tier)
    factor = np.asarray([1.0, *(f for f, _ in _DISCOUNTS)])[tier[sale]]
    sale_price = np.floor(price[sale] * factor / 100).astype(np.int32) * 100 + 90
    price[sale] = np.minimum(np.maximum(sale_price, 190), price[sale])
    del b2b_lines, b2b_quantity, tier, promo_lines, sale, factor, sale_price

    # return rows: the whole order or one of its lines, some units, a later day
    n_returns = returned.size
    r_lines = o_lines[returned]
    whole = (rng.random(n_returns) < _RETURN_ALL_LINES) | (r_lines == 1)
    pick = (rng.random(n_returns) * r_lines).astype(np.int64)
    r_counts = np.where(whole, r_lines, 1)
    line_start = np.cumsum(o_lines) - o_lines
    r_line = np.repeat(line_start[returned] + np.where(whole, 0, pick), r_counts)
    r_line += np.where(np.repeat(whole, r_counts), _segment_positions(r_counts), 0)
    r_return = np.repeat(np.arange(n_returns), r_counts)  # which return (sorted like returned)
    sold = quantity[r_line].astype(np.int64)
    partial = (sold > 1) & (rng.random(r_line.size) < _RETURN_PARTIAL_QTY)
    some = 1 + (rng.random(r_line.size) * (sold - 1)).astype(np.int64)
    r_quantity = -np.where(partial, some, sold)
    sold_day = o_ts[returned] // _DAY
    delay = np.minimum(rng.geometric(_RETURN_DELAY_P, n_returns), cal.n_days - 1 - sold_day)
    return_ts = (sold_day + delay) * _DAY + _time_of_day(rng, n_returns)

    # merge the sales lines (sorted) with the return rows by (ts, order_id); "R…" sorts
    # after digits, and return ids follow their original order's id
    span = 2 * (n_sales + 1)
    sales_key = np.repeat(o_ts * span + np.arange(n_sales), o_lines)
    return_key = (return_ts * span + (n_sales + 1) + returned)[r_return]
    r_sort = np.lexsort((r_line, return_key))
    r_line, r_return, r_quantity = r_line[r_sort], r_return[r_sort], r_quantity[r_sort]
    n_r = r_line.size
    slots = np.searchsorted(sales_key, return_key[r_sort], side="right") + np.arange(n_r)
    del sales_key, return_key, r_sort
    n_rows = n_lines + n_r
    index_type = np.int32 if n_rows < 2**31 else np.int64
    is_return = np.zeros(n_rows, dtype=np.bool_)
    is_return[slots] = True
    src = np.empty(n_rows, dtype=index_type)  # row -> sales line i, or return row n_lines + j
    src[~is_return] = np.arange(n_lines, dtype=index_type)
    src[slots] = n_lines + np.arange(n_r, dtype=index_type)
    del is_return, slots
    # exact duplicate rows, each right after its original
    duplicated = np.sort(rng.choice(n_rows, size=round(n_rows * _DUPLICATE_RATE), replace=False))
    src = np.insert(src, duplicated + 1, src[duplicated])

    def rows(sales: npt.NDArray[Any], returns: npt.NDArray[Any]) -> npt.NDArray[Any]:
        return np.concatenate([sales, returns.astype(sales.dtype)])[src]

    # order codes: sales order i -> i, the return of returned[j] -> n_sales + j
    row_order = rows(line_order, n_sales + r_return)
    row_sale = rows(line_order, returned[r_return])  # the sales order a row belongs to
    row_product = rows(product, product[r_line])
    row_quantity = rows(quantity, r_quantity)
    row_price = rows(price, price[r_line])
    del line_order, product, quantity, price
    row_ts = np.concatenate([o_ts, return_ts])[row_order]
    row_ts += cal.epoch_day * _DAY
    row_ts *= 1_000_000
    o_status = np.where(o_cancelled, _CANCELLED, _PAID).astype(np.int8)
    row_status = np.concatenate([o_status, np.full(n_returns, _RETURNED, np.int8)])[row_order]
    base = 10 ** max(5, len(str(n_sales)))  # ids 100001, 100002, ...: one width
    order_text = _numbers_text(base + 1, n_sales, len(str(base)))
    return_text = pc.binary_join_element_wise("R", order_text.take(pa.array(returned)), "")
    amount = np.multiply(row_quantity, row_price, dtype=np.float64)  # exact: whole cents
    amount /= 100
    return pa.table(
        {
            "order_id": _dictionary(row_order, pa.concat_arrays([order_text, return_text])),
            "customer_id": _dictionary(number[o_customer][row_sale], ids),
            "order_ts": pa.array(row_ts, pa.timestamp("us")),
            "status": _labels(_STATUSES, row_status),
            "channel": _labels(_CHANNELS, o_channel[row_sale]),
            "state": _labels([s for s, _ in _STATES], state[o_customer][row_sale]),
            "category": _labels([c[0] for c in _CATEGORIES], catalog.category[row_product]),
            "product": _labels(catalog.names_en, row_product),
            "quantity": pa.array(row_quantity, pa.int32()),
            "unit_price": pa.array(row_price / 100),
            "amount": pa.array(amount),
        }
    )


def _discount_weights(share: float) -> tuple[float, ...]:
    """Weights of discount tiers 0 (full price), 1.. (the _DISCOUNTS factors)."""
    return (1.0 - share, *(share * w for _, w in _DISCOUNTS))


def _dictionary(codes: IntArray, values: Any) -> Any:
    index_type = np.int8 if len(values) <= 127 else np.int16 if len(values) <= 32767 else np.int32
    indices = pa.array(codes.astype(index_type, copy=False))
    return pa.DictionaryArray.from_arrays(indices, values, safe=False)


_BLOCK: Final = 10_000  # numbers are written in blocks sharing all but the last 4 digits


def _numbers_text(first: int, n: int, width: int, prefix: bytes = b"", suffix: bytes = b"") -> Any:
    """Text of the integers first..first+n-1, zero-padded to ``width`` digits, between a
    prefix and a suffix. Fixed-width rows of ASCII assembled by numpy broadcasting in
    blocks of 10,000 consecutive numbers (no per-row conversion)."""
    if first < 0 or n < 0 or width < 4 or len(str(first + max(n, 1) - 1)) > width:
        raise ValueError("numbers must be non-negative and fit the width (at least 4)")
    lead = first % _BLOCK
    blocks = np.arange(first // _BLOCK, (first + n - 1) // _BLOCK + 1 if n else first // _BLOCK)
    high = np.empty((blocks.size, width - 4), dtype=np.uint8)  # the leading digits per block
    rest = blocks.copy()
    for k in range(width - 5, -1, -1):  # a loop over digit places
        high[:, k] = 48 + rest % 10
        rest //= 10
    a, b = len(prefix), len(prefix) + width
    row = b + len(suffix)
    template = np.zeros((_BLOCK, row), dtype=np.uint8)  # one block, leading digits left out
    template[:, :a] = np.frombuffer(prefix, dtype=np.uint8)
    last4 = np.arange(_BLOCK)
    for k, place in enumerate((1000, 100, 10, 1)):
        template[:, b - 4 + k] = 48 + last4 // place % 10
    template[:, b:] = np.frombuffer(suffix, dtype=np.uint8)
    data = np.empty((blocks.size, _BLOCK, row), dtype=np.uint8)
    data[:] = template
    if width > 4:  # the leading digits, copied as one item per row
        item = f"V{width - 4}"
        data[:, :, a : b - 4].view(item)[...] = high.view(item)[:, None, :]
    rows = data.reshape(-1, row)[lead : lead + n]
    large = n * row >= 2**31
    offsets = np.arange(0, (n + 1) * row, row, dtype=np.int64 if large else np.int32)
    return pa.Array.from_buffers(
        pa.large_string() if large else pa.string(),
        n,
        [None, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(rows).reshape(-1))],
    )


def _labels(values: Sequence[str], codes: IntArray) -> Any:
    return _dictionary(codes, pa.array(list(values), pa.string()))


# --------------------------------------------------------------------------------------------
# writers
# --------------------------------------------------------------------------------------------


def _plain(column: Any) -> Any:
    """A column without dictionary encoding."""
    if pa.types.is_dictionary(column.type):
        return column.cast(column.type.value_type)
    return column


def _group_thousands(units: IntArray, sep: str) -> Any:
    """Non-negative integers as text with a thousands separator (a pass per 3 digits)."""
    plain = pc.cast(pa.array(units), pa.string())
    if not sep or units.size == 0 or int(units.max()) < 1000:
        return plain
    head = _group_thousands(units // 1000, sep)
    tail = pc.utf8_lpad(pc.cast(pa.array(units % 1000), pa.string()), width=3, padding="0")
    return pc.if_else(pa.array(units >= 1000), pc.binary_join_element_wise(head, tail, sep), plain)


def _format_money(column: Any, decimal: str, thousands: str) -> Any:
    """Amounts as text with two decimals: ``-1234.50`` (en) or ``-1.234,50`` (pt-BR)."""
    cents = np.round(column.to_numpy(zero_copy_only=False) * 100).astype(np.int64)
    magnitude = np.abs(cents)
    whole = _group_thousands(magnitude // 100, thousands)
    frac = pc.utf8_lpad(pc.cast(pa.array(magnitude % 100), pa.string()), width=2, padding="0")
    text = pc.binary_join_element_wise(whole, frac, decimal)
    return pc.if_else(pa.array(cents < 0), pc.binary_join_element_wise("-", text, ""), text)


def _translate(column: Any, mapping: dict[str, str]) -> Any:
    """Map the values of a text column through its dictionary (a few Python calls)."""
    encoded = column if pa.types.is_dictionary(column.type) else pc.dictionary_encode(column)
    words = [mapping.get(v, v) for v in encoded.dictionary.to_pylist()]
    return pa.DictionaryArray.from_arrays(encoded.indices, pa.array(words, pa.string()))


def _digits(values: IntArray, width: int) -> npt.NDArray[np.uint8]:
    """ASCII digits of small non-negative integers, one row of ``width`` bytes each."""
    out = np.empty((values.size, width), dtype=np.uint8)
    rest = values.astype(np.int64)
    for k in range(width - 1, -1, -1):  # a loop over digit places
        out[:, k] = 48 + rest % 10
        rest = rest // 10
    return out


@functools.lru_cache(maxsize=1)
def _clock_table() -> npt.NDArray[np.uint64]:
    """``HH:MM:SS`` of every second of a day, as 8-byte items."""
    second = np.arange(_DAY)
    text = np.full((_DAY, 8), ord(":"), dtype=np.uint8)
    text[:, 0:2] = _digits(second // 3600, 2)
    text[:, 3:5] = _digits(second // 60 % 60, 2)
    text[:, 6:8] = _digits(second % 60, 2)
    return text.view(np.uint64).reshape(-1)


def _format_br(column: Any, *, with_time: bool) -> Any:
    """Dates as ``dd/mm/aaaa`` (or timestamps as ``dd/mm/aaaa HH:MM:SS``), assembled as
    fixed-width bytes: one text per calendar day in the data and a table of clock times."""
    if with_time:
        micros = column.cast(pa.timestamp("us")).cast(pa.int64()).to_numpy(zero_copy_only=False)
        seconds = micros // 1_000_000
        days = seconds // _DAY
    else:
        days = column.cast(pa.int32()).to_numpy(zero_copy_only=False).astype(np.int64)
    first = int(days.min()) if days.size else 0
    calendar = np.arange(first, int(days.max()) + 1 if days.size else first + 1)
    dates = calendar.astype("datetime64[D]")
    months = dates.astype("datetime64[M]")
    day_text = np.full((calendar.size, 10), ord("/"), dtype=np.uint8)
    day_text[:, 0:2] = _digits((dates - months).astype(np.int64) + 1, 2)
    day_text[:, 3:5] = _digits(months.astype(np.int64) % 12 + 1, 2)
    day_text[:, 6:10] = _digits(months.astype(np.int64) // 12 + 1970, 4)
    width = 19 if with_time else 10
    text = np.empty((days.size, width), dtype=np.uint8)
    text[:, :10].view("V10")[:, 0] = day_text.view("V10")[:, 0][days - first]
    if with_time:
        text[:, 10] = ord(" ")
        text[:, 11:19].view(np.uint64)[:, 0] = _clock_table()[seconds - days * _DAY]
    offsets = np.arange(0, (days.size + 1) * width, width, dtype=np.int32)
    return pa.Array.from_buffers(
        pa.string(), days.size, [None, pa.py_buffer(offsets), pa.py_buffer(text.reshape(-1))]
    )


def _csv_chunk(chunk: pa.Table, kind: str, locale: str) -> pa.Table:
    """A slice of a sample table as CSV-ready columns for the locale."""
    pt_br = locale == "pt-BR"
    names = {} if not pt_br else _ORDER_COLUMNS_PT if kind == "orders" else _CUSTOMER_COLUMNS_PT
    product_pt = dict(zip(_catalog().names_en, _catalog().names_pt, strict=True))
    columns: dict[str, Any] = {}
    for name in chunk.column_names:
        col = chunk.column(name).combine_chunks()
        if name in _MONEY_COLUMNS:
            col = _format_money(col, ",", ".") if pt_br else _format_money(col, ".", "")
        elif name == "order_ts":
            col = _format_br(col, with_time=True) if pt_br else col.cast(pa.timestamp("s"))
        elif not pt_br:
            pass
        elif name == "signup_date":
            col = _format_br(col, with_time=False)
        elif name == "marketing_consent":
            col = pc.if_else(col, "sim", "não")
        elif name == "product" and kind == "orders":
            col = _translate(col, product_pt)
        elif name in _VALUES_PT:
            col = _translate(col, _VALUES_PT[name])
        columns[names.get(name, name)] = _plain(col)
    return pa.table(columns)


def _csv_bytes(table: pa.Table, offset: int, kind: str, locale: str) -> bytes | pa.Buffer:
    """One slice of a sample table as CSV bytes in the locale's dialect and encoding."""
    import pyarrow.csv as pacsv

    chunk = _csv_chunk(table.slice(offset, _CSV_CHUNK_ROWS), kind, locale)
    options = pacsv.WriteOptions(
        include_header=offset == 0,
        delimiter=";" if locale == "pt-BR" else ",",
        quoting_style="none",
        quoting_header="none",
    )
    sink = pa.BufferOutputStream()
    pacsv.write_csv(chunk, sink, write_options=options)
    data = sink.getvalue()
    if locale == "pt-BR":
        return data.to_pybytes().decode("utf-8").encode("cp1252")
    return data


def _write_csv(table: pa.Table, path: Path, kind: str, locale: str) -> None:
    """Header row, no quotes (no generated value needs them: the writer errors if one did);
    formatted and written in slices, so memory stays flat."""
    with path.open("wb") as fh:
        for offset in range(0, max(table.num_rows, 1), _CSV_CHUNK_ROWS):
            fh.write(_csv_bytes(table, offset, kind, locale))


def _write_parquet(table: pa.Table, path: Path) -> None:
    """Typed columns, strings as plain strings for every reader (no Arrow schema stored);
    dictionary pages for the low-cardinality text columns only (ids are near-unique)."""
    import pyarrow.parquet as pq

    small = [
        field.name
        for field in table.schema
        if pa.types.is_dictionary(field.type) and field.type.index_type.bit_width <= 16
    ]
    pq.write_table(table, str(path), compression="zstd", store_schema=False, use_dictionary=small)


def _write_ndjson(table: pa.Table, path: Path) -> None:
    import duckdb

    con = duckdb.connect()
    try:
        con.register("sample_rows", table)
        quoted = str(path).replace("'", "''")
        con.execute(f"COPY (SELECT * FROM sample_rows) TO '{quoted}' (FORMAT JSON)")
    finally:
        con.close()
