"""Column detection: canonical roles, English/Portuguese synonyms, presets, amount expressions.

Contract:
- :func:`normalize` folds a header to its matching key (case, accents, spaces and
  punctuation ignored): ``"Data do Pedido"`` -> ``"datadopedido"``.
- :func:`detect_roles` maps source headers to the canonical roles of DESIGN.md
  (customer_id, order_ts, amount, order_id, status), explaining each choice; two
  equally plausible candidates for a role is a :class:`UsageError` naming the flag.
- :func:`parse_amount_expression` turns ``"Quantity * Price"`` into a safe expression
  tree over known columns; nothing the user typed is ever pasted into SQL.
- :data:`PRESETS` names whole vendor layouts (Shopify, WooCommerce, UCI Online Retail).

Pure Python: no duckdb import here.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from clientela.errors import UsageError

ROLES: tuple[str, ...] = ("customer_id", "order_ts", "amount", "order_id", "status")
REQUIRED_ROLES: tuple[str, ...] = ("customer_id", "order_ts")

ROLE_FLAGS: dict[str, str] = {
    "customer_id": "--customer-col",
    "order_ts": "--date-col",
    "amount": "--amount-col",
    "order_id": "--order-col",
    "status": "--status-col",
}


def normalize(name: str) -> str:
    """Fold a column name for matching: lower case, no accents, only letters and digits."""
    decomposed = unicodedata.normalize("NFKD", name)
    no_accents = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[^0-9a-z]", "", no_accents.casefold())


# Synonyms per role, in tiers: an earlier tier wins over a later one; two matches in
# the same tier are ambiguous. Written already normalised (see `normalize`).
SYNONYMS: dict[str, list[list[str]]] = {
    "customer_id": [
        [
            "customerid",
            "clienteid",
            "idcliente",
            "idcustomer",
            "codcliente",
            "codigocliente",
            "customercode",
            "customernumber",
            "customerno",
            "numerocliente",
            "clientid",
        ],
        [
            "customer",
            "cliente",
            "client",
            "comprador",
            "buyer",
            "buyerid",
            "userid",
            "idusuario",
            "usuarioid",
            "contactid",
            "idcontato",
            "accountid",
            "cpfcnpj",
            "cpf",
        ],
        [
            "email",
            "customeremail",
            "emailcliente",
            "emaildocliente",
            "billingemail",
            "emailaddress",
            "mail",
        ],
    ],
    "order_ts": [
        [
            "orderts",
            "ordertimestamp",
            "orderdatetime",
            "orderdate",
            "datapedido",
            "datadopedido",
            "datacompra",
            "datadacompra",
            "purchasedate",
            "purchasets",
            "invoicedate",
            "datavenda",
            "datadavenda",
            "transactiondate",
            "datetransacao",
            "createdat",
            "datacriacao",
            "orderedat",
        ],
        [
            "date",
            "data",
            "datetime",
            "timestamp",
            "ts",
            "datahora",
            "dataemissao",
            "paidat",
            "datapagamento",
        ],
    ],
    "amount": [
        [
            "amount",
            "ordertotal",
            "totalamount",
            "valortotal",
            "valordopedido",
            "valorpedido",
            "valorcompra",
            "valordacompra",
            "valorvenda",
            "netamount",
            "revenue",
            "receita",
            "sales",
            "netsales",
            "vendas",
            "valorliquido",
            "total",
            "totalprice",
            "ordervalue",
            "linetotal",
            "subtotalliquido",
        ],
        ["value", "valor", "price", "preco", "montante", "totalpedido"],
    ],
    "order_id": [
        [
            "orderid",
            "idpedido",
            "pedidoid",
            "ordernumber",
            "orderno",
            "numeropedido",
            "numerodopedido",
            "nrpedido",
            "invoice",
            "invoiceno",
            "invoiceid",
            "invoicenumber",
            "transactionid",
            "idtransacao",
            "notafiscal",
            "nf",
            "nfe",
        ],
        ["order", "pedido", "venda", "idvenda", "receipt", "recibo"],
    ],
    "status": [
        [
            "status",
            "orderstatus",
            "statuspedido",
            "statusdopedido",
            "situacao",
            "situacaopedido",
            "financialstatus",
            "paymentstatus",
            "statuspagamento",
        ],
    ],
}

# Order statuses that exclude an order (compared after `normalize`).
EXCLUDED_STATUSES: tuple[str, ...] = (
    "cancelled",
    "canceled",
    "cancel",
    "voided",
    "void",
    "refunded",
    "failed",
    "wccancelled",
    "wcrefunded",
    "wcfailed",
    "cancelado",
    "cancelada",
    "estornado",
    "estornada",
    "reembolsado",
    "reembolsada",
    "devolvidototal",
    "anulado",
    "falhou",
    "recusado",
    "chargeback",
)


@dataclass(frozen=True)
class RoleChoice:
    """How one canonical role is filled: a source column (or expression) and why."""

    role: str
    source: str  # source column name, or the expression text
    reason: str  # "named with --customer-col", "synonym 'cliente'", "preset shopify", ...
    expression: Expr | None = None  # set when the amount is an arithmetic expression


# ---------------------------------------------------------------------------- presets


@dataclass(frozen=True)
class Preset:
    """A vendor export layout: which columns fill which role, and how order values work."""

    name: str
    title: str
    # role -> candidate source headers (the first present wins), or an amount expression
    columns: dict[str, list[str]]
    amount_expression: str | None = None
    # header sets identifying the layout: all headers of one set present (normalised)
    signatures: tuple[tuple[str, ...], ...] = ()
    # a column whose non-empty value excludes the whole order (e.g. Shopify "Cancelled at")
    cancelled_col: list[str] = field(default_factory=list)
    # order-level fields only on the first line of an order: fill the status down
    status_order_level: bool = False
    # customer ids exported as floats ("13085.0"): drop a trailing ".0"
    strip_float_suffix: bool = False
    # columns listing refunds as "amount:12.50|reason:...|date:..." (WooCommerce): subtracted
    refund_items_col: list[str] = field(default_factory=list)
    # statuses excluded by this layout on top of EXCLUDED_STATUSES (normalised)
    extra_excluded: tuple[str, ...] = ()
    notes: str = ""


PRESETS: dict[str, Preset] = {
    "shopify": Preset(
        name="shopify",
        title="Shopify orders export",
        columns={
            "customer_id": ["Email"],
            "order_ts": ["Created at"],
            "order_id": ["Name"],
            "status": ["Financial Status"],
        },
        amount_expression='"Total" - "Refunded Amount"',
        signatures=(("name", "email", "financialstatus", "createdat", "lineitemname", "total"),),
        cancelled_col=["Cancelled at"],
        status_order_level=True,
        notes="one row per line item; Total and Refunded Amount only on an order's first "
        "row; order value = Total - Refunded Amount; voided/refunded/cancelled excluded",
    ),
    "woocommerce": Preset(
        name="woocommerce",
        title="WooCommerce orders export",
        columns={
            # the billing e-mail is set for guests too; Analytics only has the name
            "customer_id": [
                "billing_email",
                "customer_email",
                "Billing Email",
                "Customer Email",
                "Email (Billing)",
                "Customer",
            ],
            "order_ts": ["order_date", "Order Date", "Date"],
            "order_id": ["order_id", "Order ID", "Order #", "order_number", "Order Number"],
            "status": ["status", "Order Status", "Status"],
            "amount": ["order_total", "Order Total", "Order Total Amount", "Net Sales"],
        },
        signatures=(
            ("orderid", "ordernumber", "orderdate", "status", "ordertotal", "orderkey"),
            ("orderid", "orderdate", "ordertotal", "billingemail"),
            ("date", "order", "status", "customer", "customertype", "netsales"),
        ),
        refund_items_col=["refund_items"],
        extra_excluded=("pending", "wcpending", "checkoutdraft", "wccheckoutdraft"),
        notes="Order Export & Import (WebToffee) layout: one row per order, value = "
        "order_total minus the amounts in refund_items. Analytics > Orders layout: refunds "
        "are extra rows with negative Net Sales. cancelled/failed/refunded/pending excluded "
        "(with or without the wc- prefix); on-hold and processing kept",
    ),
    "online-retail": Preset(
        name="online-retail",
        title="UCI Online Retail (I and II)",
        columns={
            "customer_id": ["Customer ID", "CustomerID"],
            "order_ts": ["InvoiceDate"],
            "order_id": ["Invoice", "InvoiceNo"],
        },
        amount_expression="Quantity * Price",
        signatures=(("stockcode", "quantity", "invoicedate"),),
        strip_float_suffix=True,
        notes="one row per invoice line; value = Quantity * Price (UnitPrice); invoices "
        "starting with C are cancellations (negative quantities) and net as refunds",
    ),
}


def suggest_preset(headers: Sequence[str]) -> Preset | None:
    """The preset one of whose header signatures is fully present, if any."""
    keys = {normalize(h) for h in headers}
    for preset in PRESETS.values():
        if any(set(sig) <= keys for sig in preset.signatures):
            return preset
    return None


def get_preset(name: str) -> Preset:
    key = name.strip().lower().replace("_", "-")
    aliases = {"uci": "online-retail", "online-retail-ii": "online-retail", "woo": "woocommerce"}
    key = aliases.get(key, key)
    if key not in PRESETS:
        raise UsageError(f"unknown preset {name!r}; use --preset with one of: {', '.join(PRESETS)}")
    return PRESETS[key]


# ------------------------------------------------------------------ amount expressions


@dataclass(frozen=True)
class Num:
    value: float


@dataclass(frozen=True)
class Col:
    name: str  # the exact source header


@dataclass(frozen=True)
class BinOp:
    op: str  # one of + - * /
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Neg:
    operand: Expr


Expr = Num | Col | BinOp | Neg

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<num>\d+(?:\.\d+)?)
      | "(?P<dq>[^"]+)"
      | `(?P<bq>[^`]+)`
      | \[(?P<br>[^\]]+)\]
      | (?P<name>[^\s+\-*/()"`\[\]]+(?:\s+[^\s+\-*/()"`\[\]]+)*)
      | (?P<op>[+\-*/()])
    )""",
    re.VERBOSE,
)


def looks_like_expression(text: str) -> bool:
    """True when ``text`` uses arithmetic (``Quantity * Price``), not just a column name."""
    return any(op in text for op in "*/+()") or bool(re.search(r"\s-\s", text))


def parse_amount_expression(text: str, headers: Sequence[str]) -> Expr:
    """Parse ``text`` into an expression over ``headers``.

    Operands are numbers or column names (bare, or quoted with "..", `..` or [..] when
    they contain operators). Names are matched like headers are (case/accents ignored).
    Anything else is a UsageError naming --amount-col.
    """
    by_key: dict[str, list[str]] = {}
    for h in headers:
        by_key.setdefault(normalize(h), []).append(h)

    tokens: list[tuple[str, str]] = []
    pos = 0
    text_s = text.strip()
    while pos < len(text_s):
        m = _TOKEN.match(text_s, pos)
        if not m or m.end() == pos:
            raise UsageError(
                f"--amount-col {text!r}: cannot read the expression at {text_s[pos:]!r}; "
                'use column names, numbers and + - * / ( ), quoting names with "..."'
            )
        pos = m.end()
        if m.group("num") is not None:
            tokens.append(("num", m.group("num")))
        elif m.group("op") is not None:
            tokens.append(("op", m.group("op")))
        else:
            raw = m.group("dq") or m.group("bq") or m.group("br") or m.group("name")
            tokens.append(("col", raw.strip()))

    def resolve(name: str) -> Col:
        if name in headers:
            return Col(name)
        found = by_key.get(normalize(name), [])
        if len(found) == 1:
            return Col(found[0])
        if len(found) > 1:
            raise UsageError(
                f"--amount-col {text!r}: {name!r} matches several columns "
                f"({', '.join(found)}); quote the exact name"
            )
        raise UsageError(
            f"--amount-col {text!r}: no column named {name!r}; columns are: {', '.join(headers)}"
        )

    idx = 0

    def peek() -> tuple[str, str] | None:
        return tokens[idx] if idx < len(tokens) else None

    def take() -> tuple[str, str]:
        nonlocal idx
        tok = tokens[idx]
        idx += 1
        return tok

    def bad(what: str) -> UsageError:
        return UsageError(f"--amount-col {text!r}: {what}")

    def expr() -> Expr:
        node = term()
        while peek() in (("op", "+"), ("op", "-")):
            op = take()[1]
            node = BinOp(op, node, term())
        return node

    def term() -> Expr:
        node = factor()
        while peek() in (("op", "*"), ("op", "/")):
            op = take()[1]
            node = BinOp(op, node, factor())
        return node

    def factor() -> Expr:
        t = peek()
        if t is None:
            raise bad("the expression ends too early")
        if t == ("op", "-"):
            take()
            return Neg(factor())
        if t == ("op", "("):
            take()
            node = expr()
            if peek() != ("op", ")"):
                raise bad("a '(' is not closed")
            take()
            return node
        kind, value = take()
        if kind == "num":
            number = float(value)
            if not math.isfinite(number):
                raise bad(f"the number {value[:20]}... is too large")
            return Num(number)
        if kind == "col":
            return resolve(value)
        raise bad(f"unexpected {value!r}")

    if not tokens:
        raise bad("the expression is empty")
    tree = expr()
    if idx != len(tokens):
        raise bad(f"unexpected {tokens[idx][1]!r}")
    return tree


def expression_columns(node: Expr) -> list[str]:
    """Source columns used by an expression, in order of appearance, without repeats."""
    out: list[str] = []

    def walk(n: Expr) -> None:
        if isinstance(n, Col):
            if n.name not in out:
                out.append(n.name)
        elif isinstance(n, BinOp):
            walk(n.left)
            walk(n.right)
        elif isinstance(n, Neg):
            walk(n.operand)

    walk(node)
    return out


# ------------------------------------------------------------------------ detection


def _candidates(role: str, headers: Sequence[str], taken: set[str]) -> tuple[list[str], str]:
    """Headers matching the best tier of synonyms for ``role`` (and the synonym hit)."""
    keys = [(h, normalize(h)) for h in headers if h not in taken]
    for tier in SYNONYMS[role]:
        hits = [h for h, k in keys if k in tier]
        if hits:
            # within a tier, prefer earlier synonyms only when they are distinct keys;
            # two headers of the same tier are reported as ambiguous
            return hits, normalize(hits[0])
    return [], ""


def detect_roles(
    headers: Sequence[str],
    explicit: dict[str, str | None],
    preset: Preset | None = None,
) -> dict[str, RoleChoice]:
    """Choose a source for each role: explicit flag > preset > synonyms.

    Returns the roles that were found; required roles missing are the caller's error
    (it knows the file names). Raises UsageError on ambiguity or an unknown explicit name.
    """
    chosen: dict[str, RoleChoice] = {}
    taken: set[str] = set()
    by_key: dict[str, list[str]] = {}
    for h in headers:
        by_key.setdefault(normalize(h), []).append(h)

    def find_header(name: str) -> str | None:
        if name in headers:
            return name
        found = by_key.get(normalize(name), [])
        return found[0] if len(found) == 1 else None

    # 1. explicit flags
    for role in ROLES:
        value = explicit.get(role)
        if not value:
            continue
        flag = ROLE_FLAGS[role]
        if role == "amount" and find_header(value) is None and looks_like_expression(value):
            tree = parse_amount_expression(value, headers)
            chosen[role] = RoleChoice(role, value, f"expression given with {flag}", tree)
            taken.update(expression_columns(tree))
            continue
        header = find_header(value)
        if header is None:
            raise UsageError(f"{flag} {value!r}: no such column; columns are: {', '.join(headers)}")
        chosen[role] = RoleChoice(role, header, f"named with {flag}")
        taken.add(header)

    # 2. preset
    if preset is not None:
        for role, names in preset.columns.items():
            if role in chosen:
                continue
            for name in names:
                header = find_header(name)
                if header is not None and header not in taken:
                    chosen[role] = RoleChoice(role, header, f"preset {preset.name}")
                    taken.add(header)
                    break
        if "amount" not in chosen and preset.amount_expression:
            expr_text = preset.amount_expression
            if preset.name == "online-retail" and find_header("Price") is None:
                expr_text = "Quantity * UnitPrice"
            preset_tree: Expr | None
            try:
                preset_tree = parse_amount_expression(expr_text, headers)
            except UsageError:
                preset_tree = None
            if preset_tree is not None:
                chosen["amount"] = RoleChoice(
                    "amount", expr_text, f"preset {preset.name}", preset_tree
                )
                taken.update(expression_columns(preset_tree))

    # 3. synonyms
    for role in ROLES:
        if role in chosen:
            continue
        hits, key = _candidates(role, headers, taken)
        if not hits:
            continue
        if len(hits) > 1:
            flag = ROLE_FLAGS[role]
            listed = ", ".join(repr(h) for h in hits)
            raise UsageError(
                f"two or more columns could be the {role.replace('_', ' ')}: {listed}; "
                f"choose one with {flag} NAME"
            )
        chosen[role] = RoleChoice(role, hits[0], f"name matches {role} synonym '{key}'")
        taken.add(hits[0])
    return chosen
