"""Personal-data rules: email addresses, phone numbers, payment cards, IBANs, national ids.

Each regex finds the shape; the validator applies the catalog's own check for the kind
(`steward.catalog.validators`: Luhn and issuer ranges, mod-97, numbering plans, SSA
issuing rules, national ids' check digits in national_ids.py) and then refuses what is
not a person's data: addresses at allowed or reserved domains, role and no-reply
mailboxes, machine identities (service accounts, bots), ssh remotes and connection-URL
users; numbers reserved for fiction (555-01xx, Ofcom's drama numbers); documented test
cards and example IBANs; placeholders (`123-45-6789`); dates and longer numbers.
"""

from __future__ import annotations

import re
from functools import partial

from steward.catalog import validators
from steward.scan.models import Candidate, Rule, ScanOptions, Validator
from steward.scan.national_ids import (
    PLACEHOLDER_MOST_DISTINCT_DIGITS,
    is_counting,
    is_standalone,
    national_id_rules,
)
from steward.scan.surroundings import is_login, key_before, key_parts, surroundings, value_start

# RFC 2606 and RFC 6761 reserve these for examples and tests; nobody's mailbox is there.
# Amazon SES's mailbox simulator answers for everyone's tests.
ALWAYS_ALLOWED_EMAIL_DOMAINS = (
    "example.com",
    "example.org",
    "example.net",
    "simulator.amazonses.com",
    # SSH names its algorithms and extensions like addresses: chacha20-poly1305@openssh.com.
    "openssh.com",
    "libssh.org",
)
# Machine identities, not people: Google Cloud service accounts
# (`x@project.iam.gserviceaccount.com`, `n@developer.gserviceaccount.com`), GKE workload
# identities (`project.svc.id.goog`), AWS service principals (`lambda.amazonaws.com`).
MACHINE_EMAIL_DOMAINS = ("gserviceaccount.com", "svc.id.goog", "amazonaws.com")
# Words of a local part that name a machine's mailbox: `ci-bot`, `svc-deploy`, `robot`.
MACHINE_MAILBOX_WORDS = frozenset(
    {"bot", "robot", "svc", "daemon", "serviceaccount", "noreply", "automation"}
)
RESERVED_TLDS = frozenset({"example", "test", "invalid", "localhost"})
# Domains docs write for "some domain": `ed@foo.com`, `jane@company.com`.
PLACEHOLDER_DOMAIN_LABELS = frozenset(
    {
        "example",
        "foo",
        "bar",
        "baz",
        "domain",
        "yourdomain",
        "mydomain",
        "somedomain",
        "company",
        "yourcompany",
        "mycompany",
    }
)
# Mailboxes of a role or a machine, not of a person.
ROLE_MAILBOXES = frozenset(
    {
        "noreply",
        "no-reply",
        "no_reply",
        "donotreply",
        "do-not-reply",
        "do_not_reply",
        "postmaster",
        "hostmaster",
        "webmaster",
        "mailer-daemon",
        "abuse",
        "security",
        "privacy",
        "support",
        "info",
        "contact",
        "help",
        "hello",
        "sales",
        "git",
    }
)
# Mail headers whose `<...@host>` values are message ids, not addresses.
MESSAGE_ID_HEADERS = frozenset({"message-id", "references", "in-reply-to", "content-id"})
# Local parts that stand in for an address in docs and templates.
PLACEHOLDER_MAILBOXES = frozenset(
    {
        "user",
        "username",
        "email",
        "name",
        "someone",
        "somebody",
        "you",
        "me",
        "foo",
        "bar",
        "firstname.lastname",
        "first.last",
        "firstname",
        "lastname",
        "test",
        "demo",
        "sample",
        "admin",
        "root",
    }
)

# Documented test cards (Stripe, Braintree, Adyen docs): valid Luhn and issuer, never a
# person's card.
TEST_CARD_NUMBERS = frozenset(
    {
        "4012888888881881",
        "4000056655665556",
        "4000002500003155",
        "4000000000003220",
        "4000000000009995",
        "4917610000000000",
        "4988438843884305",
        "5200828282828210",
        "5105105105105100",
        "2223003122003222",
        "378282246310005",
        "371449635398431",
        "378734493671000",
        "6011111111111117",
        "6011000990139424",
        "6011981111111113",
        "3056930009020004",
        "36227206271667",
        "30569309025904",
        "38520000023237",
        "3566002020360505",
        "3530111333300000",
        "6200000000000005",
        "6205500000000000004",
        "6555900000604105",
    }
)
# IBANs printed in the standard, registries and Wikipedia as examples.
EXAMPLE_IBANS = frozenset(
    {
        "GB82WEST12345698765432",
        "GB33BUKB20201555555555",
        "GB29NWBK60161331926819",
        "DE89370400440532013000",
        "DE44500105175407324931",
        "FR1420041010050500013M02606",
        "NL91ABNA0417164300",
        "BE68539007547034",
        "CH9300762011623852957",
        "ES9121000418450200051332",
        "IT60X0542811101000000123456",
    }
)
# Documented or advertised SSNs that appear in examples, not on anyone's card.
EXAMPLE_SSNS = frozenset({"123-45-6789", "078-05-1120", "219-09-9999", "457-55-5462"})
SSN_WORDS = frozenset({"ssn", "social", "ssa"})

PHONE_WORDS = frozenset(
    {"phone", "telephone", "tel", "mobile", "cell", "cellphone", "fax", "msisdn", "whatsapp"}
)
# National numbers (written without +country) are read in these regions' plans.
NATIONAL_PHONE_REGIONS = ("US", "GB", "DE", "FR", "AU", "IN")

_GOES_ON = re.compile(r"\.?\w")
# An operand in arithmetic (`48281474662 * t**12`) is a number, not a card.
_ARITHMETIC_BEFORE = re.compile(r"[*/+%^]\s*$")
_ARITHMETIC_AFTER = re.compile(r"\s*[*/+%^]")
# Six equal digits in a row: padding (`4000000000000002`, `3906250000000000`), not a card.
_REPEATED_DIGIT_RUN = re.compile(r"(\d)\1{5}")
_GROUP_BEFORE = re.compile(r"(?:^|[^\w])[A-Z]{0,2}\d{2,4}[ -]$")
_GROUP_AFTER = re.compile(r"[ -]\d+(?:[ -]|$)")
_US_PHONE_SHAPE = re.compile(r"\(\d{3}\) ?\d{3}-\d{4}|\d{3}-\d{3}-\d{4}")
_INTERNATIONAL_BEFORE = re.compile(r"\+[\d ().-]*$")


def _whole(candidate: Candidate) -> tuple[str, str] | None:
    """The candidate's surroundings, or None when it is part of a longer word or number."""
    before, after = surroundings(candidate)
    return None if _GOES_ON.match(after) else (before, after)


def _under(domain: str, domains: tuple[str, ...]) -> bool:
    """`domain` is one of `domains` or under one."""
    return any(domain == d or domain.endswith("." + d) for d in domains)


def _is_machine_or_example_mailbox(local: str, domain: str, allowed: tuple[str, ...]) -> bool:
    """An allowed, reserved or placeholder domain, or a machine's (a service account's);
    a no-reply, role, bot or placeholder mailbox."""
    lowered = local.lower()
    return (
        _under(domain, ALWAYS_ALLOWED_EMAIL_DOMAINS + MACHINE_EMAIL_DOMAINS + allowed)
        or not MACHINE_MAILBOX_WORDS.isdisjoint(re.split(r"[._+-]", lowered))
        or domain.rsplit(".", 1)[-1] in RESERVED_TLDS
        or not PLACEHOLDER_DOMAIN_LABELS.isdisjoint(domain.split(".")[:-1])
        or (len(lowered) == 1 and len(domain.split(".")[0]) == 1)
        or "noreply" in domain
        or lowered.split("+")[0] in ROLE_MAILBOXES
        or lowered in PLACEHOLDER_MAILBOXES
        or lowered.startswith("your")
        or "example" in lowered
    )


def email_is_personal(candidate: Candidate, *, allowed: tuple[str, ...] = ()) -> bool:
    """A valid address outside the allowed, example and reserved domains; not a role or
    no-reply mailbox, a placeholder, a message id (`Message-Id: <...@host>`), an ssh
    remote (`git@host:repo`) or a URL's user (`postgres://alice@db`)."""
    whole = _whole(candidate)
    if whole is None or not validators.is_email(candidate.secret):
        return False
    before, after = whole
    local, domain = candidate.secret.rsplit("@", 1)
    if _is_machine_or_example_mailbox(local, domain.lower(), allowed):
        return False
    if key_before(before).lower() in MESSAGE_ID_HEADERS:
        return False
    return not is_login(before, after)


def _named(words: frozenset[str], line: str) -> bool:
    """A word of `line` (its keys in any convention: `mobilePhone`, `PHONE_NO`) is one of
    `words`."""
    return not words.isdisjoint(key_parts(line))


def _without_trailing_groups(number: str) -> list[str]:
    """`number`, then `number` less its last space-separated groups, one by one:
    the regex may have taken a number that follows the phone (`+1 415 555 2671 24/7`)."""
    groups = number.split(" ")
    return [" ".join(groups[:end]) for end in range(len(groups), 0, -1)]


def _is_real_phone(number: str, *, region: str | None) -> bool:
    """Valid in its plan (read in `region` without `+country`), not counting digits, not
    in a range reserved for fiction (`+1 312 555 0119`, `020 7946 0958`)."""
    return (
        validators.is_phone(number, region=region)
        and not is_counting(re.sub(r"\D", "", number))
        and not validators.is_fictional_phone(number, region=region)
    )


def international_phone_is_valid(candidate: Candidate) -> bool:
    """A `+country` number valid in its country's numbering plan, not a placeholder."""
    if _whole(candidate) is None:
        return False
    return any(
        _is_real_phone(number, region=None) for number in _without_trailing_groups(candidate.secret)
    )


def national_phone_is_valid(candidate: Candidate) -> bool:
    """A number without `+country`, named as a phone on its line, valid in one of the
    regions' plans and fictional in none; not the tail of an international number."""
    whole = _whole(candidate)
    if whole is None:
        return False
    before, _after = whole
    if _US_PHONE_SHAPE.fullmatch(candidate.secret):
        return False  # the phone-number-us rule reports these, named or not
    if _INTERNATIONAL_BEFORE.search(before) or not _named(PHONE_WORDS, candidate.line):
        return False
    if is_counting(re.sub(r"\D", "", candidate.secret)):
        return False
    # Reserved for fiction in one region's plan (`020 7946 0123`, `07700 900461` in the
    # UK's) is how it was meant, whatever it might be read as elsewhere.
    number = candidate.secret
    if any(validators.is_fictional_phone(number, region=r) for r in NATIONAL_PHONE_REGIONS):
        return False
    return any(validators.is_phone(number, region=r) for r in NATIONAL_PHONE_REGIONS)


def _in_longer_grouping(before: str, after: str) -> bool:
    """Digit groups that go on past the candidate on either side (`DE75 5121 0800 ...`
    is an IBAN, `4539 1488 0343 6467 1234` a longer number)."""
    return bool(_GROUP_BEFORE.search(before) or _GROUP_AFTER.match(after))


def us_phone_is_valid(candidate: Candidate) -> bool:
    """A number in the US's own written forms, `(415) 555-2671` or `415-555-2671`, valid
    in the North American plan; so distinctive a shape needs no phone word on its line."""
    whole = _whole(candidate)
    if whole is None or _INTERNATIONAL_BEFORE.search(whole[0]):
        return False
    return _is_real_phone(candidate.secret, region="US")


def card_is_real(candidate: Candidate) -> bool:
    """A known network's number (issuer range, length, Luhn), not a documented test card,
    not part of a longer grouped number."""
    whole = _whole(candidate)
    if whole is None or not validators.is_payment_card(candidate.secret):
        return False
    before, after = whole
    if not candidate.secret.isdigit() and _in_longer_grouping(before, after):
        return False
    if _ARITHMETIC_BEFORE.search(before) or _ARITHMETIC_AFTER.match(after):
        return False
    digits = re.sub(r"[ -]", "", candidate.secret)
    return (
        digits not in TEST_CARD_NUMBERS
        and len(set(digits)) > PLACEHOLDER_MOST_DISTINCT_DIGITS
        and not _REPEATED_DIGIT_RUN.search(digits)
    )


def iban_is_real(candidate: Candidate) -> bool:
    """An IBAN with its country's length and mod-97 check digits; not a printed example."""
    if _whole(candidate) is None or not validators.is_iban(candidate.secret):
        return False
    return candidate.secret.replace(" ", "") not in EXAMPLE_IBANS


def ssn_is_real(candidate: Candidate) -> bool:
    """A US SSN the SSA could issue: dashed anywhere, bare nine digits only where the key
    or line says SSN; not a documented example, not part of a longer number or date
    (`796-34-6807-90`, `2024-123-45-6789`)."""
    if not is_standalone(candidate):
        return False
    if "-" not in candidate.secret and not _named(SSN_WORDS, candidate.line):
        return False
    digits = re.sub(r"\D", "", candidate.secret)
    number = f"{digits[:3]}-{digits[3:5]}-{digits[5:]}"
    if number in EXAMPLE_SSNS or len(set(digits)) <= PLACEHOLDER_MOST_DISTINCT_DIGITS:
        return False
    return validators.is_ssn(number, dashed_only=True)


def nino_is_real(candidate: Candidate) -> bool:
    """A UK National Insurance number HMRC could allocate, not a sequential placeholder."""
    if _whole(candidate) is None:
        return False
    digits = re.sub(r"\D", "", candidate.secret)
    return digits != "123456" and validators.is_uk_national_insurance_number(candidate.secret)


def _rule(
    id: str,
    description: str,
    *,
    cannot_precede: str,
    value: str,
    validator: Validator,
    keywords: tuple[str, ...] = (),
) -> Rule:
    """A personal-data rule: `value` (one group, the reported value) after what may
    precede a value."""
    return Rule(
        id=id,
        description=description,
        kind="pii",
        regex="(?m)" + value_start(cannot_precede) + f"({value})",
        secret_group=1,
        keywords=keywords,
        validator=validator,
    )


def pii_rules(options: ScanOptions) -> tuple[Rule, ...]:
    """The personal-data rules; `options.allowed_email_domains` are not reported."""
    allowed = tuple(d.strip().strip(".").lower() for d in options.allowed_email_domains)
    return (
        *_contact_and_payment_rules(allowed),
        *_us_and_uk_id_rules(),
        *national_id_rules(),
    )


def _contact_and_payment_rules(allowed: tuple[str, ...]) -> tuple[Rule, ...]:
    """Emails (outside `allowed`), phones, payment cards and IBANs."""
    return (
        _rule(
            "email-address",
            "Email address outside the allowed domains",
            cannot_precede=r"A-Za-z0-9._%+-",
            value=r"[A-Za-z0-9._+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,63}",
            keywords=("@",),
            validator=partial(email_is_personal, allowed=allowed),
        ),
        _rule(
            "phone-number",
            "Phone number in international form (+country), valid in its plan",
            cannot_precede=r"\w+",
            value=r"\+[1-9]\d{0,2}(?:[ .-]?\(?\d{1,5}\)?){2,6}",
            keywords=("+",),
            validator=international_phone_is_valid,
        ),
        _rule(
            "phone-number-national",
            "Phone number in national form on a line that names a phone",
            cannot_precede=r"\w+.-",
            value=r"\(?\d{2,5}\)?[ .-]?\d{3,4}[ .-]?\d{3,4}",
            keywords=("phone", "tel", "mobile", "cell", "fax", "msisdn", "whatsapp"),
            validator=national_phone_is_valid,
        ),
        _rule(
            "phone-number-us",
            "Phone number written the US way: (415) 555-2671, 415-555-2671",
            cannot_precede=r"\w+.-",
            value=r"\(\d{3}\) ?\d{3}-\d{4}|\d{3}-\d{3}-\d{4}",
            validator=us_phone_is_valid,
        ),
        _rule(
            "payment-card",
            "Payment card number (issuer range, length and Luhn check digit)",
            cannot_precede=r"\w.+-",
            # Grouped 4-4-4-4, Amex 4-6-5 and Diners 4-6-4, or whole; twelve digits
            # (Maestro's shortest) are an AWS account id far more often than a card.
            value=r"\d{4}[ -]\d{4}[ -]\d{4}[ -]\d{4}|\d{4}[ -]\d{6}[ -]\d{4,5}|\d{13,19}",
            validator=card_is_real,
        ),
        _rule(
            "iban",
            "IBAN (country length and mod-97 check digits)",
            cannot_precede=r"\w",
            value=r"[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?",
            validator=iban_is_real,
        ),
    )


def _us_and_uk_id_rules() -> tuple[Rule, ...]:
    """US Social Security and UK National Insurance numbers."""
    return (
        _rule(
            "us-ssn",
            "US Social Security Number the SSA could issue",
            cannot_precede=r"\w-",
            value=r"\d{3}-\d{2}-\d{4}|\d{3} \d{2} \d{4}|\d{9}",
            validator=ssn_is_real,
        ),
        _rule(
            "uk-national-insurance-number",
            "UK National Insurance number",
            cannot_precede=r"\w",
            value=r"[A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]",
            validator=nino_is_real,
        ),
    )
