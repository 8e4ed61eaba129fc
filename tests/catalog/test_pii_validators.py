"""The value validators and name hints behind PII classification, one kind at a time."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import luhn

from steward.catalog import validators as v
from steward.catalog.classify import PII_TAGS, tags_allowed_by_type
from steward.catalog.pii_names import name_hints, name_refuses, name_tokens

TODAY = date(2025, 6, 1)


@pytest.mark.parametrize(
    "text",
    ["a@example.com", "first.last+tag@mail.example.co.uk", "zoë@example.com", "x@münchen.de"],
)
def test_valid_email_addresses(text: str) -> None:
    assert v.is_email(text)
    assert v.is_email(f"  {text} ".encode())


@pytest.mark.parametrize(
    "value",
    [
        "a@b",  # no dotted domain
        "a@b.c",  # one-letter TLD
        "a@example.123",  # numeric TLD
        "a..b@example.com",
        ".a@example.com",
        "a b@example.com",
        "a@@example.com",
        "a@-example.com",
        "a@example-.com",
        "x" * 65 + "@example.com",
        "Ana <a@example.com>",
        "mailto:a@example.com",
        True,
        1,
        b"\xff@example.com",
    ],
)
def test_invalid_email_addresses(value: object) -> None:
    assert not v.is_email(value)


def test_phone_numbers_follow_the_numbering_plan() -> None:
    assert v.is_phone("+1 415 555 2671", region=None)
    assert v.is_phone("+44 20 7946 0958", region=None)
    assert v.is_phone("(415) 555-2671", region="US")
    assert v.is_phone("415-555-2671 ext. 12", region="US")
    assert not v.is_phone("(415) 555-2671", region=None)  # national needs a region
    assert not v.is_phone("+1 123 456 7890", region=None)  # no such US area code
    assert not v.is_phone("+44 7700 900123", region=None)  # Ofcom's drama range
    assert not v.is_phone(4155552671, region="US")
    assert not v.is_phone("call +1 415 555 2671", region=None)
    assert not v.is_phone("+1 415 555 2671 or 2672", region=None)


def test_payment_cards_need_issuer_length_and_luhn() -> None:
    assert v.is_payment_card("4111 1111 1111 1111")
    assert v.is_payment_card("5555-5555-5555-4444")
    assert v.is_payment_card("378282246310005")  # Amex, 15 digits
    assert v.is_payment_card(4111111111111111)
    assert v.is_payment_card(Decimal("4111111111111111"))
    assert not v.is_payment_card("4111111111111112")  # Luhn
    assert not v.is_payment_card("1111111111111117")  # Luhn-valid, no issuer starts with 1
    assert not v.is_payment_card("411111111111116")  # Visa has no 15-digit cards
    assert not v.is_payment_card("4111.1111.1111.1111")
    assert not v.is_payment_card(4111111111111111.0)
    assert not v.is_payment_card(True)


@settings(database=None, deadline=None)
@given(
    prefix=st.sampled_from(["4", "51", "2221", "6011", "3530"]),
    body=st.text(alphabet="0123456789", min_size=20, max_size=20),
    wrong=st.integers(1, 9),
)
def test_only_the_right_luhn_digit_makes_a_card(prefix: str, body: str, wrong: int) -> None:
    number = (prefix + body)[:15]
    check = luhn.calc_check_digit(number)
    assert v.is_payment_card(number + check)
    assert not v.is_payment_card(number + str((int(check) + wrong) % 10))


def test_ibans_need_the_mod_97_checksum() -> None:
    assert v.is_iban("GB82 WEST 1234 5698 7654 32")
    assert v.is_iban("de89370400440532013000")
    assert not v.is_iban("GB83 WEST 1234 5698 7654 32")
    assert not v.is_iban("GB82 WEST 1234 5698 7654 3")  # the UK length is 22
    assert not v.is_iban("1234567890")
    assert not v.is_iban(1234567890)


def test_ip_addresses() -> None:
    for address in ["192.0.2.1", "10.0.0.255", "2001:db8::8a2e:370:7334", "::1"]:
        assert v.is_ip_address(address)
    for value in ["1.2.3", "01.2.3.4", "256.1.1.1", "1.2.3.4.5", "7", 7, 3232235777, "abc::g"]:
        assert not v.is_ip_address(value)


def test_ssn_issuing_rules() -> None:
    assert v.is_ssn("536-90-4399", dashed_only=True)
    assert v.is_ssn("536904399", dashed_only=False)
    assert v.is_ssn(12345678, dashed_only=False)  # 012-34-5678 stored as a number
    assert not v.is_ssn("536904399", dashed_only=True)
    for never in ["000-12-3456", "666-12-3456", "900-12-3456", "123-00-4567", "123-45-0000"]:
        assert not v.is_ssn(never, dashed_only=False)
    assert not v.is_ssn("078-05-1120", dashed_only=False)  # the Woolworth wallet card
    assert not v.is_ssn("536-904-399", dashed_only=False)


def test_uk_national_insurance_numbers_follow_hmrc_allocation_rules() -> None:
    for number in ["JG103759A", "JG 10 37 59 A", "ce 12 34 56 d", "AB123456C"]:
        assert v.is_uk_national_insurance_number(number)
    for never in [
        "DA123456A",  # D is never a first letter
        "AO123456A",  # O is never a second letter
        "GB123456A",  # unallocated prefix
        "ZZ123456A",
        "JG103759E",  # suffix beyond D
        "JG10375A",  # five digits
        "",
        123456,
    ]:
        assert not v.is_uk_national_insurance_number(never)


def test_dates_of_birth_lie_in_a_plausible_past() -> None:
    for born in [date(1980, 5, 17), datetime(1999, 1, 1, 0, 0), "1970-01-31", "12/31/1985"]:
        assert v.is_date_of_birth(born, today=TODAY)
    assert v.is_date_of_birth("31.12.1985", today=TODAY)
    assert v.is_date_of_birth("1985-12-31T00:00:00Z", today=TODAY)
    for not_born in [date(1899, 1, 1), date(2025, 6, 2), "next tuesday", 19800517, "1980"]:
        assert not v.is_date_of_birth(not_born, today=TODAY)
    assert v.is_date_of_birth(date(1924, 2, 29), today=date(2049, 2, 28))


def test_person_names() -> None:
    for name in ["Ana", "Jean-Luc Picard", "Siobhán O'Brien", "J. R. R. Tolkien", "Nguyễn Văn A"]:
        assert v.is_person_name(name)
    for not_name in [
        "",
        "   ",
        "user42",
        "a@example.com",
        "R2-D2",
        "--",
        "one two three four five six seven",
    ]:
        assert not v.is_person_name(not_name)


def test_name_tokens_split_every_convention() -> None:
    assert name_tokens("customerEmail") == ["customer", "email"]
    assert name_tokens("IPAddress") == ["ip", "address"]
    assert name_tokens("E-Mail") == ["e", "mail"]
    assert name_tokens("date_of_birth") == ["date", "of", "birth"]


@pytest.mark.parametrize(
    ("name", "tags"),
    [
        ("customer_email", {"pii.email"}),
        ("E-Mail", {"pii.email"}),
        ("phoneNumber", {"pii.phone"}),
        ("credit_card_number", {"pii.payment_card"}),
        ("client_ip", {"pii.ip_address"}),
        ("date_of_birth", {"pii.date_of_birth"}),
        ("card_holder_name", {"pii.person_name"}),
        ("email_opt_in", set()),
        ("email_verified", set()),
        ("is_email_valid", set()),
        ("phone_count", set()),
        ("card_type", set()),
        ("card_last4", set()),
        ("ip_allowlist_enabled", set()),
        ("birth_country", set()),
        ("zip", set()),
        ("shipping_address", set()),
        ("name", set()),
        ("product_name", set()),
    ],
)
def test_what_a_name_supports(name: str, tags: set[str]) -> None:
    assert name_hints(name) == tags


def test_what_a_name_refuses() -> None:
    assert name_refuses("order_id") == {"pii.phone", "pii.ssn"}
    assert name_refuses("app_version") == {"pii.ip_address"}
    assert name_refuses("part_sku") == {"pii.phone", "pii.ssn"}
    assert name_refuses("customer_phone") == set()


@pytest.mark.parametrize(
    ("type", "allowed"),
    [
        ("BOOLEAN", set()),
        ("bool", set()),
        ("uuid", set()),
        ("BIGINT", {"pii.payment_card", "pii.ssn"}),
        ("int unsigned", {"pii.payment_card", "pii.ssn"}),
        ("DECIMAL(19, 0)", {"pii.payment_card", "pii.ssn"}),
        ("double precision", {"pii.payment_card", "pii.ssn"}),
        ("long", {"pii.payment_card", "pii.ssn"}),
        ("DATE", {"pii.date_of_birth"}),
        ("timestamp with time zone", {"pii.date_of_birth"}),
        ("timestamptz", {"pii.date_of_birth"}),
        ("VARCHAR(255)", PII_TAGS),
        ("string", PII_TAGS),
        ("interval", PII_TAGS),  # not an int because it starts with one
        ("point", PII_TAGS),
        ("", PII_TAGS),
    ],
)
def test_what_a_declared_type_allows(type: str, allowed: set[str]) -> None:
    assert tags_allowed_by_type(type) == allowed


def test_huge_numbers_are_no_identifiers() -> None:
    assert v.as_integer(Decimal("1E+999999")) is None
    assert not v.is_payment_card(Decimal("1E+999999"))
    assert not v.is_payment_card(10**5000)
    assert not v.is_ssn(10**5000, dashed_only=False)


# Published examples (python-stdnum's and the issuers' documentation), then the same
# number with its check digit or letter (or, for the CPR, its birth month) broken.
NATIONAL_IDS = [
    ("es-dni", "73920461W", "73920461A"),
    ("es-nie", "X2482300W", "X2482300A"),
    ("fr-nir", "2 55 08 14 168 025 38", "2 55 08 14 168 025 39"),
    ("it-codice-fiscale", "RSSMRA85T10A562S", "RSSMRA85T10A562T"),
    ("nl-bsn", "111222333", "111222334"),
    ("de-tax-id", "36574261809", "36574261808"),
    ("pl-pesel", "44051401359", "44051401358"),
    ("se-personnummer", "811228-9874", "811228-9875"),
    ("dk-cpr", "211062-5629", "211362-5629"),
    ("be-national-number", "85.07.30-033.28", "85.07.30-033.29"),
    ("pt-nif", "501964843", "501964844"),
    ("ca-sin", "123-456-782", "123-456-783"),
    ("in-aadhaar", "2341 2341 2346", "2341 2341 2347"),
    ("br-cpf", "390.533.447-05", "390.533.447-06"),
]


@pytest.mark.parametrize(("kind", "valid", "broken"), NATIONAL_IDS)
def test_national_ids_pass_their_countrys_check(kind: str, valid: str, broken: str) -> None:
    assert v.is_national_id(valid, kind=kind)
    assert v.is_national_id(valid.lower().encode(), kind=kind)
    assert not v.is_national_id(broken, kind=kind)


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("fr-nir", "5 55 08 14 168 025 38"),  # no such sex digit
        ("it-codice-fiscale", "01114601006"),  # a company's VAT number, not a person's
        ("in-aadhaar", "1341 2341 2346"),  # never starts with 0 or 1
        ("es-dni", 73920461),
        ("nl-bsn", ""),
        ("nl-bsn", True),
    ],
)
def test_national_id_lookalikes(kind: str, value: object) -> None:
    assert not v.is_national_id(value, kind=kind)


def test_every_national_id_kind_is_tested() -> None:
    assert {kind for kind, _, _ in NATIONAL_IDS} == set(v.NATIONAL_ID_CHECKS)


@pytest.mark.parametrize(
    ("number", "region"),
    [
        ("+1 312 555 0100", None),  # NANP: 555-0100 to 555-0199 in any area code
        ("(415) 555-0199", "US"),
        ("+44 20 7946 0958", None),  # Ofcom: London drama numbers
        ("0113 496 0000", "GB"),  # Leeds
        ("07700 900461", "GB"),  # Ofcom: mobiles
        ("01632 960123", "GB"),  # Ofcom: no area
        ("+61 491 570 156", None),  # ACMA: fictitious mobiles
        ("(03) 5550 4321", "AU"),  # ACMA: landlines
    ],
)
def test_phone_numbers_reserved_for_fiction(number: str, region: str | None) -> None:
    assert v.is_fictional_phone(number, region=region)


@pytest.mark.parametrize(
    ("number", "region"),
    [
        ("+1 312 555 0200", None),
        ("(415) 555-2671", "US"),
        ("+44 20 7946 1958", None),
        ("+44 20 7183 8750", None),
        ("+61 412 345 678", None),
        ("+33 1 42 68 53 00", None),
        ("020 7946 0958", None),  # no region to read a national number in
        ("phone", "GB"),
    ],
)
def test_phone_numbers_not_reserved_for_fiction(number: str, region: str | None) -> None:
    assert not v.is_fictional_phone(number, region=region)
