"""What a column's name says about PII: the noun it names, unless a qualifier follows it.

`customer_email` names an email; `email_opt_in`, `email_verified` and `phone_count`
name something *about* an email or a phone (a flag, a count), so they support nothing.
The name is only ever supporting evidence when values are sampled: it lowers the share
of values that must validate, and for dates of birth, person names, national phone
numbers and bare nine-digit SSNs it is what allows the values to count at all.
"""

from __future__ import annotations

import re

# Each tag's nouns, as token sequences: `date_of_birth` is (date, of, birth) and hits (birth,).
_NOUNS: dict[str, tuple[tuple[str, ...], ...]] = {
    "pii.email": (("email",), ("e", "mail"), ("emailaddress",), ("mail", "address")),
    "pii.phone": (
        ("phone",),
        ("telephone",),
        ("tel",),
        ("telno",),
        ("mobile",),
        ("msisdn",),
        ("fax",),
        ("phonenumber",),
        ("cellphone",),
        ("mobilephone",),
        ("cell", "number"),
    ),
    "pii.payment_card": (
        ("card", "number"),
        ("card", "no"),
        ("card", "num"),
        ("card", "pan"),
        ("cardnumber",),
        ("creditcard",),
        ("credit", "card"),
        ("debit", "card"),
        ("payment", "card"),
        ("cc", "number"),
        ("cc", "num"),
        ("ccnumber",),
        ("pan",),
    ),
    "pii.iban": (("iban",),),
    "pii.ip_address": (
        ("ip",),
        ("ipv4",),
        ("ipv6",),
        ("ipaddress",),
        ("ipaddr",),
        ("remote", "addr"),
        ("remote", "address"),
        ("remoteaddr",),
        ("client", "addr"),
    ),
    "pii.ssn": (
        ("ssn",),
        ("social", "security"),
        ("social", "sec"),
        ("soc", "sec"),
        ("socialsecuritynumber",),
    ),
    "pii.date_of_birth": (("dob",), ("birth",), ("birthday",), ("birthdate",), ("dateofbirth",)),
    "pii.person_name": (
        *((who, "name") for who in ("first", "last", "full", "given", "family", "middle")),
        *((who, "name") for who in ("maiden", "customer", "person", "contact", "employee")),
        *((who, "name") for who in ("patient", "holder", "cardholder", "member", "client")),
        *((who, "name") for who in ("recipient", "sender", "passenger", "guest", "legal")),
        ("firstname",),
        ("lastname",),
        ("fullname",),
        ("givenname",),
        ("familyname",),
        ("middlename",),
        ("surname",),
        ("forename",),
        ("fname",),
        ("lname",),
    ),
}

# The words a reason uses for what the name mentions.
HINT_WORDS: dict[str, str] = {
    "pii.email": "email",
    "pii.phone": "a phone",
    "pii.payment_card": "a card number",
    "pii.iban": "an IBAN",
    "pii.ip_address": "an IP address",
    "pii.ssn": "a Social Security Number",
    "pii.date_of_birth": "a birth date",
    "pii.person_name": "a person's name",
}

# After the noun, these make the column about the thing, not the thing itself.
QUALIFIERS = frozenset(
    {
        *("id", "ids", "key", "uuid", "guid", "count", "cnt", "total", "type", "kind"),
        *("category", "status", "flag", "flags", "enabled", "disabled", "enable", "active"),
        *("verified", "validated", "valid", "confirmed", "bounced", "opt", "optin", "optout"),
        *("opted", "consent", "consented", "subscribed", "unsubscribed", "allowed", "allow"),
        *("allowlist", "whitelist", "blocklist", "blacklist", "block", "blocked", "hash"),
        *("hashed", "sha", "sha256", "md5", "encrypted", "masked", "mask", "token"),
        *("tokenized", "domain", "provider", "brand", "network", "issuer", "scheme"),
        *("country", "region", "city", "place", "location", "format", "length", "len"),
        *("prefix", "suffix", "version", "expiry", "exp", "expires", "expiration", "last"),
        *("last4", "first6", "bin", "iin", "month", "year", "limit", "balance", "amount"),
        *("fee", "holder", "reminder", "sent", "preference", "preferences", "settings"),
        *("template", "policy", "rule", "rules", "range", "ranges", "pool", "changed"),
        *("updated", "source", "lookup", "match", "matched", "score", "risk", "age"),
    }
)
# A name that starts with these is a flag or a count: is_email_valid, num_phone.
_LEADING_QUALIFIERS = frozenset({"is", "has", "num", "n", "count", "total", "can", "should"})
# Tokens that rule a tag out whatever the values: an order id is no phone number,
# a version string no IP address, a part number shaped 123-45-6789 no SSN.
REFUSING = {
    "pii.phone": frozenset({"id", "ids", "key", "uuid", "guid", "order", "invoice", "sku"}),
    "pii.ip_address": frozenset({"version", "release", "build", "semver"}),
    "pii.ssn": frozenset({"sku", "part", "order", "invoice", "serial", "zip", "postal"}),
}


def name_tokens(name: str) -> list[str]:
    """A column name as lower-case words: `customerEmail`, `IPAddress` and `e-mail` split."""
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", name)
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", spaced)
    return [token.lower() for token in re.split(r"[^A-Za-z0-9]+", spaced) if token]


def _names_noun(tokens: list[str], nouns: tuple[tuple[str, ...], ...]) -> bool:
    """True when a noun occurs in `tokens` and no qualifier follows it."""
    for start in range(len(tokens)):
        for noun in nouns:
            end = start + len(noun)
            if tuple(tokens[start:end]) == noun:
                return not QUALIFIERS.intersection(tokens[end:])
    return False


def name_hints(name: str) -> frozenset[str]:
    """The PII tags a column name supports: `customer_email` -> {pii.email}."""
    tokens = name_tokens(name)
    if not tokens or tokens[0] in _LEADING_QUALIFIERS:
        return frozenset()
    return frozenset(tag for tag, nouns in _NOUNS.items() if _names_noun(tokens, nouns))


def name_refuses(name: str) -> frozenset[str]:
    """The PII tags a column name rules out whatever its values: `order_id` -> {pii.phone}."""
    tokens = set(name_tokens(name))
    return frozenset(tag for tag, words in REFUSING.items() if tokens & words)
