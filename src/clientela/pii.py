"""Personal data: which columns hold it, keyed pseudonyms, consent values.

Contract (issue 9, LGPD):
- :func:`detect_personal_columns` names the columns of a DuckDB relation that look
  personal (e-mail, phone, CPF/CNPJ, other documents, name, address, birth date, IP
  address), by column name (English and Portuguese, case/accents/punctuation ignored) and by
  the content of a sample of values (e-mail addresses, CPF/CNPJ numbers with valid check
  digits, Brazilian or international phone numbers, CEP postal codes). Each finding says
  why in one sentence. A customer id column is personal only when its values are.
- :func:`load_key` reads the pseudonymisation key from ``CLIENTELA_PSEUDONYM_KEY`` or the
  file named by ``CLIENTELA_PSEUDONYM_KEY_FILE``; never from the command line.
- :func:`pseudonymize_sql` wraps a query so that customer identifiers become
  HMAC-SHA256(key, normalised id) in lowercase hex, computed by DuckDB. The key travels in
  a TEMP table, never in SQL text, messages or files. :func:`pseudonym` is the same
  function in Python.
- :func:`consent_sql` maps consent answers (yes/no, sim/não, true/false, 1/0...) to
  BOOLEAN; :func:`check_consent_column` rejects a column holding anything else.

Identifier normalisation (:func:`normalize_id`, mirrored in SQL): surrounding whitespace
is removed (what Python's ``str.strip()`` removes); an id containing ``@`` is an e-mail and
is lower-cased. Nothing else changes: leading zeros and inner spaces are kept.

Nothing is printed; no duckdb import at module level.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import os
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clientela.columns import normalize
from clientela.errors import InputDataError, UsageError
from clientela.sqlfiles import quote_ident

if TYPE_CHECKING:
    import duckdb

KEY_ENV = "CLIENTELA_PSEUDONYM_KEY"
KEY_FILE_ENV = "CLIENTELA_PSEUDONYM_KEY_FILE"
MIN_KEY_BYTES = 16

#: sample size of :func:`detect_personal_columns` (rows read from the top of the relation)
SAMPLE_ROWS = 2000
#: share of sampled non-empty values that must match a pattern
CONTENT_SHARE = 0.8

# -------------------------------------------------------------- identifier normalisation

#: the characters ``str.strip()`` removes, listed so the SQL trims exactly the same set
_WHITESPACE = "".join(
    chr(c)
    for c in (
        *range(0x09, 0x0E), *range(0x1C, 0x21), 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B),
        0x2028, 0x2029, 0x202F, 0x205F, 0x3000,
    )
)  # fmt: skip
_WHITESPACE_SQL = " || ".join(f"chr({ord(c)})" for c in _WHITESPACE)


def _sql_lower(text: str) -> str:
    """Lower case exactly as DuckDB's ``lower()`` does (character by character; U+0130 -> i)."""
    if text.isascii():
        return text.lower()
    return "".join("i" if ch == "\u0130" else ch.lower() for ch in text)


def normalize_id(value: str) -> str:
    """A customer identifier as compared and hashed: stripped; lower-cased if an e-mail."""
    text = value.strip(_WHITESPACE)
    return _sql_lower(text) if "@" in text else text


def normalize_id_sql(expr: str) -> str:
    """SQL for :func:`normalize_id` of the SQL expression ``expr`` (NULL stays NULL)."""
    v = f"trim(CAST({expr} AS VARCHAR), {_WHITESPACE_SQL})"
    return f"CASE WHEN contains({v}, '@') THEN lower({v}) ELSE {v} END"


# ------------------------------------------------------------------------- validators


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _digits(text: str) -> str:
    return re.sub(r"[^0-9]", "", text)


_CPF_FORMATTED = re.compile(r"\d{3}\.\d{3}\.\d{3}-\d{2}")
_CNPJ_FORMATTED = re.compile(r"[0-9A-Z]{2}\.[0-9A-Z]{3}\.[0-9A-Z]{3}/[0-9A-Z]{4}-\d{2}")


def is_valid_cpf(text: str) -> bool:
    """A CPF written ``123.456.789-09`` or as 11 digits, with both check digits right."""
    t = text.strip()
    if not (_CPF_FORMATTED.fullmatch(t) or (len(t) == 11 and t.isdigit() and t.isascii())):
        return False
    d = [int(c) for c in _digits(t)]
    if len(set(d)) == 1:  # 000.000.000-00, 111.111.111-11 ... pass the arithmetic
        return False
    for n in (9, 10):
        total = sum(d[i] * (n + 1 - i) for i in range(n))
        if (total * 10) % 11 % 10 != d[n]:
            return False
    return True


def is_valid_cnpj(text: str) -> bool:
    """A CNPJ written ``12.345.678/0001-95`` or as 14 characters, with both check digits
    right. The alphanumeric CNPJ (letters in the first 12 places) is accepted too."""
    t = text.strip().upper()
    if _CNPJ_FORMATTED.fullmatch(t):
        t = re.sub(r"[./-]", "", t)
    elif not (len(t) == 14 and t.isascii() and t.isalnum()):
        return False
    if not t[12:].isdigit() or len(set(t)) == 1:
        return False
    values = [ord(c) - 48 for c in t]  # '0'..'9' -> 0..9, 'A'..'Z' -> 17..42
    for n in (12, 13):
        weights = [2 + (n - 1 - i) % 8 for i in range(n)]  # 2..9 from the right, cycling
        r = sum(v * w for v, w in zip(values[:n], weights, strict=True)) % 11
        if (0 if r < 2 else 11 - r) != values[n]:
            return False
    return True


#: Brazilian area codes (DDD)
_DDD = frozenset(
    int(x)
    for x in _words(
        "11 12 13 14 15 16 17 18 19 21 22 24 27 28 31 32 33 34 35 37 38 41 42 43 44 45 46 47 "
        "48 49 51 53 54 55 61 62 63 64 65 66 67 68 69 71 73 74 75 77 79 81 82 83 84 85 86 87 "
        "88 89 91 92 93 94 95 96 97 98 99"
    )
)
_PHONE_CHARS = re.compile(r"\+?[0-9 ().-]+")


def looks_like_phone(text: str) -> bool:
    """A Brazilian phone number (DDD + 8 or 9 digits, optionally +55 or a leading 0), or an
    international number written with a leading +. Bare digit strings count only when
    their shape is unmistakable (+55/55 prefix, or a mobile: DDD + 9 + 8 digits)."""
    t = text.strip()
    if not _PHONE_CHARS.fullmatch(t):
        return False
    d = _digits(t)
    formatted = not t.isdigit()
    if t.startswith("+") and not t.startswith("+55"):
        return 8 <= len(d) <= 15
    if len(d) in (12, 13) and d.startswith("55"):
        d = d[2:]
    elif len(d) in (11, 12) and d.startswith("0") and formatted:
        d = d[1:]
    if len(d) not in (10, 11) or int(d[:2]) not in _DDD:
        return False
    if len(d) == 11:
        return d[2] == "9"
    return formatted and d[2] in "2345678"


_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(\.[\w-]+)+")
_CEP = re.compile(r"\d{5}-\d{3}")


def looks_like_email(text: str) -> bool:
    return _EMAIL.fullmatch(text.strip()) is not None


# ------------------------------------------------------------------------- detection


@dataclass(frozen=True)
class PersonalColumn:
    """A column judged personal: its name, the kind of data and why."""

    name: str
    kind: str  # email | phone | cpf | cnpj | cpf_cnpj | document | name | address | ...
    reason: str  # one short sentence
    basis: str = "name"  # "name" (column name) or "values" (sampled content)

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "kind": self.kind, "reason": self.reason, "basis": self.basis}


KINDS: tuple[str, ...] = (
    "email", "phone", "cpf", "cnpj", "cpf_cnpj", "document", "name", "address", "birth_date",
    "ip_address",
)  # fmt: skip

# Words that make a name match meaningless: the column is about the thing, not the thing
# itself (email_opt_in, phone_verified, product_name, tipo_documento, device_model...).
_NEGATORS = _words(
    """opt optin optout consent consentimento marketing newsletter verified verificado
    validado valid valido status flag count qtd qty quantidade type tipo domain dominio
    bounce bounced sent enviado aceita aceite accepts accept permite allow has tem is possui
    hash hashed md5 sha sha1 sha256 pseudonym pseudonimo masked mascarado length len
    product produto item sku category categoria campaign campanha app device dispositivo
    browser navegador platform plataforma channel canal model modelo brand marca os"""
)
_COARSE_PLACE = _words(
    """city cidade state estado uf country pais province provincia region regiao municipio
    town county"""
)
_NAME_WORDS = frozenset({"name", "nome", "surname", "sobrenome", "firstname", "lastname"})
_NAME_QUALIFIERS = _words(
    """first last full given family middle customer cliente client billing shipping contact
    contato buyer comprador recipient destinatario do da de dos das completo user usuario
    titular responsavel primeiro ultimo person pessoa holder card cartao faturamento entrega
    cobranca"""
)
_NAME_KEYS = _words(
    """nome name firstname lastname fullname surname sobrenome nomecompleto nomecliente
    nomedocliente customername clientname billingname shippingname contactname nomecontato
    buyername nomecomprador recipientname nomedestinatario razaosocial primeironome
    ultimonome nomesocial"""
)

# (kind, label used in the reason, substrings of the normalised name, whole words)
_NAME_RULES: tuple[tuple[str, str, tuple[str, ...], frozenset[str]], ...] = (
    ("ip_address", "ip address", ("ipaddress", "enderecoip"), frozenset({"ip", "ipv4", "ipv6"})),
    ("email", "e-mail", ("email", "correioeletronico"), frozenset({"mail"})),
    ("cpf_cnpj", "cpf/cnpj", ("cpfcnpj", "cnpjcpf"), frozenset()),
    ("cpf", "cpf", ("cpf",), frozenset()),
    ("cnpj", "cnpj", ("cnpj",), frozenset()),
    (
        "document",
        "document",
        ("documento", "taxid", "passport", "passaporte", "identidade", "socialsecurity"),
        frozenset({"rg", "doc", "cnh", "nif", "ssn", "pis", "nit"}),
    ),
    (
        "phone",
        "phone",
        ("telefone", "phone", "celular", "whatsapp"),
        frozenset({"tel", "fone", "cel", "mobile", "fax", "whats", "zap", "wpp"}),
    ),
    (
        "birth_date",
        "birth date",
        ("nascimento", "birth", "aniversario", "datanasc", "dtnasc"),
        frozenset({"dob", "nasc"}),
    ),
    (
        "address",
        "address",
        ("endereco", "address", "logradouro", "complemento", "zipcode", "postalcode",
         "postcode", "codigopostal", "geolocalizacao", "geolocation"),
        frozenset({"rua", "street", "zip", "cep", "addr", "latitude", "longitude", "lat",
                   "lng", "lon"}),
    ),
)  # fmt: skip
_NOT_PERSONAL_NAME = (
    "smartphone", "iphone", "headphone", "microphone", "optin", "optout", "consent",
    "marketing", "newsletter", "verified", "verificado", "validado", "bounce", "hash",
)  # fmt: skip


def _tokens(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    folded = "".join(
        ch for ch in unicodedata.normalize("NFKD", spaced) if not unicodedata.combining(ch)
    ).casefold()
    return [t for t in re.split(r"[^0-9a-z]+", folded) if t]


def name_kind(column: str) -> tuple[str, str] | None:
    """(kind, reason) when the column's name says it holds personal data, else None."""
    key = normalize(column)
    if not key:
        return None
    tokens = _tokens(column)
    words = set(tokens) | {re.sub(r"\d+$", "", t) for t in tokens}
    if words & _NEGATORS or any(s in key for s in _NOT_PERSONAL_NAME):
        return None
    for kind, label, subs, whole in _NAME_RULES:
        hit = next((s for s in subs if s in key), None) or next(
            (w for w in tokens if w in whole), None
        )
        if hit is None:
            continue
        if kind == "address" and words & _COARSE_PLACE:
            return None
        return kind, f"name matches '{label}'"
    if key in _NAME_KEYS or "razaosocial" in key:
        return "name", "name matches 'name'"
    if words & _NAME_WORDS and words <= (_NAME_WORDS | _NAME_QUALIFIERS):
        return "name", "name matches 'name'"
    return None


_CONSENT_WORDS = _words("yes no y n sim nao s true false t f 1 0 1.0 0.0 x on off")
_INTEGER_TYPES = ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT", "UINTEGER",
                  "USMALLINT", "UTINYINT")  # fmt: skip
_NUMERIC_KINDS = ("cpf", "cnpj", "cpf_cnpj", "document", "phone")


def _consent_word(v: str) -> str:
    folded = "".join(ch for ch in unicodedata.normalize("NFKD", v) if not unicodedata.combining(ch))
    return re.sub(r"\s+", "", folded.lower())


def _refuted(kind: str, typ: str, values: Sequence[str]) -> bool:
    """Does the column's type or content contradict what its name says?"""
    t = typ.upper()
    if t == "BOOLEAN":
        return True
    if t in _INTEGER_TYPES or t.startswith(("DECIMAL", "DOUBLE", "FLOAT")):
        return kind not in _NUMERIC_KINDS
    if t.startswith(("DATE", "TIMESTAMP", "TIME")):
        return kind != "birth_date"
    if not values:
        return False
    flags = sum(1 for v in values if _consent_word(v) in _CONSENT_WORDS)
    if flags >= CONTENT_SHARE * len(values):
        return True  # yes/no answers: a flag about the data, not the data
    if kind == "name":  # Shopify's "Name" is the order number (#1001)
        wordy = sum(1 for v in values if re.search(r"[^\W\d_]", v) and not re.search(r"\d", v))
        return wordy < 0.5 * len(values)
    return False


def _cpf_value(v: str, integer: bool) -> bool:
    if integer and v.isdigit() and 9 <= len(v) < 11:
        v = v.zfill(11)  # a CPF stored as a number lost its leading zeros
    return is_valid_cpf(v)


def _cnpj_value(v: str, integer: bool) -> bool:
    if integer and v.isdigit() and 12 <= len(v) < 14:
        v = v.zfill(14)
    return is_valid_cnpj(v)


def content_kind(values: Sequence[str], typ: str = "VARCHAR") -> tuple[str, str] | None:
    """(kind, reason) when most sampled values look personal, else None."""
    vals = [v.strip() for v in values if v is not None and v.strip()]
    if not vals:
        return None
    t = typ.upper()
    integer = t in _INTEGER_TYPES
    if not (integer or t == "VARCHAR"):
        return None
    tests: list[tuple[str, str, Any]] = [
        ("cpf", "CPF numbers (valid check digits)", lambda v: _cpf_value(v, integer)),
        ("cnpj", "CNPJ numbers (valid check digits)", lambda v: _cnpj_value(v, integer)),
    ]
    if not integer:
        tests += [
            ("email", "e-mail addresses", looks_like_email),
            ("phone", "phone numbers", looks_like_phone),
            ("address", "CEP postal codes", lambda v: _CEP.fullmatch(v) is not None),
        ]
    n = len(vals)
    best: tuple[int, str, str] | None = None
    for kind, what, test in tests:
        hits = sum(1 for v in vals if test(v))
        if hits >= CONTENT_SHARE * n and hits >= min(3, n) and (best is None or hits > best[0]):
            best = (hits, kind, what)
    if best is None:
        return None
    hits, kind, what = best
    return kind, f"{math.floor(100 * hits / n)}% of {n} sampled values look like {what}"


def detect_personal_columns(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    columns: list[str] | None = None,
    *,
    sample_rows: int = SAMPLE_ROWS,
) -> list[PersonalColumn]:
    """The columns of ``relation`` (a table or view name, or a parenthesised query written
    by clientela, never user text) that look personal, in column order.

    ``columns`` restricts the check to those columns (names as in the relation). The
    content check reads the first ``sample_rows`` rows.
    """
    described = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    types = {str(r[0]): str(r[1]) for r in described}
    wanted = list(types) if columns is None else [c for c in types if c in set(columns)]
    if not wanted:
        return []
    select = ", ".join(f"CAST({quote_ident(c)} AS VARCHAR)" for c in wanted)
    rows = con.execute(f"SELECT {select} FROM {relation} LIMIT {int(sample_rows)}").fetchall()
    found: list[PersonalColumn] = []
    for i, col in enumerate(wanted):
        values = [str(r[i]) for r in rows if r[i] is not None and str(r[i]).strip()]
        by_name = name_kind(col)
        if by_name is not None and not _refuted(by_name[0], types[col], values):
            found.append(PersonalColumn(col, by_name[0], by_name[1], "name"))
            continue
        if by_name is not None:
            continue  # the name says personal, the values say it is a flag or a count
        by_values = content_kind(values, types[col])
        if by_values is not None:
            found.append(PersonalColumn(col, by_values[0], by_values[1], "values"))
    return found


# ------------------------------------------------------------------------------- key


def load_key(env: Mapping[str, str] | None = None) -> bytes:
    """The pseudonymisation key: the text of ``CLIENTELA_PSEUDONYM_KEY`` (UTF-8), or the
    bytes of the file named by ``CLIENTELA_PSEUDONYM_KEY_FILE`` (one trailing newline
    dropped). At least 16 bytes. Problems are a one-line :class:`UsageError`; the message
    never contains the key.
    """
    env = os.environ if env is None else env
    how = (
        f"set {KEY_ENV} to a secret of at least {MIN_KEY_BYTES} characters, or "
        f"{KEY_FILE_ENV} to a file holding it (e.g. from: openssl rand -hex 32)"
    )
    text = env.get(KEY_ENV) or ""
    path = env.get(KEY_FILE_ENV) or ""
    if text and path:
        raise UsageError(f"both {KEY_ENV} and {KEY_FILE_ENV} are set; unset one of them")
    if path:
        try:
            key = Path(path).read_bytes()
        except OSError as e:
            raise UsageError(
                f"{KEY_FILE_ENV}={path}: cannot read the key file ({e.strerror}); {how}"
            ) from None
        if key.endswith(b"\r\n"):
            key = key[:-2]
        elif key.endswith(b"\n"):
            key = key[:-1]
        where = f"the key file {path}"
    elif text:
        key = text.encode("utf-8")
        where = KEY_ENV
    else:
        raise UsageError(f"pseudonymisation needs a key: {how}")
    if not key.strip():
        raise UsageError(f"{where} is empty; {how}")
    if len(key) < MIN_KEY_BYTES:
        raise UsageError(
            f"{where} holds a key of {len(key)} bytes; use at least {MIN_KEY_BYTES} ({how})"
        )
    return key


# ---------------------------------------------------------------------- pseudonyms

_BLOCK = 64  # SHA-256 block size (RFC 2104: B)
KEY_TABLE = "_clientela_pseudonym_key"


def _pads(key: bytes) -> tuple[bytes, bytes]:
    """RFC 2104: the key padded to one block, XOR ipad (0x36) and XOR opad (0x5c)."""
    k0 = hashlib.sha256(key).digest() if len(key) > _BLOCK else key
    k0 = k0.ljust(_BLOCK, b"\x00")
    return bytes(b ^ 0x36 for b in k0), bytes(b ^ 0x5C for b in k0)


def pseudonym(key: bytes, customer_id: str) -> str:
    """HMAC-SHA256(key, normalised id) in lowercase hex: what :func:`pseudonymize_sql`
    puts in place of ``customer_id`` (use it to find one customer in a pseudonymised report)."""
    return hmac.new(key, normalize_id(customer_id).encode("utf-8"), hashlib.sha256).hexdigest()


def install_key(con: duckdb.DuckDBPyConnection, key: bytes) -> None:
    """Store the key's HMAC pads in the connection's TEMP table (bound, never in SQL text)."""
    inner, outer = _pads(key)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {KEY_TABLE} (inner_pad BLOB, outer_pad BLOB)")
    con.execute(f"INSERT INTO {KEY_TABLE} VALUES (?, ?)", [inner, outer])


def hmac_sql(expr: str) -> str:
    """SQL computing HMAC-SHA256 (lowercase hex) of the normalised text of ``expr`` with the
    key installed by :func:`install_key`. NULL stays NULL."""
    message = f"encode({normalize_id_sql(expr)})"
    inner = f"unhex(sha256((SELECT inner_pad FROM {KEY_TABLE}) || {message}))"
    return f"sha256((SELECT outer_pad FROM {KEY_TABLE}) || {inner})"


def pseudonymize_sql(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    key: bytes,
    columns: Sequence[str] = ("customer_id",),
    *,
    params: Sequence[Any] | None = None,
) -> str:
    """A query returning the rows of ``sql`` with each of ``columns`` that its result has
    replaced by :func:`pseudonym` values (VARCHAR, same position and name).

    ``params`` are the values of ``sql``'s placeholders (needed only to find its
    columns); the returned SQL has the same placeholders, in the same order. The key goes
    into a TEMP table of ``con``; run the returned query on that connection.
    """
    body = sql.strip().rstrip(";").strip()
    names = [str(d[0]) for d in con.execute(f"DESCRIBE {body}", list(params or [])).fetchall()]
    by_lower = {n.lower(): n for n in names}
    present = []
    for c in columns:
        name = c if c in names else by_lower.get(c.lower())
        if name is not None and name not in present:
            present.append(name)
    if not present:
        return body
    install_key(con, key)
    replaced = ", ".join(f"{hmac_sql(quote_ident(c))} AS {quote_ident(c)}" for c in present)
    return f"SELECT * REPLACE ({replaced}) FROM ({body}) AS _pseudonymized"


# -------------------------------------------------------------------------- consent

CONSENT_YES: tuple[str, ...] = ("yes", "y", "sim", "s", "true", "t", "1", "1.0")
CONSENT_NO: tuple[str, ...] = ("no", "n", "nao", "false", "f", "0", "0.0")


def _consent_key_sql(expr: str) -> str:
    return f"regexp_replace(lower(strip_accents(CAST({expr} AS VARCHAR))), '\\s+', '', 'g')"


def consent_sql(expr: str) -> str:
    """A BOOLEAN SQL expression for the consent value ``expr`` (a SQL expression, e.g. a
    quoted column): TRUE for yes/y/sim/s/true/t/1, FALSE for no/n/não/nao/false/f/0 (case,
    accents and spaces ignored), NULL for NULL, empty and anything else — check a column
    with :func:`check_consent_column` first so that "anything else" is an error."""
    k = _consent_key_sql(expr)
    yes = ", ".join(f"'{w}'" for w in CONSENT_YES)
    no = ", ".join(f"'{w}'" for w in CONSENT_NO)
    return f"(CASE WHEN {k} IN ({yes}) THEN TRUE WHEN {k} IN ({no}) THEN FALSE ELSE NULL END)"


def unrecognised_consent_values(
    con: duckdb.DuckDBPyConnection, relation: str, column: str, limit: int = 3
) -> tuple[int, list[str]]:
    """How many rows of ``relation`` hold a non-empty consent value that
    :func:`consent_sql` does not understand, and up to ``limit`` distinct examples."""
    q = quote_ident(column)
    k = _consent_key_sql(q)
    known = ", ".join(f"'{w}'" for w in (*CONSENT_YES, *CONSENT_NO, ""))
    where = f"{q} IS NOT NULL AND {k} NOT IN ({known})"
    row = con.execute(f"SELECT count(*) FROM {relation} WHERE {where}").fetchone()
    n = int(row[0]) if row else 0
    if n == 0:
        return 0, []
    examples = con.execute(
        f"SELECT DISTINCT CAST({q} AS VARCHAR) AS v FROM {relation} WHERE {where} "
        f"ORDER BY v LIMIT {int(limit)}"
    ).fetchall()
    return n, [str(r[0]) for r in examples]


def check_consent_column(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    column: str,
    *,
    source: str,
    flag: str = "--consent-col",
) -> None:
    """Raise :class:`InputDataError` naming ``source`` (the file), the column and examples
    when the consent column holds values other than yes/no answers."""
    n, examples = unrecognised_consent_values(con, relation, column)
    if n:
        shown = ", ".join(repr(e[:30]) for e in examples)
        raise InputDataError(
            f"{source}: consent column {column!r} has {n} value{'s' if n != 1 else ''} that "
            f"are not yes/no answers ({shown}); use yes/no, sim/não, true/false or 1/0 "
            f"(empty = no answer), or name another column with {flag}"
        )
