"""National identifiers in configs, fixtures and code: a distinctive shape with a valid
check is reported anywhere; a bare run of digits only where its line names the id; and
placeholders, wrong check digits and longer numbers never."""

from __future__ import annotations

import pytest

from tests.scan.scanned import reported, where


def pii(text: str, path: str = "config.yaml") -> list:
    return reported(text, kind="pii", path=path)


@pytest.mark.parametrize(
    ("text", "value", "rule"),
    [
        ('1004,"73920461W",premium,ES,2024-10-19', "73920461W", "es-dni"),  # a CSV row
        ("  0  48392017V    trial", "48392017V", "es-dni"),  # a notebook's table
        ("titular: X2482300W", "X2482300W", "es-nie"),
        ("assure: 1 84 12 76 451 495 28", "1 84", "fr-nir"),
        ("insee = 184127645149528", "1841", "fr-nir"),
        ('{"owner": "RSSMRA85T10A562S"}', "RSSMRA85T10A562S", "it-codice-fiscale"),
        ("bsn: 628194821", "628194821", "nl-bsn"),
        ("steuer_id = 86241209577", "86241209577", "de-tax-id"),
        ("<pesel>93100251678</pesel>", "93100251678", "pl-pesel"),
        ("personnummer: 850315-3945", "850315-3945", "se-personnummer"),
        ("cpr: 211062-5629", "211062-5629", "dk-cpr"),
        ("holder 85.07.30-033.28", "85.07", "be-national-number"),
        ("nif: 274633191", "274633191", "pt-nif"),
        ("employee_sin: 756 710 240", "756", "ca-sin"),
        ("aadhaar_no = '2845 2984 1537'", "2845", "in-aadhaar"),
        ("cliente 618.455.345-30", "618.", "br-cpf"),
    ],
)
def test_national_ids_are_reported(text: str, value: str, rule: str) -> None:
    assert pii(text) == [(rule, *where(text, value))]


@pytest.mark.parametrize(
    "text",
    [
        "dni: 73920461A",  # wrong check letter
        "dni: 12345678Z",  # the example every form shows
        "dni: 00000000T",
        "build 73920461W9",  # part of a longer token
        "ref ABC73920461W",
        "insee = 184127645149529",  # wrong mod-97 key
        "RSSMRA85T10A562T",  # wrong check letter
        "order: 628194821",  # nine digits that pass the 11-proof, but nothing names a BSN
        "bsn: 628194822",
        "1004,93100251678,basic",  # a PESEL-valid number, unnamed
        "aadhaar: 1845 2984 1537",  # Aadhaar never starts with 0 or 1
        "sin: 756 710 241",  # wrong Luhn digit
        "cpf: 618.455.345-31",
        "cpr: 321362-5629",  # no 32nd of the 13th month
    ],
)
def test_national_id_lookalikes_are_not_reported(text: str) -> None:
    assert pii(text) == []


def test_a_generic_national_id_name_is_context_for_every_country() -> None:
    text = "national_id: 628194821"  # a valid BSN, and by chance a Luhn-valid SIN
    assert ("nl-bsn", *where(text, "628194821")) in pii(text)
    assert pii("customer_ref: 628194821") == []
