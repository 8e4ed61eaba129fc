"""Value validators for PII classification: does one sampled value hold an email, a card...

Each validator takes one value as sampled (str, int, date...) and answers True only
when the value passes the real check for its kind: a checksum where the kind has one
(Luhn for cards, mod 97 for IBANs), the numbering plan for phones (phonenumbers), the
issuing rules for US SSNs. They never raise on odd input: anything they do not
understand is simply not valid. Booleans are never valid for any kind.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

import phonenumbers
from stdnum import iban, luhn
from stdnum.be import nn as be_nn
from stdnum.br import cpf as br_cpf
from stdnum.ca import sin as ca_sin
from stdnum.de import idnr as de_idnr
from stdnum.dk import cpr as dk_cpr
from stdnum.es import dni as es_dni
from stdnum.es import nie as es_nie
from stdnum.fr import nir as fr_nir
from stdnum.in_ import aadhaar as in_aadhaar
from stdnum.it import codicefiscale as it_codicefiscale
from stdnum.nl import bsn as nl_bsn
from stdnum.pl import pesel as pl_pesel
from stdnum.pt import nif as pt_nif
from stdnum.se import personnummer as se_personnummer
from stdnum.us import ssn

# RFC 5322 dot-atom local part: these characters, dots only between runs of them; RFC 6531
# (internationalized email) adds any non-ASCII character: zoë@example.com.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\U0010ffff-]+"
_LOCAL_PART = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*")
_DOMAIN_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
# A top-level domain is letters (2-63), or an IDN's punycode form.
_TLD = re.compile(r"[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59}")

# Only digits and the separators people write in phone numbers, with an optional extension.
_PHONE_SHAPE = re.compile(r"\+?[0-9(][0-9 ().\-/]*[0-9](?:\s*(?:x|ext\.?|#)\s*[0-9]{1,6})?", re.I)
_CARD_SHAPE = re.compile(r"[0-9]+(?:[ -][0-9]+)*")
_SSN_DASHED = re.compile(r"[0-9]{3}-[0-9]{2}-[0-9]{4}")
# UK National Insurance number (HMRC's NIM39110): two prefix letters (D, F, I, Q, U, V
# never; O never second), six digits, a suffix A-D; written whole or in pairs.
_NINO = re.compile(
    r"([A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]) ?([0-9]{2}) ?([0-9]{2}) ?([0-9]{2}) ?[A-D]"
)
# Prefixes HMRC never allocates (they read as country codes or are administrative).
_NINO_UNALLOCATED = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})
# A person's name: words of letters, joined by spaces, hyphens or apostrophes; an initial
# may carry a dot ("J. Smith"). Letters are any script's (\w minus digits and underscore).
_NAME_WORD = r"[^\W\d_]+(?:['’-][^\W\d_]+)*\.?"
_PERSON_NAME = re.compile(rf"{_NAME_WORD}(?:[ ,]+{_NAME_WORD}){{0,5}}")
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%m/%d/%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y%m%d")

# Payment card networks: (first digits from, to) inclusive on a prefix of that many
# digits, and the lengths the network issues. From the networks' published IIN ranges.
_CARD_NETWORKS: tuple[tuple[int, int, frozenset[int]], ...] = (
    (4, 4, frozenset({13, 16, 19})),  # Visa
    (51, 55, frozenset({16})),  # Mastercard
    (2221, 2720, frozenset({16})),  # Mastercard 2-series
    (34, 34, frozenset({15})),  # American Express
    (37, 37, frozenset({15})),  # American Express
    (6011, 6011, frozenset(range(16, 20))),  # Discover
    (644, 649, frozenset(range(16, 20))),  # Discover
    (65, 65, frozenset(range(16, 20))),  # Discover
    (3528, 3589, frozenset(range(16, 20))),  # JCB
    (300, 305, frozenset(range(14, 20))),  # Diners Club
    (36, 36, frozenset(range(14, 20))),  # Diners Club
    (38, 39, frozenset(range(16, 20))),  # Diners Club
    (62, 62, frozenset(range(16, 20))),  # UnionPay
    (5018, 5018, frozenset(range(12, 20))),  # Maestro
    (5020, 5020, frozenset(range(12, 20))),  # Maestro
    (5038, 5038, frozenset(range(12, 20))),  # Maestro
    (5893, 5893, frozenset(range(12, 20))),  # Maestro
    (6304, 6304, frozenset(range(12, 20))),  # Maestro
    (6759, 6759, frozenset(range(12, 20))),  # Maestro
    (6761, 6763, frozenset(range(12, 20))),  # Maestro
)

_LARGEST_WHOLE = 10**21
# People are rarely older than this; a "date of birth" before it is a placeholder.
OLDEST_AGE_YEARS = 125


def as_text(value: object) -> str | None:
    """The value as stripped text when it is text (or UTF-8 bytes); None otherwise."""
    if isinstance(value, bytes | bytearray):
        try:
            value = bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return None
    if isinstance(value, str):
        return value.strip()
    return None


def as_integer(value: object) -> int | None:
    """The value as an int when it is a whole number stored as a number (not a bool)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    # A huge exponent (1E+999999) would make a huge int; no identifier is that long.
    if not isinstance(value, Decimal) or not value.is_finite() or abs(value) >= _LARGEST_WHOLE:
        return None
    return int(value) if value == value.to_integral_value() else None


def _invisible(char: str) -> bool:
    """Whitespace, control, format, surrogate or unassigned: never part of an address."""
    return char.isspace() or unicodedata.category(char).startswith(("C", "Z"))


def is_email(value: object) -> bool:
    """An email address: a dot-atom local part, `@`, a dotted domain with a letters TLD."""
    text = as_text(value)
    if not text or len(text) > 254 or text.count("@") != 1:
        return False
    local, domain = text.split("@")
    if len(local.encode()) > 64 or not _LOCAL_PART.fullmatch(local):
        return False
    if not local.isascii() and any(_invisible(char) for char in local):
        return False
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            return False
    labels = domain.split(".")
    if len(domain) > 253 or len(labels) < 2:
        return False
    *names, tld = labels
    return all(_DOMAIN_LABEL.fullmatch(label) for label in names) and bool(_TLD.fullmatch(tld))


def is_phone(value: object, *, region: str | None) -> bool:
    """A phone number valid in its numbering plan (phonenumbers' `is_valid_number`).

    A number written with `+` carries its country; one without is read as a national
    number of `region`, and is not a phone at all when `region` is None. Numbers
    stored as integers are never phones: they are ids and counts far more often.
    """
    text = as_text(value)
    if not text or not _PHONE_SHAPE.fullmatch(text):
        return False
    digits = sum(char.isdigit() for char in text)
    if not 7 <= digits <= 21:  # E.164 allows 15, plus an extension's few
        return False
    international = text.startswith("+")
    if not international and region is None:
        return False
    try:
        number = phonenumbers.parse(text, None if international else region)
    except phonenumbers.NumberParseException:
        return False
    return bool(phonenumbers.is_valid_number(number))


def card_digits(value: object) -> str | None:
    """The digits of a value written as a card number (digits, spaces, dashes), else None."""
    number = as_integer(value)
    if number is not None:
        return str(number) if 0 < number < _LARGEST_WHOLE else None
    text = as_text(value)
    if not text or not _CARD_SHAPE.fullmatch(text):
        return None
    return text.replace(" ", "").replace("-", "")


def is_payment_card(value: object) -> bool:
    """A payment card number: a known network's IIN prefix and length, and a valid Luhn digit."""
    digits = card_digits(value)
    if digits is None or not 12 <= len(digits) <= 19:
        return False
    issued = any(
        low <= int(digits[: len(str(low))]) <= high and len(digits) in lengths
        for low, high, lengths in _CARD_NETWORKS
    )
    return issued and luhn.is_valid(digits)


def is_iban(value: object) -> bool:
    """An IBAN: its country's length and format, and the ISO 7064 mod-97 check digits."""
    text = as_text(value)
    if not text or len(text) > 42 or not text[:2].isalpha():
        return False
    return bool(iban.is_valid(text))


def is_ip_address(value: object) -> bool:
    """An IPv4 address in dotted-quad form or an IPv6 address, written as text.

    Integers are never addresses (`ipaddress` would read 7 as 0.0.0.7), nor are
    version strings like `1.2.3` (three parts) or `01.2.3.4` (leading zeros).
    """
    text = as_text(value)
    if not text or len(text) > 45:
        return False
    if ":" not in text and text.count(".") != 3:
        return False
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def is_ssn(value: object, *, dashed_only: bool) -> bool:
    """A US Social Security Number the SSA could issue (no 000/666/9xx area, no 00 group,
    no 0000 serial, not a known advertised number).

    With `dashed_only`, only the `123-45-6789` form counts: nine bare digits are too
    common to be an SSN without a column name that says so.
    """
    number = as_integer(value)
    if number is not None:
        if dashed_only or not 0 < number < 10**9:
            return False
        text = f"{number:09d}"
    else:
        found = as_text(value)
        if not found:
            return False
        text = found
    if dashed_only and not _SSN_DASHED.fullmatch(text):
        return False
    if not (_SSN_DASHED.fullmatch(text) or (len(text) == 9 and text.isdigit())):
        return False
    return bool(ssn.is_valid(text))


def is_uk_national_insurance_number(value: object) -> bool:
    """A UK National Insurance number HMRC could allocate: `AB 12 34 56 C` or `AB123456C`,
    with an allowed prefix and an A-D suffix."""
    text = as_text(value)
    if not text:
        return False
    found = _NINO.fullmatch(text.upper())
    return found is not None and found.group(1) not in _NINO_UNALLOCATED


def as_date(value: object) -> date | None:
    """The value as a calendar date: a date, a datetime, or text in a common date format."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = as_text(value)
    if not text or len(text) < 8:
        return None
    # An ISO timestamp at midnight is how many tools write a date.
    head = text[:10] if len(text) > 10 and text[10] in "T " else text
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(head, pattern).date()
        except ValueError:
            continue
    return None


def is_date_of_birth(value: object, *, today: date) -> bool:
    """A date someone alive could be born on: not in the future, not over 125 years ago."""
    born = as_date(value)
    if born is None:
        return False
    try:
        oldest = today.replace(year=today.year - OLDEST_AGE_YEARS)
    except ValueError:  # 29 February
        oldest = today.replace(year=today.year - OLDEST_AGE_YEARS, day=28)
    return oldest <= born <= today


def is_person_name(value: object) -> bool:
    """Text that reads as a person's name: up to six words of letters, with spaces,
    hyphens, apostrophes and initials' dots; no digits, no `@`, not blank."""
    text = as_text(value)
    if not text or len(text) > 100:
        return False
    return bool(_PERSON_NAME.fullmatch(text))


# National identifiers: the characters each may be written with, and python-stdnum's check
# (check digit or letter, length, embedded birth date where the number has one).
_ID_SEPARATORS = re.compile(r"[ .\-/+]")
# France's NIR: sex digit (1-2; 3-4, 7-8 for provisional and foreign-born numbers), then a
# birth month 01-12 or 20-99 (unknown or special); stdnum checks only the mod-97 key.
_NIR_SEX_AND_MONTH = re.compile(r"[1-478]\d{2}(?:0[1-9]|1[0-2]|[2-9]\d)")
# Italy's codice fiscale for a person is 16 characters; stdnum also accepts a company's
# 11-digit VAT number, which is not personal data.
_CODICE_FISCALE_LENGTH = 16


def _checked_by(module: object) -> Callable[[str], bool]:
    """A check that asks a python-stdnum module whether `text` is valid."""

    def check(text: str) -> bool:
        return bool(module.is_valid(text))  # type: ignore[attr-defined]

    return check


def _is_french_nir(text: str) -> bool:
    """A French NIR (INSEE number): sex and birth month in range, mod-97 key."""
    compact = _ID_SEPARATORS.sub("", text)
    return bool(_NIR_SEX_AND_MONTH.match(compact)) and bool(fr_nir.is_valid(compact))


def _is_italian_codice_fiscale(text: str) -> bool:
    """An Italian person's codice fiscale: 16 characters, birth date, check letter."""
    compact = _ID_SEPARATORS.sub("", text)
    return len(compact) == _CODICE_FISCALE_LENGTH and bool(it_codicefiscale.is_valid(compact))


NATIONAL_ID_CHECKS: dict[str, Callable[[str], bool]] = {
    "es-dni": _checked_by(es_dni),  # 8 digits, mod-23 letter
    "es-nie": _checked_by(es_nie),  # X/Y/Z, 7 digits, mod-23 letter
    "fr-nir": _is_french_nir,
    "it-codice-fiscale": _is_italian_codice_fiscale,
    "nl-bsn": _checked_by(nl_bsn),  # 9 digits, 11-proof
    "de-tax-id": _checked_by(de_idnr),  # Steuer-ID: 11 digits, ISO 7064 mod 11,10
    "pl-pesel": _checked_by(pl_pesel),  # 11 digits, birth date, weighted check digit
    "se-personnummer": _checked_by(se_personnummer),  # birth date, Luhn
    "dk-cpr": _checked_by(dk_cpr),  # birth date (no check digit since 2007)
    "be-national-number": _checked_by(be_nn),  # birth date, mod-97
    "pt-nif": _checked_by(pt_nif),  # 9 digits, mod-11
    "ca-sin": _checked_by(ca_sin),  # 9 digits, Luhn
    "in-aadhaar": _checked_by(in_aadhaar),  # 12 digits, never 0/1 first, Verhoeff
    "br-cpf": _checked_by(br_cpf),  # 11 digits, two mod-11 check digits
}


def is_national_id(value: object, *, kind: str) -> bool:
    """A national identifier of `kind` (a key of NATIONAL_ID_CHECKS, such as "es-dni")
    that passes its country's check: text only, as numbers lose leading zeros.

    Raises KeyError for an unknown `kind`: that is the caller's mistake, not the value's.
    """
    check = NATIONAL_ID_CHECKS[kind]
    text = as_text(value)
    if not text or len(text) > 32:
        return False
    try:
        return check(text.upper())
    except Exception:  # stdnum raises its own errors, or ValueError on odd dates
        return False


# Numbers regulators reserve for films, books and examples; never anyone's phone. As
# (country calling code, national significant number prefix):
# - NANP: 555-0100 to 555-0199 in any area code (the only 555 block reserved for fiction).
# - UK, Ofcom's numbers for drama: 020 7946 0xxx (London), 01xx 496 0xxx in the big
#   cities, 0191 498 0xxx, 029 2018 0xxx, 01632 960xxx (no area), 07700 900xxx
#   (mobile), 08081 570xxx (freephone), 0909 879 0xxx (premium), 03069 990xxx.
# - Australia, ACMA's fictitious numbers: mobiles 0491 570 000 to 0491 579 999, and
#   landlines 5550 xxxx and 7010 xxxx in every area code (02, 03, 07, 08).
_FICTIONAL_UK_PREFIXES = (
    "2079460",
    "1134960",
    "1144960",
    "1154960",
    "1164960",
    "1174960",
    "1184960",
    "1214960",
    "1314960",
    "1414960",
    "1514960",
    "1614960",
    "1914980",
    "2920180",
    "1632960",
    "7700900",
    "8081570",
    "9098790",
    "3069990",
)
_FICTIONAL_NANP = re.compile(r"\d{3}55501\d{2}")
_FICTIONAL_AUSTRALIAN = re.compile(r"49157\d{4}|[2378](?:5550|7010)\d{4}")


def is_fictional_phone(value: object, *, region: str | None) -> bool:
    """A phone number in a range reserved for fiction and examples (NANP 555-01xx, Ofcom's
    drama numbers, ACMA's fictitious numbers); read like `is_phone` reads it."""
    text = as_text(value)
    if not text or not _PHONE_SHAPE.fullmatch(text):
        return False
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else region)
    except phonenumbers.NumberParseException:
        return False
    national = phonenumbers.national_significant_number(number)
    if number.country_code == 1:
        return bool(_FICTIONAL_NANP.fullmatch(national))
    if number.country_code == 44:
        return national.startswith(_FICTIONAL_UK_PREFIXES)
    if number.country_code == 61:
        return bool(_FICTIONAL_AUSTRALIAN.fullmatch(national))
    return False
