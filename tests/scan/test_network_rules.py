"""Contracts the host, address and personal-data rules keep with the engine."""

from __future__ import annotations

import pickle

import pytest
import re2  # type: ignore[import-untyped]

from steward.scan.models import Rule
from steward.scan.network import network_rules
from steward.scan.pii import pii_rules
from tests.scan.scanned import ACME

RULES = network_rules(ACME) + pii_rules(ACME)

# A value of each rule at the start of a line, after a line that could end a value.
VALUE_AT_LINE_START = {
    "internal-host": "pg-primary.corp.acme.io",
    "internal-host-special-use": "billing-db.prod.internal",
    "internal-host-cluster": "redis.cache.svc.cluster.local",
    "private-ipv4": "10.12.4.7",
    "private-ipv6": "fd12:3456:789a::1",
    "email-address": "priya.raman@gmail.com",
    "phone-number": "+44 20 7183 8750",
    "phone-number-us": "(415) 555-2671",
    "phone-number-national": "020 7183 8750",
    "payment-card": "4539 1488 0343 6467",
    "iban": "DE75512108001245126199",
    "us-ssn": "536-90-4399",
    "uk-national-insurance-number": "JG 10 37 59 A",
    "es-dni": "73920461W",
    "es-nie": "X2482300W",
    "fr-nir": "1 84 12 76 451 495 28",
    "it-codice-fiscale": "RSSMRA85T10A562S",
    "nl-bsn": "628194821",
    "de-tax-id": "86241209577",
    "pl-pesel": "93100251678",
    "se-personnummer": "850315-3945",
    "dk-cpr": "211062-5629",
    "be-national-number": "85.07.30-033.28",
    "pt-nif": "274633191",
    "ca-sin": "756 710 240",
    "in-aadhaar": "2845 2984 1537",
    "br-cpf": "618.455.345-30",
}


def test_every_rule_has_a_line_start_case() -> None:
    assert {rule.id for rule in RULES} == set(VALUE_AT_LINE_START)


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.id)
def test_a_match_starts_on_its_values_line_when_many_lines_are_searched_at_once(
    rule: Rule,
) -> None:
    value = VALUE_AT_LINE_START[rule.id]
    text = f"first line\n{value}\n"
    match = re2.compile(rule.regex).search(text)
    assert match is not None
    assert match.group(rule.secret_group) == value
    assert match.start() == text.index(value)  # not the newline before it


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.id)
def test_validators_can_be_sent_to_worker_processes(rule: Rule) -> None:
    assert pickle.loads(pickle.dumps(rule)) == rule
