"""Personal-data detection, CPF/CNPJ validators, keyed pseudonyms and consent values."""

from __future__ import annotations

import hashlib
import hmac
import random
import re
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientela.errors import InputDataError, UsageError
from clientela.pii import (
    KEY_TABLE,
    check_consent_column,
    consent_sql,
    detect_personal_columns,
    is_valid_cnpj,
    is_valid_cpf,
    load_key,
    looks_like_phone,
    name_kind,
    pseudonym,
    pseudonymize_sql,
    unrecognised_consent_values,
)

# ----------------------------------------------- independent check-digit implementations


def cpf_with_check_digits(nine: str) -> str:
    """The textbook rule: weights n+1..2, digit = 11 - sum mod 11, 10 and 11 give 0."""
    digits = [int(c) for c in nine]
    for _ in range(2):
        total = sum(w * d for w, d in zip(range(len(digits) + 1, 1, -1), digits, strict=True))
        rest = 11 - total % 11
        digits.append(0 if rest >= 10 else rest)
    return "".join(str(d) for d in digits)


CNPJ_W1 = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]
CNPJ_W2 = [6, *CNPJ_W1]


def cnpj_with_check_digits(twelve: str) -> str:
    """Receita Federal's rule; characters count as their ASCII code minus 48."""
    values = [ord(c) - 48 for c in twelve]
    for weights in (CNPJ_W1, CNPJ_W2):
        rest = sum(w * v for w, v in zip(weights, values, strict=True)) % 11
        values.append(0 if rest < 2 else 11 - rest)
    return twelve + "".join(str(v) for v in values[12:])


def fmt_cpf(d: str) -> str:
    return f"{d[:3]}.{d[3:6]}.{d[6:9]}-{d[9:]}"


def fmt_cnpj(d: str) -> str:
    return f"{d[:2]}.{d[2:5]}.{d[5:8]}/{d[8:12]}-{d[12:]}"


def test_reference_generators_agree_with_published_examples() -> None:
    assert cpf_with_check_digits("529982247") == "52998224725"
    assert cnpj_with_check_digits("112223330001") == "11222333000181"
    assert cnpj_with_check_digits("12ABC34501DE") == "12ABC34501DE35"  # Receita's example


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_valid_cpfs_are_accepted_and_altered_ones_refused(nine: str) -> None:
    cpf = cpf_with_check_digits(nine)
    if len(set(cpf)) == 1:
        assert not is_valid_cpf(cpf)  # 000.000.000-00 and friends are placeholders
        return
    assert is_valid_cpf(cpf) and is_valid_cpf(fmt_cpf(cpf)) and is_valid_cpf(f" {cpf} ")
    for pos in (9, 10):
        wrong = cpf[:pos] + str((int(cpf[pos]) + 1) % 10) + cpf[pos + 1 :]
        assert not is_valid_cpf(wrong)
    assert not is_valid_cpf(cpf[:-1])
    assert not is_valid_cpf(cpf + "0")


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_valid_cnpjs_are_accepted_and_altered_ones_refused(twelve: str) -> None:
    cnpj = cnpj_with_check_digits(twelve)
    if len(set(cnpj)) == 1:
        return
    assert is_valid_cnpj(cnpj) and is_valid_cnpj(fmt_cnpj(cnpj))
    wrong = cnpj[:13] + str((int(cnpj[13]) + 1) % 10)
    assert not is_valid_cnpj(wrong)
    assert not is_valid_cpf(cnpj)


@given(st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=12, max_size=12))
def test_alphanumeric_cnpj(twelve: str) -> None:
    cnpj = cnpj_with_check_digits(twelve)
    assert is_valid_cnpj(cnpj) == (len(set(cnpj)) > 1)
    assert is_valid_cnpj(fmt_cnpj(cnpj)) == (len(set(cnpj)) > 1)


@pytest.mark.parametrize(
    "text",
    ["111.111.111-11", "000.000.000-00", "529.982.247-24", "529982247-25", "5299822472",
     "52998224725a", "", "abc.def.ghi-jk", "529 982 247 25"],
)  # fmt: skip
def test_invalid_cpfs(text: str) -> None:
    assert not is_valid_cpf(text)


@pytest.mark.parametrize(
    "text", ["11.222.333/0001-82", "11222333000180", "00.000.000/0000-00", "1122233300018",
             "12.ABC.345/01DE-3A", "11-222-333-0001-81"],
)  # fmt: skip
def test_invalid_cnpjs(text: str) -> None:
    assert not is_valid_cnpj(text)


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("(11) 98765-4321", True), ("+55 11 98765-4321", True), ("11987654321", True),
        ("5511987654321", True), ("(21) 3456-7890", True), ("021 3456-7890", True),
        ("+1 415 555 0100", True), ("+44 20 7946 0958", True),
        ("1123456789", False),  # bare 10 digits: could be anything
        ("(10) 98765-4321", False),  # no area code 10
        ("11887654321", False),  # 11 digits must be a mobile (9 after the area code)
        ("2025-01-01", False), ("01/02/2025", False), ("1.234,56", False), ("123", False),
        ("529.982.247-25", False), ("ana@x.com", False), ("(11) 9876-54321 ramal 2", False),
    ],
)  # fmt: skip
def test_phone_numbers(text: str, ok: bool) -> None:
    assert looks_like_phone(text) is ok


# -------------------------------------------------------------------- detection by name


@pytest.mark.parametrize(
    ("column", "kind"),
    [
        ("email", "email"), ("E-mail", "email"), ("Billing Email", "email"),
        ("email_do_cliente", "email"), ("customerEmail", "email"), ("Correio eletrônico", "email"),
        ("telefone", "phone"), ("Celular", "phone"), ("whatsapp", "phone"),
        ("Phone Number", "phone"), ("tel_residencial", "phone"), ("fone", "phone"),
        ("cpf", "cpf"), ("CPF do Cliente", "cpf"), ("cnpj", "cnpj"), ("CPF/CNPJ", "cpf_cnpj"),
        ("documento", "document"), ("RG", "document"),
        ("nome", "name"), ("Nome Completo", "name"), ("first_name", "name"),
        ("LastName", "name"), ("Billing Name", "name"), ("razão_social", "name"),
        ("sobrenome", "name"), ("nome_cliente", "name"),
        ("endereço", "address"), ("Billing Address1", "address"), ("logradouro", "address"),
        ("rua", "address"), ("CEP", "address"), ("Shipping Zip", "address"),
        ("zip_code", "address"), ("complemento", "address"),
        ("data_nascimento", "birth_date"), ("Data de Nascimento", "birth_date"),
        ("birth_date", "birth_date"), ("DOB", "birth_date"), ("birthday", "birth_date"),
        ("ip", "ip_address"), ("ip_address", "ip_address"),
    ],
)  # fmt: skip
def test_personal_column_names(column: str, kind: str) -> None:
    found = name_kind(column)
    assert found is not None and found[0] == kind, (column, found)


@pytest.mark.parametrize(
    "column",
    [
        "customer_id", "cliente", "id_cliente", "order_id", "pedido", "valor_total", "amount",
        "uf", "estado", "state", "cidade", "Shipping City", "Billing Province", "país",
        "product_name", "nome_produto", "Lineitem name", "store_name", "category",
        "email_opt_in", "Accepts Email Marketing", "aceita_email", "email_verified",
        "tipo_documento", "phone_type", "mobile_app", "smartphone_model", "hotel", "status",
        "data_pedido", "created_at", "channel", "sku", "quantity", "total", "notes",
        "Shipping Province Name", "bairro",
    ],
)  # fmt: skip
def test_not_personal_column_names(column: str) -> None:
    assert name_kind(column) is None, column


# ---------------------------------------------------------------- detection on content


def _con(columns: dict[str, list[object]]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    table = pa.table(columns)
    con.register("src", table)
    con.execute("CREATE TABLE t AS SELECT * FROM src")
    return con


def _valid_cpfs(n: int, rng: random.Random) -> list[str]:
    return [fmt_cpf(cpf_with_check_digits(f"{rng.randrange(10**9):09d}")) for _ in range(n)]


def test_unnamed_columns_detected_by_content() -> None:
    rng = random.Random(1)
    n = 200
    emails = [f"user{i}@example.com.br" for i in range(n)]
    cpfs = _valid_cpfs(n, rng)
    phones = [f"(11) 9{rng.randrange(10**4):04d}-{rng.randrange(10**4):04d}" for _ in range(n)]
    cnpjs = [cnpj_with_check_digits(f"{rng.randrange(10**12):012d}") for _ in range(n)]
    ceps = [f"{rng.randrange(10**5):05d}-{rng.randrange(1000):03d}" for _ in range(n)]
    con = _con({"col1": emails, "col2": cpfs, "col3": phones, "col4": cnpjs, "col5": ceps,
                "customer_id": emails, "col6": [str(i) for i in range(n)]})  # fmt: skip
    found = {p.name: p for p in detect_personal_columns(con, "t")}
    assert {k: p.kind for k, p in found.items()} == {
        "col1": "email", "col2": "cpf", "col3": "phone", "col4": "cnpj", "col5": "address",
        "customer_id": "email",
    }  # fmt: skip
    assert (
        found["col2"].reason
        == "100% of 200 sampled values look like CPF numbers (valid check digits)"
    )
    assert found["col1"].basis == "values"
    assert detect_personal_columns(con, "t", ["col6", "col2"]) == [found["col2"]]


def test_share_threshold_and_invalid_check_digits() -> None:
    rng = random.Random(2)
    valid = _valid_cpfs(92, rng)
    wrong = [c[:-1] + str((int(c[-1]) + 1) % 10) for c in _valid_cpfs(100, rng)]
    con = _con({"a": valid + wrong[:8], "b": valid[:50] + wrong[:50], "c": wrong})
    found = detect_personal_columns(con, "t")
    assert [(p.name, p.reason) for p in found] == [
        ("a", "92% of 100 sampled values look like CPF numbers (valid check digits)")
    ]


def test_customer_id_is_not_personal_unless_its_values_are() -> None:
    con = _con({"customer_id": ["0001", "0002", "0003", "C-77"], "cliente": ["1", "2", "3", "4"]})
    assert detect_personal_columns(con, "t") == []
    con = _con({"customer_id": _valid_cpfs(10, random.Random(3))})
    assert [p.kind for p in detect_personal_columns(con, "t")] == ["cpf"]


def test_no_false_positives_on_ordinary_export_columns() -> None:
    rng = random.Random(4)
    n = 300
    con = _con(
        {
            "uf": [rng.choice(["SP", "RJ", "MG", "RS", "BA", "PR"]) for _ in range(n)],
            "produto": [rng.choice(["Camiseta Azul", "Tênis Corrida 42", "Caneca 300ml"])
                        for _ in range(n)],
            "order_id": [str(10_000_000_000 + i) for i in range(n)],
            "pedido": [f"{rng.randrange(10**11):011d}" for _ in range(n)],
            "gtin": [f"{rng.randrange(10**14):014d}" for _ in range(n)],
            "valor": [f"{rng.randrange(1, 9999)},{rng.randrange(100):02d}" for _ in range(n)],
            "data_pedido": [f"{rng.randrange(1, 29):02d}/02/2025" for _ in range(n)],
            "hora": [f"{rng.randrange(24):02d}:{rng.randrange(60):02d}" for _ in range(n)],
            "Name": [f"#{1000 + i}" for i in range(n)],  # Shopify's order number column
            "email_opt_in": [rng.choice(["sim", "não"]) for _ in range(n)],
            "email": [rng.choice(["yes", "no"]) for _ in range(n)],  # a flag, not addresses
            "telefone": [rng.random() < 0.5 for _ in range(n)],  # BOOLEAN: has a phone
            "quantity": [rng.randrange(1, 5) for _ in range(n)],
            "order_number": [rng.randrange(10**10, 10**11) for _ in range(n)],
            "sku": [f"SKU-{rng.randrange(10**6):06d}" for _ in range(n)],
            "status": [rng.choice(["pago", "cancelado", "enviado"]) for _ in range(n)],
            "customer_id": [f"{rng.randrange(10**6):06d}" for _ in range(n)],
        }
    )  # fmt: skip
    assert detect_personal_columns(con, "t") == []


def test_named_columns_detected_with_reason() -> None:
    con = _con({"Nome do Cliente": ["Ana Souza", "João Silva"], "E-mail": ["a@x.com", ""],
                "whatsapp": ["(11) 98888-7777", None], "cidade": ["Recife", "Natal"],
                "data_nascimento": ["1990-01-02", "1985-12-31"]})  # fmt: skip
    found = detect_personal_columns(con, "t")
    assert [(p.name, p.kind, p.reason, p.basis) for p in found] == [
        ("Nome do Cliente", "name", "name matches 'name'", "name"),
        ("E-mail", "email", "name matches 'e-mail'", "name"),
        ("whatsapp", "phone", "name matches 'phone'", "name"),
        ("data_nascimento", "birth_date", "name matches 'birth date'", "name"),
    ]
    assert found[0].to_dict()["kind"] == "name"


# ---------------------------------------------------------------------------------- key


def test_load_key_from_text_and_file(tmp_path: Path) -> None:
    assert load_key({"CLIENTELA_PSEUDONYM_KEY": "s3cret-s3cret-s3cret"}) == b"s3cret-s3cret-s3cret"
    f = tmp_path / "key"
    f.write_bytes(b"0123456789abcdef0123\n\n")
    assert load_key({"CLIENTELA_PSEUDONYM_KEY_FILE": str(f)}) == b"0123456789abcdef0123\n"
    f.write_bytes(b"\x00\xffbinary-key-bytes!!\r\n")
    assert load_key({"CLIENTELA_PSEUDONYM_KEY_FILE": str(f)}) == b"\x00\xffbinary-key-bytes!!"


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({}, "CLIENTELA_PSEUDONYM_KEY"),
        ({"CLIENTELA_PSEUDONYM_KEY": ""}, "CLIENTELA_PSEUDONYM_KEY_FILE"),
        ({"CLIENTELA_PSEUDONYM_KEY": "short-key"}, "at least 16"),
        ({"CLIENTELA_PSEUDONYM_KEY": " " * 20}, "empty"),
        ({"CLIENTELA_PSEUDONYM_KEY_FILE": "/nonexistent/key"}, "/nonexistent/key"),
        ({"CLIENTELA_PSEUDONYM_KEY": "a" * 20, "CLIENTELA_PSEUDONYM_KEY_FILE": "/k"}, "unset one"),
    ],
)
def test_load_key_errors(env: dict[str, str], needle: str) -> None:
    with pytest.raises(UsageError) as e:
        load_key(env)
    msg = e.value.message
    assert needle in msg and "\n" not in msg
    assert "short-key" not in msg  # never the key itself
    assert not re.search(r"--\w*key", msg)  # never a command-line option for the key


# --------------------------------------------------------------------------- pseudonyms


def reference_normalise(text: str) -> str:
    """Trim like str.strip(); e-mails lower-cased the way DuckDB's lower() does."""
    text = text.strip()
    if "@" not in text:
        return text
    return "".join("i" if ch == "İ" else ch.lower() for ch in text)


def reference_hmac(key: bytes, text: str) -> str:
    return hmac.new(key, reference_normalise(text).encode(), hashlib.sha256).hexdigest()


_chars = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
_core = st.one_of(
    st.text(_chars, max_size=25),
    st.builds(lambda a, b: f"{a}@{b}", st.text(_chars, min_size=1, max_size=12),
              st.text(_chars, min_size=1, max_size=12)),
    st.sampled_from(["007", "ANA@Example.COM", "İSTANBUL@x.tr", "ΑΣ@x.gr", "josé"]),
)  # fmt: skip
_SHARED = duckdb.connect()  # one connection for every example: also checks key replacement
_pad = st.sampled_from(["", " ", "\t", "\u00a0", "\u3000", "\n", " \r\n"])
_ids = st.builds(lambda a, b, c: a + b + c, _pad, _core, _pad)


@settings(max_examples=60, deadline=None)
@given(st.lists(_ids, min_size=1, max_size=25), st.binary(min_size=16, max_size=150))
def test_pseudonyms_in_sql_equal_python_hmac(ids: list[str], key: bytes) -> None:
    con = _SHARED
    con.execute("CREATE OR REPLACE TABLE ids (i INTEGER, customer_id VARCHAR)")
    con.execute("INSERT INTO ids SELECT unnest(?), unnest(?)", [list(range(len(ids))), ids])
    sql = pseudonymize_sql(con, "SELECT i, customer_id FROM ids ORDER BY i", key)
    got = [r[1] for r in con.execute(sql).fetchall()]
    assert got == [reference_hmac(key, x) for x in ids]
    assert got == [pseudonym(key, x) for x in ids]
    assert key.hex() not in sql and KEY_TABLE in sql
    if key.isascii():
        assert key.decode() not in sql


def test_pseudonyms_stable_across_connections_and_keyed() -> None:
    key, other = b"weekly-report-key-2025", b"another-key-entirely!"
    values = []
    for k in (key, key, other):
        con = duckdb.connect()
        con.execute("CREATE TABLE o AS SELECT * FROM (VALUES ('0042', 1), ('ana@x.com', 2)) "
                    "v(customer_id, n)")  # fmt: skip
        values.append(con.execute(pseudonymize_sql(con, "SELECT * FROM o", k)).fetchall())
    assert values[0] == values[1]
    assert [r[0] for r in values[0]] != [r[0] for r in values[2]]
    assert all(re.fullmatch(r"[0-9a-f]{64}", r[0]) for r in values[0])
    assert [r[1] for r in values[0]] == [1, 2]  # other columns untouched


def test_pseudonymize_sql_keeps_shape_params_and_nulls() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE o AS SELECT * FROM (VALUES (1, 42, 'x'), (2, NULL, 'y')) "
                "v(n, Customer_ID, email)")  # fmt: skip
    key = b"k" * 16
    sql = pseudonymize_sql(con, "SELECT * FROM o WHERE n >= ?;", key, params=[1])
    cur = con.execute(sql, [1])
    assert [d[0] for d in cur.description] == ["n", "Customer_ID", "email"]
    rows = cur.fetchall()
    assert rows == [(1, pseudonym(key, "42"), "x"), (2, None, "y")]
    plain = "SELECT n FROM o"
    assert pseudonymize_sql(con, plain, key) == plain  # nothing to replace
    both = pseudonymize_sql(con, "SELECT * FROM o", key, ("customer_id", "email"))
    assert con.execute(both).fetchall()[0][2] == pseudonym(key, "x")


# ------------------------------------------------------------------------------ consent


def test_consent_values() -> None:
    con = duckdb.connect()
    values = ["yes", "No", " SIM ", "não", "nao", "NÃO", "true", "False", "1", "0", "y", "n",
              "s", "t", "f", "S", "", None, "Y e s"]  # fmt: skip
    expected = [True, False, True, False, False, False, True, False, True, False, True, False,
                True, True, False, True, None, None, True]  # fmt: skip
    con.execute("CREATE TABLE c2 AS SELECT * FROM (SELECT unnest(?) AS consent, "
                "unnest(range(?)) AS i)", [values, len(values)])  # fmt: skip
    got = [
        r[0] for r in con.execute(f"SELECT {consent_sql('consent')} FROM c2 ORDER BY i").fetchall()
    ]
    assert got == expected
    assert unrecognised_consent_values(con, "c2", "consent") == (0, [])
    check_consent_column(con, "c2", "consent", source="crm.csv")
    typed = con.execute(f"SELECT {consent_sql('x')} FROM (VALUES (true), (false), (NULL)) v(x)")
    assert [r[0] for r in typed.fetchall()] == [True, False, None]


def test_unrecognised_consent_values_are_an_error_naming_file_and_column() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE c AS SELECT * FROM (VALUES ('sim'), ('talvez'), ('N/A'), "
                "('talvez'), ('')) v(\"Aceita Contato\")")  # fmt: skip
    assert unrecognised_consent_values(con, "c", "Aceita Contato") == (3, ["N/A", "talvez"])
    with pytest.raises(InputDataError) as e:
        check_consent_column(con, "c", "Aceita Contato", source="crm.csv")
    msg = e.value.message
    assert msg.startswith("crm.csv: consent column 'Aceita Contato' has 3 values")
    assert "'talvez'" in msg and "--consent-col" in msg
