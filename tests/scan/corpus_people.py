"""Personal data the corpus plants, valid by each format's own rules (Luhn, mod-97,
issuing ranges), and the look-alikes that fail them."""

from __future__ import annotations

import random
from collections.abc import Callable

from tests.scan.corpus_values import DIGITS, UPPER, chars

FIRST = [
    "maria",
    "james",
    "li",
    "fatima",
    "oliver",
    "sofia",
    "arjun",
    "chloe",
    "mateo",
    "hannah",
    "kenji",
    "amara",
    "lucas",
    "ingrid",
    "omar",
    "zoe",
    "pavel",
    "nora",
    "diego",
    "elif",
]


LAST = [
    "garcia",
    "smith",
    "wang",
    "khan",
    "brown",
    "rossi",
    "patel",
    "martin",
    "silva",
    "fischer",
    "tanaka",
    "okafor",
    "dubois",
    "larsen",
    "haddad",
    "novak",
    "kowalski",
    "murphy",
    "costa",
    "yilmaz",
]


MAIL_DOMAINS = [
    "gmail.com",
    "outlook.com",
    "yahoo.co.uk",
    "proton.me",
    "web.de",
    "icloud.com",
    "globex-logistics.com",
    "initech.net",
    "hotmail.fr",
]


def email(rng: random.Random) -> str:
    sep = rng.choice([".", "_", ""])
    local = (
        rng.choice(FIRST) + sep + rng.choice(LAST) + rng.choice(["", str(rng.randrange(10, 99))])
    )
    return f"{local}@{rng.choice(MAIL_DOMAINS)}"


def luhn_digit(partial: str) -> str:
    """The check digit making `partial + digit` pass Luhn."""
    total = 0
    for i, ch in enumerate(reversed(partial)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def card(rng: random.Random) -> str:
    """A Luhn-valid card number in a real issuer range, formatted as people write it."""
    prefix, length = rng.choice(
        [("4", 16), ("51", 16), ("53", 16), ("2221", 16), ("34", 15), ("37", 15), ("6011", 16)]
    )
    partial = prefix + chars(rng, DIGITS, length - len(prefix) - 1)
    number = partial + luhn_digit(partial)
    if rng.random() < 0.5:
        return number
    sep = rng.choice([" ", "-"])
    groups = (
        [number[:4], number[4:10], number[10:]]
        if length == 15
        else [number[i : i + 4] for i in range(0, 16, 4)]
    )
    return sep.join(groups)


def _es_check(digits: str) -> str:
    weights = [1, 2, 4, 8, 5, 10, 9, 7, 3, 6]
    rest = 11 - sum(w * int(d) for w, d in zip(weights, digits, strict=True)) % 11
    return str({11: 0, 10: 1}.get(rest, rest))


def _bban(country: str, rng: random.Random) -> str:
    """A domestic account number with the country's own check digits where it has them
    (Belgium mod 97, Spain's two DC digits, France's RIB key)."""
    if country == "BE":
        body = f"{rng.randrange(100):03d}" + chars(rng, DIGITS, 7)  # BNP Paribas Fortis, Belfius
        return body + f"{int(body) % 97 or 97:02d}"
    if country == "ES":
        bank, branch, account = chars(rng, DIGITS, 4), chars(rng, DIGITS, 4), chars(rng, DIGITS, 10)
        return bank + branch + _es_check("00" + bank + branch) + _es_check(account) + account
    if country == "FR":
        bank, branch, account = chars(rng, DIGITS, 5), chars(rng, DIGITS, 5), chars(rng, DIGITS, 11)
        key = 97 - (89 * int(bank) + 15 * int(branch) + 3 * int(account)) % 97
        return f"{bank}{branch}{account}{key:02d}"
    if country in ("GB", "NL"):
        return chars(rng, UPPER, 4) + chars(rng, DIGITS, 14 if country == "GB" else 10)
    return chars(rng, DIGITS, 18)  # DE: bank code and account, checked by each bank


IBAN_COUNTRIES = ("BE", "DE", "ES", "FR", "GB", "NL")


def _iban_from(country: str, bban: str) -> str:
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    check = 98 - int(digits) % 97
    return f"{country}{check:02d}{bban}"


def iban(rng: random.Random, valid: bool = True) -> str:
    country = rng.choice(IBAN_COUNTRIES)
    value = _iban_from(country, _bban(country, rng))
    if not valid:
        check = int(value[2:4])
        value = value[:2] + f"{(check + rng.randrange(1, 90)) % 97 + 2:02d}" + value[4:]
    if rng.random() < 0.5:
        return " ".join(value[i : i + 4] for i in range(0, len(value), 4))
    return value


def iban_ok(value: str) -> bool:
    compact = value.replace(" ", "")
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def ssn(rng: random.Random) -> str:
    area = rng.choice([a for a in range(1, 900) if a != 666])
    return f"{area:03d}-{rng.randrange(1, 100):02d}-{rng.randrange(1, 10000):04d}"


def uk_nino(rng: random.Random) -> str:
    first = rng.choice([c for c in UPPER if c not in "DFIQUV"])
    second = rng.choice([c for c in UPPER if c not in "DFIOQUV"])
    if first + second in {"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"}:
        second = "A"
    digits = chars(rng, DIGITS, 6)
    return f"{first}{second} {digits[:2]} {digits[2:4]} {digits[4:]} {rng.choice('ABCD')}"


def es_dni(rng: random.Random) -> str:
    number = rng.randrange(10**7, 10**8)
    return f"{number}{'TRWAGMYFPDXBNJZSQVHLCKE'[number % 23]}"


def phone(rng: random.Random) -> str:
    """A phone number in an assigned range (no 555 exchange, no N11, UK mobiles 074-079
    but not 076 pagers, French mobiles 06 10-37), E.164 or as people write it at home."""
    exchange = rng.choice([n for n in range(201, 999) if n != 555 and n % 100 != 11])
    line = rng.randrange(1000, 10000)
    style = rng.randrange(5)
    if style == 0:
        return f"+1{rng.choice([415, 212, 646, 312, 617])}{exchange}{line}"
    if style == 1:
        return f"({rng.choice([415, 212, 303, 512])}) {exchange}-{line}"
    if style == 2:
        mobile = f"7{rng.choice([4, 5, 7, 8, 9])}{rng.randrange(10, 100)}"
        return f"+44 {mobile} {rng.randrange(100000, 999999)}"
    if style == 3:
        return f"+49 30 {rng.randrange(1000000, 99999999)}"
    pairs = [f"{rng.randrange(10, 38):02d}", *(f"{rng.randrange(100):02d}" for _ in range(3))]
    return "+33 6 " + " ".join(pairs)


PII_VALUES: dict[str, Callable[[random.Random], str]] = {
    "email": email,
    "phone": phone,
    "payment-card": card,
    "iban": iban,
    "us-ssn": ssn,
    "uk-nino": uk_nino,
    "es-dni": es_dni,
}


def luhn_failing_card(rng: random.Random) -> str:
    partial = "4" + chars(rng, DIGITS, 14)
    good = luhn_digit(partial)
    return partial + str((int(good) + rng.randrange(1, 10)) % 10)


def invalid_ssn(rng: random.Random) -> str:
    """An SSN-shaped number the SSA never issues: area 000 or 666, group 00, serial 0000."""
    area, group, serial = rng.randrange(1, 666), rng.randrange(1, 100), rng.randrange(1, 10000)
    bad = rng.randrange(3)
    if bad == 0:
        return f"{rng.choice(['000', '666'])}-{group:02d}-{serial:04d}"
    if bad == 1:
        return f"{area:03d}-00-{serial:04d}"
    return f"{area:03d}-{group:02d}-0000"


def fictional_phone(rng: random.Random) -> str:
    return f"+1-{rng.choice([202, 415, 312])}-555-01{rng.randrange(100):02d}"
