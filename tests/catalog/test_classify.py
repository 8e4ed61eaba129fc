"""PII classification: a seeded table's PII columns get exactly their tag, no decoy gets any."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from steward.catalog.classify import (
    NAME_ONLY_CONFIDENCE,
    PII_TAGS,
    THRESHOLD,
    Finding,
    classify_column,
    classify_names,
    classify_table,
)
from steward.catalog.validators import is_email, is_payment_card
from steward.errors import InvalidInput
from tests.catalog.pii_seed import COLUMNS, ROWS, TODAY, a_card, bad_luhn, seeded_rows

COLUMN_TYPES = [(name, type) for name, (type, _tag) in COLUMNS.items()]


@pytest.fixture(scope="module")
def findings() -> dict[str, list[Finding]]:
    return classify_table(COLUMN_TYPES, seeded_rows(), today=TODAY)


@pytest.mark.parametrize(
    "column", [name for name, (_type, tag) in COLUMNS.items() if tag is not None]
)
def test_each_pii_column_gets_exactly_its_tag(
    findings: dict[str, list[Finding]], column: str
) -> None:
    expected = COLUMNS[column][1]
    assert [finding.tag for finding in findings[column]] == [expected]
    assert THRESHOLD <= findings[column][0].confidence <= 1.0


@pytest.mark.parametrize("column", [name for name, (_type, tag) in COLUMNS.items() if tag is None])
def test_no_decoy_is_tagged(findings: dict[str, list[Finding]], column: str) -> None:
    assert findings[column] == []


def test_every_column_of_the_table_is_answered(findings: dict[str, list[Finding]]) -> None:
    assert set(findings) == set(COLUMNS)
    assert {f.tag for column in findings.values() for f in column} == PII_TAGS


def test_no_reason_contains_a_sampled_value(findings: dict[str, list[Finding]]) -> None:
    rows = seeded_rows()
    for column, column_findings in findings.items():
        values = {str(row[column]) for row in rows if row[column] is not None}
        for finding in column_findings:
            leaked = [value for value in values if len(value) >= 4 and value in finding.reason]
            assert leaked == [], f"{column}: {finding.reason}"


def test_reason_says_how_many_values_passed_and_what_the_name_adds(
    findings: dict[str, list[Finding]],
) -> None:
    (email,) = findings["customer_email"]
    assert email.reason.startswith("177 of 177 sampled values are valid email addresses")
    assert email.reason.endswith("the column name mentions email")
    (cards,) = findings["card_number"]
    assert cards.reason.startswith(f"{ROWS - ROWS // 20} of {ROWS} sampled values")
    (unnamed,) = findings["contact"]
    assert "column name" not in unnamed.reason


def test_the_name_raises_confidence(findings: dict[str, list[Finding]]) -> None:
    assert findings["iban"][0].confidence > findings["payout_account"][0].confidence


def test_mostly_luhn_invalid_card_numbers_are_not_cards() -> None:
    numbers = [a_card(random.Random(n)) for n in range(40)]
    mostly_bad = [bad_luhn(number) if n % 4 else number for n, number in enumerate(numbers)]
    assert classify_column("card_number", "text", mostly_bad) == []
    assert [f.tag for f in classify_column("card_number", "text", numbers)] == ["pii.payment_card"]


def test_numeric_card_column_needs_nearly_every_value_to_pass() -> None:
    numbers = [int(a_card(random.Random(n))) for n in range(40)]
    ninety_percent = [int(bad_luhn(str(v))) if n % 10 == 0 else v for n, v in enumerate(numbers)]
    assert classify_column("card_pan", "BIGINT", ninety_percent) == []
    # The same share written as text is a card column: text is how card numbers are kept.
    as_text = [str(value) for value in ninety_percent]
    assert [f.tag for f in classify_column("card_pan", "VARCHAR", as_text)] == ["pii.payment_card"]


def test_national_phone_numbers_need_a_name_that_says_phone() -> None:
    national = ["(415) 555-2671", "212-555-0142", "646.555.0199"] * 10
    assert [f.tag for f in classify_column("phone", "text", national)] == ["pii.phone"]
    assert classify_column("reference", "text", national) == []
    assert classify_column("phone", "text", national, region=None) == []


def test_integers_are_never_phone_numbers() -> None:
    assert classify_column("phone", "BIGINT", [4155552671, 2125550142] * 10) == []
    assert classify_column("phone", "text", [4155552671, 2125550142] * 10) == []


def test_order_ids_are_refused_as_phones_whatever_their_shape() -> None:
    assert classify_column("order_id", "text", ["+14155552671", "+12125550142"] * 10) == []


def test_birth_dates_need_the_name_and_a_plausible_past() -> None:
    births = [date(1980, 5, 17), date(1999, 12, 31), date(1955, 1, 2)] * 5
    assert [f.tag for f in classify_column("birthday", "DATE", births, today=TODAY)] == [
        "pii.date_of_birth"
    ]
    assert classify_column("signup_date", "DATE", births, today=TODAY) == []
    placeholders = [date(1800, 1, 1), date(2090, 1, 1)] * 5
    assert classify_column("dob", "DATE", placeholders, today=TODAY) == []


def test_person_names_need_the_name_to_say_so() -> None:
    people = ["Ana García", "Jean-Luc O'Brien", "Zoë Müller"] * 5
    assert [f.tag for f in classify_column("customer_name", "text", people)] == ["pii.person_name"]
    assert classify_column("title", "text", people) == []
    assert classify_column("first_name", "text", ["R2-D2", "C-3PO", "user_42"] * 5) == []


def test_bare_nine_digits_are_an_ssn_only_under_an_ssn_name() -> None:
    bare = ["536904399", "123456789", "219099998"] * 5
    assert [f.tag for f in classify_column("ssn", "text", bare)] == ["pii.ssn"]
    assert classify_column("reference", "text", bare) == []
    never_issued = ["000-12-3456", "666-12-3456", "912-34-5678", "123-00-4567", "123-45-0000"]
    assert classify_column("ssn", "text", never_issued * 3) == []


def test_ip_addresses_are_not_version_strings_or_small_integers() -> None:
    assert classify_column("version", "text", ["1.2.3", "2.0.1", "10.4.2"] * 5) == []
    assert classify_column("ip", "INTEGER", [1, 2, 3, 4] * 5) == []
    assert classify_column("ip", "text", ["1", "2", "30"] * 5) == []
    addresses = ["192.0.2.1", "2001:db8::1", "198.51.100.7"] * 5
    assert [f.tag for f in classify_column("ip", "text", addresses)] == ["pii.ip_address"]


def test_an_empty_sample_falls_back_to_the_name() -> None:
    (finding,) = classify_column("customer_email", "VARCHAR", [None, None])
    assert finding == Finding(
        "pii.email",
        NAME_ONLY_CONFIDENCE,
        "by name only (no non-null values were sampled): the column name mentions email",
    )
    assert classify_column("email_opt_in", "BOOLEAN", []) == []


def test_classify_names_tags_by_name_only_at_lower_confidence() -> None:
    result = classify_names(COLUMN_TYPES)
    assert set(result) == set(COLUMNS)
    tagged = {name: [f.tag for f in fs] for name, fs in result.items() if fs}
    assert tagged == {
        "customer_email": ["pii.email"],
        "phone": ["pii.phone"],
        "mobile_e164": ["pii.phone"],
        "card_number": ["pii.payment_card"],
        "legacy_card_number": ["pii.payment_card"],
        "pan_numeric": ["pii.payment_card"],
        "iban": ["pii.iban"],
        "client_ip": ["pii.ip_address"],
        "ssn": ["pii.ssn"],
        "date_of_birth": ["pii.date_of_birth"],
        "dob": ["pii.date_of_birth"],
        "first_name": ["pii.person_name"],
        "last_name": ["pii.person_name"],
        "full_name": ["pii.person_name"],
    }
    for column_findings in result.values():
        for finding in column_findings:
            assert finding.confidence == NAME_ONLY_CONFIDENCE < THRESHOLD
            assert finding.reason.startswith("by name only")


def test_an_unknown_phone_region_is_refused_by_name() -> None:
    with pytest.raises(InvalidInput, match="region: 'XX'"):
        classify_column("phone", "text", ["+14155552671"], region="XX")


# Properties: whatever the values, a finding needs the values to back it.

NEUTRAL_NAMES = st.sampled_from(["notes", "value", "col_7", "description", "payload"])
PII_NAMES = st.sampled_from(
    ["email", "phone", "first_name", "ip_address", "iban", "dob", "ssn", "card_number"]
)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.decimals(), st.text())


@pytest.mark.slow  # 200 generated examples
@settings(database=None, deadline=None, max_examples=200)
@given(name=NEUTRAL_NAMES, values=st.lists(scalars, max_size=30))
def test_findings_only_where_most_values_validate(name: str, values: list[object]) -> None:
    present = [value for value in values if value is not None]
    for finding in classify_column(name, "text", values):
        assert finding.confidence >= THRESHOLD
        assert finding.tag in PII_TAGS
        if finding.tag == "pii.email":
            assert sum(map(is_email, present)) >= 0.8 * len(present)


@settings(database=None, deadline=None, max_examples=200)
@given(name=PII_NAMES, values=st.lists(st.text().filter(lambda text: "@" not in text), min_size=1))
def test_text_without_an_at_sign_is_never_an_email(name: str, values: list[str]) -> None:
    assert "pii.email" not in {f.tag for f in classify_column(name, "text", values)}


@settings(database=None, deadline=None, max_examples=200)
@given(name=PII_NAMES, values=st.lists(st.booleans(), min_size=1))
def test_booleans_are_never_pii(name: str, values: list[bool]) -> None:
    assert classify_column(name, "text", values) == []
    assert classify_column(name, "BOOLEAN", values) == []


@settings(database=None, deadline=None, max_examples=200)
@given(
    name=PII_NAMES,
    type=st.sampled_from(["BIGINT", "integer", "DECIMAL(20,0)", "double", "text"]),
    values=st.lists(st.one_of(st.integers(), st.floats(), st.decimals()), min_size=1),
)
def test_numbers_are_at_most_card_numbers_or_ssns(
    name: str, type: str, values: list[object]
) -> None:
    for finding in classify_column(name, type, values):
        assert finding.tag in {"pii.payment_card", "pii.ssn"}
        if finding.tag == "pii.payment_card":
            assert sum(map(is_payment_card, values)) >= 0.95 * len(values)


@pytest.mark.slow  # 100 generated lists of up to 20 emails
@settings(database=None, deadline=None, max_examples=100)
@given(emails=st.lists(st.emails(), min_size=1, max_size=20))
def test_reasons_never_repeat_an_email(emails: list[str]) -> None:
    for finding in classify_column("email", "text", emails):
        assert not any(email in finding.reason for email in emails)


def test_decimal_amounts_are_not_cards() -> None:
    assert classify_column("card_number", "DECIMAL(10,2)", [Decimal("12.50")] * 10) == []
