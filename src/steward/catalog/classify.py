"""Classify columns as PII from their names and a bounded sample of their values.

Pure functions: no store, no I/O. Values decide; a column's name is supporting
evidence (it lowers the share of values that must validate) and never proof on its
own while values are available. A finding's reason is written from counts and fixed
words only: it never repeats a sampled value, so findings can be stored and shown
where the values themselves may not be.

How evidence combines (see docs/pii.md):

- share = valid values / (non-null values + 0.5): a small sample counts for less.
- A tag is found when the share reaches 0.8, or 0.6 when the name supports the tag;
  a column whose values are all numbers is a card column only at 0.95.
- Its confidence maps that share linearly from the required share (confidence 0.8,
  `THRESHOLD`) up to 1 (confidence 1.0 with the name's support, 0.95 without).
- A column with no non-null sampled value, and `classify_names`, fall back to the
  name alone at confidence 0.5 (`NAME_ONLY_CONFIDENCE`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import phonenumbers

from steward.catalog import validators
from steward.catalog.pii_names import HINT_WORDS, name_hints, name_refuses
from steward.errors import InvalidInput

PII_TAGS = frozenset(
    {
        "pii.email",
        "pii.phone",
        "pii.payment_card",
        "pii.iban",
        "pii.ip_address",
        "pii.ssn",
        "pii.date_of_birth",
        "pii.person_name",
    }
)
THRESHOLD = 0.8  # every finding from sampled values has at least this confidence
NAME_ONLY_CONFIDENCE = 0.5
REQUIRED_SHARE = 0.8
REQUIRED_SHARE_NAMED = 0.6  # when the column's name supports the tag
REQUIRED_SHARE_NUMERIC_CARD = 0.95
_TOP_UNNAMED = 0.95  # values alone, however many, leave some doubt
# Values can only count for these tags when the name supports them.
_NAME_REQUIRED = frozenset({"pii.date_of_birth", "pii.person_name"})

# What the values are said to be, in a reason: "38 of 40 sampled values are ...".
_KINDS = {
    "pii.email": "valid email addresses",
    "pii.phone": "valid phone numbers",
    "pii.payment_card": "payment card numbers (known issuer, length and Luhn check digit)",
    "pii.iban": "IBANs with a valid mod-97 checksum",
    "pii.ip_address": "IPv4 or IPv6 addresses",
    "pii.ssn": "US Social Security Numbers the SSA could issue",
    "pii.date_of_birth": "dates in a plausible range for a birth date",
    "pii.person_name": "shaped like person names",
}

# Which tags a declared column type allows. Booleans hold no PII; numbers can hold a
# card number or an SSN, never an email, a name or an address; dates only a birth date.
# Matched on the type's head: `decimal` of `DECIMAL(10,2)`, `timestamp with time zone`.
_TYPE_FAMILIES: tuple[tuple[re.Pattern[str], frozenset[str]], ...] = (
    (re.compile(r"bool(ean)?|bit"), frozenset()),
    (re.compile(r"uuid|uniqueidentifier"), frozenset()),
    (re.compile(r"date|(small)?datetime.*|time.*"), frozenset({"pii.date_of_birth"})),
    (
        re.compile(
            r"(u?(tiny|small|medium|big|huge)?int(eger)?\d*|long|short|byte|(big|small)?serial\d*"
            r"|float\d*|double( precision)?|real|decimal|numeric|number|(small)?money)( unsigned)?"
        ),
        frozenset({"pii.payment_card", "pii.ssn"}),
    ),
)


@dataclass(frozen=True)
class Finding:
    """One PII tag a column earned, how sure the classifier is, and why (in words)."""

    tag: str
    confidence: float  # in [0, 1]
    reason: str  # counts and fixed words; never a sampled value


def tags_allowed_by_type(type: str) -> frozenset[str]:
    """The PII tags a column of this declared SQL/Iceberg type can hold (all, if unknown)."""
    head = re.split(r"[(<\[]", type.lower(), maxsplit=1)[0].strip()
    for pattern, allowed in _TYPE_FAMILIES:
        if pattern.fullmatch(head):
            return allowed
    return PII_TAGS


def _check_region(region: str | None) -> None:
    if region is not None and region not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidInput(
            f"region: {region!r} is not a region phonenumbers knows (use ISO 3166 codes: US, GB)"
        )


def _validator(
    tag: str, hints: frozenset[str], *, region: str | None, today: date
) -> Callable[[object], bool]:
    """The check one value must pass to count for `tag`, given what the name supports."""
    named = tag in hints
    if tag == "pii.email":
        return validators.is_email
    if tag == "pii.phone":
        national_region = region if named else None
        return lambda value: validators.is_phone(value, region=national_region)
    if tag == "pii.payment_card":
        return validators.is_payment_card
    if tag == "pii.iban":
        return validators.is_iban
    if tag == "pii.ip_address":
        return validators.is_ip_address
    if tag == "pii.ssn":
        return lambda value: validators.is_ssn(value, dashed_only=not named)
    if tag == "pii.date_of_birth":
        return lambda value: validators.is_date_of_birth(value, today=today)
    return validators.is_person_name


def _confidence(share: float, required: float, named: bool) -> float:
    top = 1.0 if named else _TOP_UNNAMED
    scaled = THRESHOLD + (top - THRESHOLD) * (share - required) / (1.0 - required)
    return round(min(top, max(THRESHOLD, scaled)), 3)


def _reason(tag: str, valid: int, total: int, *, named: bool, numeric: bool) -> str:
    reason = f"{valid} of {total} sampled values are {_KINDS[tag]}"
    if named:
        reason += f"; the column name mentions {HINT_WORDS[tag]}"
    if numeric and tag == "pii.payment_card":
        reason += "; the values are stored as numbers, so nearly all had to pass"
    return reason


def _by_name(name: str, type: str, why: str) -> list[Finding]:
    tags = name_hints(name) & tags_allowed_by_type(type)
    return [
        Finding(
            tag,
            NAME_ONLY_CONFIDENCE,
            f"by name only ({why}): the column name mentions {HINT_WORDS[tag]}",
        )
        for tag in sorted(tags)
    ]


def classify_column(
    name: str,
    type: str,
    values: Sequence[object],
    *,
    region: str | None = "US",
    today: date | None = None,
) -> list[Finding]:
    """The PII tags a column's name and sampled values earn, best first.

    Args:
        name: the column's name, as the source spells it.
        type: its declared type (`VARCHAR(255)`, `bigint`, `boolean`, Iceberg `string`...).
        values: a bounded sample; None and any Python value are fine.
        region: how to read phone numbers written without `+` in a column whose name
            says phone (ISO 3166 code); None reads only international numbers.
        today: the day birth dates must not be after (defaults to today).

    Returns:
        Findings with confidence >= `THRESHOLD`; when no non-null value was sampled,
        the name's findings at `NAME_ONLY_CONFIDENCE` instead.
    """
    _check_region(region)
    present = [value for value in values if value is not None]
    if not present:
        return _by_name(name, type, "no non-null values were sampled")
    hints = name_hints(name)
    candidates = tags_allowed_by_type(type) - name_refuses(name)
    candidates -= {tag for tag in _NAME_REQUIRED if tag not in hints}
    numeric = all(validators.as_integer(value) is not None for value in present)
    when = today or date.today()
    findings = []
    for tag in sorted(candidates):
        check = _validator(tag, hints, region=region, today=when)
        valid = sum(1 for value in present if check(value))
        if not valid:
            continue
        named = tag in hints
        if numeric and tag == "pii.payment_card":
            required = REQUIRED_SHARE_NUMERIC_CARD
        else:
            required = REQUIRED_SHARE_NAMED if named else REQUIRED_SHARE
        share = valid / (len(present) + 0.5)
        if share >= required:
            confidence = _confidence(share, required, named)
            reason = _reason(tag, valid, len(present), named=named, numeric=numeric)
            findings.append(Finding(tag, confidence, reason))
    return sorted(findings, key=lambda finding: (-finding.confidence, finding.tag))


def classify_table(
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Mapping[str, object]],
    *,
    region: str | None = "US",
    today: date | None = None,
) -> dict[str, list[Finding]]:
    """Findings for every column (name, type) of a sampled table; a row lacking a column
    counts as a null there. Columns without findings map to an empty list."""
    return {
        name: classify_column(
            name, type, [row.get(name) for row in rows], region=region, today=today
        )
        for name, type in columns
    }


def classify_names(columns: Sequence[tuple[str, str]]) -> dict[str, list[Finding]]:
    """Findings from names and types alone, for sources that cannot be sampled.

    Each finding has confidence `NAME_ONLY_CONFIDENCE` and a reason saying "by name only".
    """
    return {name: _by_name(name, type, "not sampled") for name, type in columns}
