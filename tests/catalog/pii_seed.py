"""A seeded customer table for PII classification: real-shaped PII columns and decoys.

Deterministic (one `random.Random` seed). Every PII value is built to pass its real
check (Luhn digit, IBAN mod 97, a US area code phonenumbers knows); decoys are the
columns a naive classifier tags: flags and counts named after PII, order ids shaped
like phone numbers, card brands, version strings, part numbers shaped like SSNs.
"""

from __future__ import annotations

import ipaddress
import random
from datetime import date, datetime, timedelta
from decimal import Decimal

from stdnum import iban, luhn

ROWS = 200
TODAY = date(2025, 6, 1)

FIRST = ["Ana", "Jean-Luc", "Siobhán", "Mary Ann", "Chloé", "Oluwaseun", "Zoë", "Liam", "Björn"]
LAST = ["O'Brien", "García", "Nguyen", "Smith-Jones", "Müller", "Okafor", "D'Angelo", "Kowalski"]
US_AREAS = ["212", "312", "415", "617", "646", "702", "206", "303", "404", "512"]

# Column name and declared type, and the one tag each must get (None: a decoy, no tag).
COLUMNS: dict[str, tuple[str, str | None]] = {
    "customer_email": ("VARCHAR(255)", "pii.email"),
    "contact": ("text", "pii.email"),  # no hint in the name: the values alone
    "phone": ("VARCHAR(32)", "pii.phone"),  # E.164 and US national formats
    "mobile_e164": ("string", "pii.phone"),
    "card_number": ("VARCHAR(19)", "pii.payment_card"),  # 5% typos: still cards
    "legacy_card_number": ("VARCHAR(19)", None),  # Luhn-invalid: not cards
    "pan_numeric": ("BIGINT", "pii.payment_card"),  # valid cards stored as numbers
    "iban": ("VARCHAR(34)", "pii.iban"),
    "payout_account": ("text", "pii.iban"),
    "client_ip": ("VARCHAR(45)", "pii.ip_address"),
    "last_seen_from": ("string", "pii.ip_address"),
    "ssn": ("CHAR(11)", "pii.ssn"),
    "date_of_birth": ("DATE", "pii.date_of_birth"),
    "dob": ("text", "pii.date_of_birth"),
    "first_name": ("VARCHAR(100)", "pii.person_name"),
    "last_name": ("VARCHAR(100)", "pii.person_name"),
    "full_name": ("VARCHAR(200)", "pii.person_name"),
    # Decoys.
    "email_opt_in": ("BOOLEAN", None),
    "email_verified": ("boolean", None),
    "phone_count": ("INTEGER", None),
    "order_id": ("VARCHAR(20)", None),  # ten digits, shaped like US phone numbers
    "order_ref": ("VARCHAR(20)", None),  # even written with +1
    "order_number": ("BIGINT", None),  # phone-shaped integers
    "ip_allowlist_enabled": ("BOOLEAN", None),
    "card_type": ("VARCHAR(16)", None),
    "app_version": ("VARCHAR(16)", None),  # 1.2.3 and 10.0.0.1
    "part_sku": ("VARCHAR(16)", None),  # 123-45-6789 shaped
    "tracking_number": ("BIGINT", None),  # random 16-digit numbers
    "created_at": ("TIMESTAMP", None),
    "birth_country": ("VARCHAR(2)", None),
    "name": ("text", None),  # product names: the name does not say a person
    "notes": ("text", None),
    "amount": ("DECIMAL(10,2)", None),
    "status": ("VARCHAR(10)", None),
}


def card(rng: random.Random, prefix: str, length: int) -> str:
    """A card number with a valid Luhn check digit."""
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    return body + luhn.calc_check_digit(body)


def bad_luhn(number: str) -> str:
    """The same number with a wrong check digit."""
    return number[:-1] + str((int(number[-1]) + 1) % 10)


def us_phone_digits(rng: random.Random) -> str:
    exchange = rng.choice([n for n in range(200, 1000) if n % 100 != 11])
    return f"{rng.choice(US_AREAS)}{exchange}{rng.randrange(10000):04d}"


def an_iban(rng: random.Random) -> str:
    if rng.random() < 0.5:
        body = f"{rng.randrange(10**8):08d}{rng.randrange(10**10):010d}"
        country = "DE"
    else:
        body = f"WEST{rng.randrange(10**6):06d}{rng.randrange(10**8):08d}"
        country = "GB"
    number = country + iban.calc_check_digits(country + "00" + body) + body
    return iban.format(number) if rng.random() < 0.5 else number


def an_ssn(rng: random.Random) -> str:
    area = rng.choice([n for n in range(1, 900) if n != 666])
    return f"{area:03d}-{rng.randrange(1, 100):02d}-{rng.randrange(1, 10000):04d}"


def a_card(rng: random.Random) -> str:
    prefix, length = rng.choice([("4", 16), ("51", 16), ("55", 16), ("37", 15), ("6011", 16)])
    return card(rng, prefix, length)


def seeded_rows(seed: int = 7) -> list[dict[str, object]]:
    """`ROWS` rows of every column in `COLUMNS`, with some nulls."""
    rng = random.Random(seed)
    rows = []
    for i in range(ROWS):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        digits = us_phone_digits(rng)
        number = a_card(rng)
        row: dict[str, object] = {
            "customer_email": f"{first[:3].lower()}.{i}@example.com" if i % 9 else None,
            "contact": f"user{i}+news@mail.example.co.uk",
            "phone": f"+1{digits}" if i % 2 else f"({digits[:3]}) {digits[3:6]}-{digits[6:]}",
            "mobile_e164": f"+44 7911 {rng.randrange(10**6):06d}"
            if i % 2
            else f"+33 6 {rng.randrange(10**8):08d}",
            "card_number": bad_luhn(number) if i % 20 == 0 else number,
            "legacy_card_number": bad_luhn(a_card(rng)),
            "pan_numeric": int(a_card(rng)),
            "iban": an_iban(rng),
            "payout_account": an_iban(rng),
            "client_ip": str(ipaddress.IPv4Address(rng.getrandbits(32)))
            if i % 3
            else str(ipaddress.IPv6Address(rng.getrandbits(128))),
            "last_seen_from": f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}",
            "ssn": an_ssn(rng) if i % 10 else None,
            "date_of_birth": TODAY - timedelta(days=rng.randrange(18 * 365, 90 * 365)),
            "dob": (TODAY - timedelta(days=rng.randrange(18 * 365, 90 * 365))).isoformat(),
            "first_name": first,
            "last_name": last,
            "full_name": f"{first} {last}",
            "email_opt_in": rng.random() < 0.5,
            "email_verified": i % 4 != 0,
            "phone_count": rng.randrange(4),
            "order_id": us_phone_digits(rng),
            "order_ref": f"+1{us_phone_digits(rng)}",
            "order_number": int(us_phone_digits(rng)),
            "ip_allowlist_enabled": i % 7 == 0,
            "card_type": rng.choice(["visa", "mastercard", "amex", "Visa", "MasterCard"]),
            "app_version": rng.choice(["1.2.3", "10.0.0.1", "4.1.0.12", "2.0", "192.168.1.1"]),
            "part_sku": an_ssn(rng),
            "tracking_number": rng.randrange(10**15, 10**16),
            "created_at": datetime(2024, 1, 1) + timedelta(minutes=rng.randrange(500_000)),
            "birth_country": rng.choice(["US", "DE", "GB", "NG"]),
            "name": rng.choice(["Widget Pro", "Gadget", "Super Sprocket", "Flux Capacitor"]),
            "notes": rng.choice(["call back", "VIP", "prefers email", "left a voicemail"]),
            "amount": Decimal(rng.randrange(100, 100_000)) / 100,
            "status": rng.choice(["open", "paid", "shipped"]),
        }
        rows.append(row)
    return rows
