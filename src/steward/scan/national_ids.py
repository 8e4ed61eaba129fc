"""National identifier rules: Spain's DNI and NIE, France's NIR, Italy's codice fiscale,
the Netherlands' BSN, Germany's Steuer-ID, Poland's PESEL, Sweden's personnummer,
Denmark's CPR, Belgium's national number, Portugal's NIF, Canada's SIN, India's Aadhaar
and Brazil's CPF.

Every candidate must pass its country's check (`validators.is_national_id`: check digit
or letter, embedded birth date). That is enough only where the written shape is the
id's own (`12345678Z`, `RSSMRA85T10A562S`, `123.456.789-09`, `1 85 05 78 006 084 36`);
a bare run of nine or eleven digits passes some check one time in ten or in a hundred,
so it counts only on a line that names the id (`bsn`, `pesel`, `national_id`...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial

from steward.catalog import validators
from steward.scan.models import Candidate, Rule
from steward.scan.surroundings import key_parts, surroundings, value_start

COUNTING_UP = "0123456789" * 3
# A number of three distinct digits or fewer is made up: `111-22-3333`, `00000000T`.
PLACEHOLDER_MOST_DISTINCT_DIGITS = 3
# Words that name any national id on a line: `national_id`, `citizenId`, `identity_no`.
NATIONAL_ID_WORDS = frozenset({"national", "citizen", "identity", "nationalid"})

# Surname and name letters, birth year, month letter, day (+40 for women), place, check
# letter; digits may be swapped for L-V when two people would share a code (omocodia).
CODICE_FISCALE = r"[A-Z]{6}[\dLMNP-V]{2}[A-EHLMPR-T][\dLMNP-V]{2}[A-Z][\dLMNP-V]{3}[A-Z]"

# What continues a number past the candidate: more word characters (`12345678Z9`), or a
# separator then a digit (`796-34-6807-90`, `1.123456789`); the same before it.
_GOES_ON_AFTER = re.compile(r"\.?\w|[-./:]\d")
_GOES_ON_BEFORE = re.compile(r"\d[-./:]$")


def is_counting(digits: str) -> bool:
    """Digits counted up or down (`1234567890`), or one digit repeated: placeholders."""
    return digits in COUNTING_UP or digits in COUNTING_UP[::-1] or len(set(digits)) == 1


def is_placeholder_number(text: str) -> bool:
    """A number made up for an example: counting digits or three distinct digits at most."""
    digits = re.sub(r"\D", "", text)
    return is_counting(digits) or len(set(digits)) <= PLACEHOLDER_MOST_DISTINCT_DIGITS


def is_standalone(candidate: Candidate) -> bool:
    """The candidate is a whole value, not part of a longer word, number, date or version."""
    before, after = surroundings(candidate)
    return not (_GOES_ON_AFTER.match(after) or _GOES_ON_BEFORE.search(before))


@dataclass(frozen=True)
class NationalId:
    """One country's identifier: the rule id and the validator kind (one name), the
    written forms to find, the subset of them distinctive enough to report without
    context (None: none is), and the words that name it on a line."""

    kind: str
    description: str
    forms: str
    distinctive: str | None
    words: frozenset[str]


def national_id_is_real(candidate: Candidate, *, kind: str, distinctive: str | None) -> bool:
    """A standalone value passing `kind`'s check, not a placeholder; in a distinctive
    form, or on a line that names a national id (in any key convention)."""
    secret = candidate.secret
    if not is_standalone(candidate) or is_placeholder_number(secret):
        return False
    if not validators.is_national_id(secret, kind=kind):
        return False
    if distinctive is not None and re.fullmatch(distinctive, secret):
        return True
    named = NATIONAL_ID_WORDS | NATIONAL_IDS_BY_KIND[kind].words
    return not named.isdisjoint(key_parts(candidate.line))


NATIONAL_IDS = (
    NationalId(
        "es-dni",
        "Spanish DNI (eight digits and the mod-23 check letter)",
        forms=r"\d{8}-?[A-Z]",
        distinctive=r"\d{8}-?[A-Z]",
        words=frozenset({"dni", "nif"}),
    ),
    NationalId(
        "es-nie",
        "Spanish NIE, a foreigner's id (X/Y/Z, seven digits, mod-23 check letter)",
        forms=r"[XYZ]-?\d{7}-?[A-Z]",
        distinctive=r"[XYZ]-?\d{7}-?[A-Z]",
        words=frozenset({"nie"}),
    ),
    NationalId(
        "fr-nir",
        "French NIR / INSEE number (social security number, mod-97 key)",
        forms=r"[1-478] ?\d{2} ?\d{2} ?(?:\d{2}|2[AB]) ?\d{3} ?\d{3} ?\d{2}",
        distinctive=r"\d \d{2} \d{2} \w{2} \d{3} \d{3} \d{2}",
        words=frozenset({"nir", "insee", "secu", "securite", "sécurité", "nss"}),
    ),
    NationalId(
        "it-codice-fiscale",
        "Italian codice fiscale (name letters, birth date and place, check letter)",
        forms=CODICE_FISCALE,
        distinctive=CODICE_FISCALE,
        words=frozenset({"codice", "fiscale", "cf"}),
    ),
    NationalId(
        "nl-bsn",
        "Dutch BSN (burgerservicenummer, 11-proof) named on its line",
        forms=r"\d{9}|\d{4}\.\d{2}\.\d{3}",
        distinctive=None,
        words=frozenset({"bsn", "burgerservicenummer", "sofi"}),
    ),
    NationalId(
        "de-tax-id",
        "German Steuer-ID (ISO 7064 check digit) named on its line",
        forms=r"\d{2} ?\d{3} ?\d{3} ?\d{3}",
        distinctive=None,
        words=frozenset({"steuer", "steuerid", "idnr", "identifikationsnummer", "tin"}),
    ),
    NationalId(
        "pl-pesel",
        "Polish PESEL (birth date, check digit) named on its line",
        forms=r"\d{11}",
        distinctive=None,
        words=frozenset({"pesel"}),
    ),
    NationalId(
        "se-personnummer",
        "Swedish personnummer (birth date, Luhn) named on its line",
        forms=r"(?:\d{2})?\d{6}[-+]?\d{4}",
        distinctive=None,
        words=frozenset({"personnummer", "personnr", "pnr"}),
    ),
    NationalId(
        "dk-cpr",
        "Danish CPR number (birth date) named on its line",
        forms=r"\d{6}-?\d{4}",
        distinctive=None,
        words=frozenset({"cpr"}),
    ),
    NationalId(
        "be-national-number",
        "Belgian national number (birth date, mod-97)",
        forms=r"\d{2}\.?\d{2}\.?\d{2}[-.]?\d{3}\.?\d{2}",
        distinctive=r"\d{2}\.\d{2}\.\d{2}-\d{3}\.\d{2}",
        words=frozenset({"rijksregisternummer", "rijksregister", "insz", "niss", "rrn"}),
    ),
    NationalId(
        "pt-nif",
        "Portuguese NIF (mod-11 check digit) named on its line",
        forms=r"\d{9}",
        distinctive=None,
        words=frozenset({"nif", "contribuinte"}),
    ),
    NationalId(
        "ca-sin",
        "Canadian Social Insurance Number (Luhn) named on its line",
        forms=r"\d{3}[ -]?\d{3}[ -]?\d{3}",
        distinctive=None,
        words=frozenset({"sin", "insurance"}),
    ),
    NationalId(
        "in-aadhaar",
        "Indian Aadhaar number (Verhoeff, never starting 0 or 1) named on its line",
        forms=r"[2-9]\d{3} ?\d{4} ?\d{4}",
        distinctive=None,
        words=frozenset({"aadhaar", "aadhar", "uidai", "uid"}),
    ),
    NationalId(
        "br-cpf",
        "Brazilian CPF (two mod-11 check digits)",
        forms=r"\d{3}\.\d{3}\.\d{3}-\d{2}|\d{11}",
        distinctive=r"\d{3}\.\d{3}\.\d{3}-\d{2}",
        words=frozenset({"cpf"}),
    ),
)
NATIONAL_IDS_BY_KIND = {national_id.kind: national_id for national_id in NATIONAL_IDS}


def _keywords(national_id: NationalId) -> tuple[str, ...]:
    """The prefilter's keywords: the naming words, or none when a distinctive form
    needs no name and so may be anywhere."""
    if national_id.distinctive is not None:
        return ()
    return tuple(sorted(NATIONAL_ID_WORDS | national_id.words))


def national_id_rules() -> tuple[Rule, ...]:
    """One personal-data rule per national identifier."""
    return tuple(
        Rule(
            id=national_id.kind,
            description=national_id.description,
            kind="pii",
            regex="(?m)" + value_start(r"\w.+-") + f"({national_id.forms})",
            secret_group=1,
            keywords=_keywords(national_id),
            validator=partial(
                national_id_is_real, kind=national_id.kind, distinctive=national_id.distinctive
            ),
        )
        for national_id in NATIONAL_IDS
    )
