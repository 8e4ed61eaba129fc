"""Personal data in configs, fixtures, notebooks and code: each kind found by the
catalog's own checks, and the look-alikes (reserved domains, ssh remotes, test cards,
example IBANs, dates and versions) that are not anyone's data."""

from __future__ import annotations

import json

import pytest

from steward.scan.models import ScanOptions
from tests.scan.scanned import ACME, reported, where


def pii(text: str, path: str = "config.yaml", options: ScanOptions = ACME) -> list:
    return reported(text, kind="pii", path=path, options=options)


@pytest.mark.parametrize(
    ("path", "text", "value"),
    [
        ("owners.yaml", "owner: priya.raman@gmail.com", "priya.raman"),
        ("package.json", '{"author": "Tomás Ortega <tomas.ortega@outlook.com>"}', "tomas.ortega"),
        ("CODEOWNERS", "/billing/ j.wu+billing@fastmail.fm", "j.wu"),
        ("app.ini", "[alerts]\nto = k.nakamura@yahoo.co.jp\n", "k.nakamura"),
        ("pom.xml", "<email>m.schulz@web.de</email>", "m.schulz"),
        ("notify.py", 'send(to="olga.petrova@mail.ru")', "olga.petrova"),
        ("index.html", '<a href="mailto:lee.chen@proton.me">mail</a>', "lee.chen"),
        ("alerts.yaml", "receivers:\n  alice.b@hotmail.com: pager\n", "alice.b"),
        ("reply.eml", "In-Reply-To: <x1@mail.gmail.com>\nTo: Rosa <rosa.diaz@gmail.com>", "rosa"),
    ],
)
def test_personal_email_is_reported(path: str, text: str, value: str) -> None:
    assert pii(text, path) == [("email-address", *where(text, value))]


@pytest.mark.parametrize(
    "text",
    [
        "maintainer: dev@acme.io",  # the operator's allowed domain
        "from: billing@eu.acme.io",  # and its subdomains
        "email: jane.doe@example.com",  # RFC 2606 / 6761 reserved names
        "email: jane.doe@mail.example",
        "to: ops@service.test",
        "to: x@example.co.uk",
        "Co-authored-by: Sam <41898282+sam@users.noreply.github.com>",
        "from: noreply@github.com",
        "reply_to: no-reply@shop.de",
        "report to security@python.org",  # a role mailbox, not a person
        "url = git@github.com:acme/steward.git",  # ssh remotes and logins
        "ssh ubuntu@ec2-3-120-1-1.eu-central-1.compute.amazonaws.com",
        "DATABASE_URL=postgres://alice@db.prod.acme-corp.com:5432/app",
        "image: nginx@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31",
        "npm install lodash@4.17.21",
        "@app.route('/users')",
        "alice%40gmail.com",
        "email: your.name@gmail.com",  # placeholders
        "email: user@gmail.com",
        '"Email": "exampleUser1@site.awsapps.com",',
        "Ciphers chacha20-poly1305@openssh.com,aes256-gcm@openssh.com",  # ssh algorithm names
        # Machine identities: service accounts, workload identities, bots.
        '"client_email": "etl@acme-ml.iam.gserviceaccount.com",',
        "member: serviceAccount:123456789012-compute@developer.gserviceaccount.com",
        "sa: deployer@appspot.gserviceaccount.com",
        "principal: acme-prod.svc.id.goog[default/ksa]@acme-prod.svc.id.goog",
        "Principal: states.amazonaws.com@eu-west-1.amazonaws.com",
        "author: renovate-bot@whitesourcesoftware.com",
        "ci_email: svc-deploy@bigcorp.com",
        "Message-Id: <mail.1ab23c45.5de6@storage.mail.acme-corp.com>",
        "ssh -i ~/.ssh/key.pem hadoop@ec2-52-52-41-150.us-west-2.compute.amazonaws.com",
    ],
)
def test_email_lookalikes_are_not_reported(text: str) -> None:
    assert pii(text) == []


def test_allowed_email_domains_are_the_operators() -> None:
    text = "owner: dana@partner.org"
    assert pii(text) == [("email-address", *where(text, "dana"))]
    assert pii(text, options=ScanOptions(allowed_email_domains=("partner.org",))) == []


@pytest.mark.parametrize(
    ("text", "value", "rule"),
    [
        ("phone: +44 20 7183 8750", "+44", "phone-number"),
        ('"mobilePhone": "+1 (415) 555-2671"', "+1", "phone-number"),
        ("contact: tel:+33142685300", "+33", "phone-number"),
        ("fax = +49 30 901820", "+49", "phone-number"),
        ("hotline: +1 415 555 2671 24/7", "+1", "phone-number"),  # a number after it
        ("phone_number: (415) 555-2671", "(415)", "phone-number-us"),
        ("Jane Roe,Sales,415-555-2671", "415-", "phone-number-us"),  # a CSV row
        ("phone_number: 415 555 2671", "415", "phone-number-national"),
        ("Tel. 020 7183 8750", "020", "phone-number-national"),
        ("<mobile>415.555.2671</mobile>", "415", "phone-number-national"),
    ],
)
def test_phone_numbers_are_reported(text: str, value: str, rule: str) -> None:
    assert pii(text) == [(rule, *where(text, value))]


@pytest.mark.parametrize(
    "text",
    [
        "offset: +1 5",  # too short for any plan
        "total = base +12",
        "timezone: +05:30",
        "ts: 2023-10-12T10:00:00+01:00",
        "order_id: 415 555 2671",  # a national number needs a phone word on its line
        "phone_verified_at: 2023-10-12",
        "phone: 1234567890",  # not valid in any plan
        "phone: +1 555 0100",
        "port: 8080 tel 3000",
        # Ranges reserved for fiction and examples: NANP 555-0100..0199, Ofcom's drama
        # numbers, ACMA's fictitious mobiles and landlines.
        "SUPPORT_PHONE=+1-312-555-0199",
        "phone_number: (415) 555-0134",
        "support: 202-555-0117",
        "phone: +44 20 7946 0958",
        "Tel. 020 7946 0123",
        "mobile: 07700 900461",
        "tel: 0161 496 0742",
        "phone: +61 491 570 156",
        "mobile: 0491 570 006",
        "phone: (02) 5550 1234",
    ],
)
def test_phone_lookalikes_are_not_reported(text: str) -> None:
    assert pii(text) == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("card: 4539 1488 0343 6467", "4539"),  # Visa
        ('{"pan": "5425-2334-3010-9903"}', "5425"),  # Mastercard
        ("cc=2221345872091630", "2221"),  # Mastercard 2-series
        ("amex 3487 651209 34574", "3487"),  # American Express 4-6-5
        ("<card>6011 0045 1239 8765</card>", "6011"),  # Discover
        ("jcb: 3530841234567899", "3530"),
        ("unionpay: 6212345678901265", "6212"),
    ],
)
def test_payment_cards_are_reported(text: str, value: str) -> None:
    assert pii(text) == [("payment-card", *where(text, value))]


@pytest.mark.parametrize(
    "text",
    [
        "card: 4111 1111 1111 1111",  # documented test cards
        "card: 4242 4242 4242 4242",
        "card: 5555 5555 5555 4444",
        "card: 3782 822463 10005",
        "card: 4012 8888 8888 1881",
        "card: 4539 1488 0343 6468",  # wrong Luhn digit
        "card: 9539 1488 0343 6467",  # no network issues 9...
        "id: 45391488034364671234",  # a longer number
        "ts: 1700000000000000",
        "amount: 4539148803436467.50",
        "arn:aws:greengrass:us-west-2:675946970638:components:x",  # an account id
    ],
)
def test_card_lookalikes_are_not_reported(text: str) -> None:
    assert pii(text) == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("iban: DE75 5121 0800 1245 1261 99", "DE75"),
        ('"iban": "FR7630006000011234567890189"', "FR76"),
        ("<IBAN>NL02ABNA0123456789</IBAN>", "NL02"),
        ("payout GB94BARC10201530093459 monthly", "GB94"),
    ],
)
def test_ibans_are_reported(text: str, value: str) -> None:
    assert pii(text) == [("iban", *where(text, value))]


@pytest.mark.parametrize(
    "text",
    [
        "iban: DE75 5121 0800 1245 1261 98",  # wrong check digits
        "iban: GB82 WEST 1234 5698 7654 32",  # printed examples
        "iban: DE89 3704 0044 0532 0130 00",
        "token: AB12CDEF3456GHIJ7890",
        "DE75512108001245126199X",
    ],
)
def test_iban_lookalikes_are_not_reported(text: str) -> None:
    assert pii(text) == []


@pytest.mark.parametrize(
    ("text", "value", "rule"),
    [
        ("ssn: 536-90-4399", "536", "us-ssn"),
        ('{"SSN": "536904399"}', "536", "us-ssn"),
        ("social_security_number = '536 90 4399'", "536", "us-ssn"),
        ("nino: JG 10 37 59 A", "JG", "uk-national-insurance-number"),
        ("<ni_number>CE123789D</ni_number>", "CE", "uk-national-insurance-number"),
    ],
)
def test_national_ids_are_reported(text: str, value: str, rule: str) -> None:
    assert pii(text) == [(rule, *where(text, value))]


@pytest.mark.parametrize(
    "text",
    [
        "ssn: 123-45-6789",  # the placeholder everyone writes
        "ssn: 078-05-1120",  # the Woolworth wallet card
        "ssn: 666-12-3456",  # never issued areas, groups and serials
        "ssn: 912-34-5678",
        "ssn: 536-00-4399",
        "order: 536904399",  # nine bare digits need an SSN word
        "isbn 978-3-16-148410-0",
        '1004,"796-34-6807-90",basic,FR',  # an id longer than an SSN
        "ref: 2024-536-90-4399",
        "ssn_checked_on: 536.90.4399.1",
        "nino: QQ 12 34 56 C",  # Q is never a first letter (HMRC's example)
        "nino: GB 12 34 56 A",  # unallocated prefix
        "nino: AB 12 34 56 C",  # sequential placeholder
        "sku: JG103759AX",
    ],
)
def test_national_id_lookalikes_are_not_reported(text: str) -> None:
    assert pii(text) == []


def test_notebook_cell_output_is_read() -> None:
    output = {"output_type": "stream", "text": ["customer:\nrahul.verma@gmail.com\n"]}
    text = json.dumps({"outputs": [output]})
    assert pii(text, "crm.ipynb") == [("email-address", *where(text, "rahul.verma"))]


def test_inline_allow_silences_personal_data() -> None:
    assert pii("owner: priya.raman@gmail.com  # steward:allow") == []


@pytest.mark.parametrize(
    "text",
    [
        "g = 4828147466240000*t**12",  # an operand
        "pow(3, 390625000000000000)",  # padding zeros
        "ids: [a@b.com, ed@foo.com, jane@company.com]",  # placeholder addresses
        "recipient: success@simulator.amazonses.com",
        "ssn: 111-22-3333",
    ],
)
def test_numbers_and_addresses_in_code_and_docs_are_not_reported(text: str) -> None:
    assert pii(text) == []
