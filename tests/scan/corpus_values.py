"""Values the labelled corpus plants: secrets in each provider's real format, internal
hosts, private addresses, personal data, and the near-miss decoys beside them.

Every value is drawn from a seeded `random.Random`, so a seed gives the same corpus and
no live-looking secret is pasted into this file (documented example values, such as
AWS's `...EXAMPLE` keys and jwt.io's sample token, are the only literals).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import random
import string
import struct
import uuid
import zlib
from collections.abc import Callable
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

UPPER = string.ascii_uppercase
LOWER = string.ascii_lowercase
DIGITS = string.digits
ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
B64 = ALNUM + "+/"
B64URL = ALNUM + "-_"

# Documented example values: what a scanner must know is not a leak.
AWS_EXAMPLE_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
AWS_EXAMPLE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
JWT_IO_SAMPLE = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9l"
    "IiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
SLACK_EXAMPLE_WEBHOOK = (
    "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"
)
STRIPE_TEST_CARDS = ("4242424242424242", "4000056655665556", "5555555555554444", "378282246310005")


def chars(rng: random.Random, alphabet: str, n: int) -> str:
    """`n` characters drawn from `alphabet`."""
    return "".join(rng.choice(alphabet) for _ in range(n))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def crc32_base62(body: str) -> str:
    """GitHub's and npm's token checksum: CRC32 of the random part, base62, 6 wide."""
    value = zlib.crc32(body.encode())
    digits = ""
    while value:
        value, rest = divmod(value, 62)
        digits = BASE62[rest] + digits
    return digits.rjust(6, "0")


def password(rng: random.Random, n: int = 18) -> str:
    """A human-chosen-looking strong password, with punctuation (never quotes)."""
    punct = "!#$%*+-.:=?@^_~"
    core = [rng.choice(UPPER), rng.choice(LOWER), rng.choice(DIGITS), rng.choice(punct)]
    core += [rng.choice(ALNUM + punct) for _ in range(n - 4)]
    rng.shuffle(core)
    return "".join(core)


def url_password(rng: random.Random, n: int = 20) -> str:
    """A password safe inside a URL's userinfo (no `@ / : # ?`)."""
    return chars(rng, ALNUM + "-._~!*", n - 2) + rng.choice(DIGITS) + rng.choice("!*~")


# -- keys and certificates ------------------------------------------------------------------
def _der(tag: int, body: bytes) -> bytes:
    if len(body) < 128:
        return bytes([tag, len(body)]) + body
    size = len(body).to_bytes((len(body).bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + body


def _der_int(n: int) -> bytes:
    return _der(0x02, n.to_bytes(n.bit_length() // 8 + 1, "big"))


def _pem_text(label: str, der: bytes) -> str:
    text = b64(der)
    lines = [text[i : i + 64] for i in range(0, len(text), 64)]
    return "\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----"])


def rsa_der(rng: random.Random, bits: int = 2048) -> bytes:
    """A PKCS#1 RSAPrivateKey, DER, with every field of a 2048-bit key computed from two
    seeded 1024-bit odd numbers. They are not proven prime: finding real primes in pure
    Python takes seconds per key here and cryptography's generator cannot be seeded; a
    scanner sees the same bytes either way."""
    e = 65537
    while True:
        p = rng.getrandbits(bits // 2) | (3 << (bits // 2 - 2)) | 1
        q = rng.getrandbits(bits // 2) | (3 << (bits // 2 - 2)) | 1
        phi = (p - 1) * (q - 1)
        if math.gcd(e, phi) == 1 and math.gcd(p, q) == 1:
            break
    d = pow(e, -1, phi)
    fields = [0, p * q, e, d, p, q, d % (p - 1), d % (q - 1), pow(q, -1, p)]
    return _der(0x30, b"".join(_der_int(n) for n in fields))


def rsa_pem(rng: random.Random) -> str:
    return _pem_text("RSA PRIVATE KEY", rsa_der(rng))


def pkcs8_pem(rng: random.Random) -> str:
    algorithm = _der(0x30, bytes.fromhex("06092a864886f70d0101010500"))
    body = _der_int(0) + algorithm + _der(0x04, rsa_der(rng))
    return _pem_text("PRIVATE KEY", _der(0x30, body))


def _pem(key: ec.EllipticCurvePrivateKey, fmt: serialization.PrivateFormat) -> str:
    encoding = serialization.Encoding.PEM
    return key.private_bytes(encoding, fmt, serialization.NoEncryption()).decode().strip()


def ec_pem(rng: random.Random) -> str:
    key = ec.derive_private_key(rng.getrandbits(250) + 1, ec.SECP256R1())
    return _pem(key, serialization.PrivateFormat.TraditionalOpenSSL)


def _ssh_string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def openssh_pem(rng: random.Random) -> str:
    """An OpenSSH ed25519 private key, written by hand so its check integers are seeded."""
    seed = rng.randbytes(32)
    raw = serialization.Encoding.Raw
    public = ed25519.Ed25519PrivateKey.from_private_bytes(seed).public_key()
    pub = public.public_bytes(raw, serialization.PublicFormat.Raw)
    blob = _ssh_string(b"ssh-ed25519") + _ssh_string(pub)
    check = rng.randbytes(4)
    private = check + check + blob + _ssh_string(seed + pub) + _ssh_string(b"deploy@build")
    private += bytes(range(1, 8 - len(private) % 8 + 1)) if len(private) % 8 else b""
    body = b"openssh-key-v1\0" + _ssh_string(b"none") + _ssh_string(b"none") + _ssh_string(b"")
    body += struct.pack(">I", 1) + _ssh_string(blob) + _ssh_string(private)
    text = b64(body)
    lines = [text[i : i + 70] for i in range(0, len(text), 70)]
    return "\n".join(
        ["-----BEGIN OPENSSH PRIVATE KEY-----", *lines, "-----END OPENSSH PRIVATE KEY-----"]
    )


def pgp_pem(rng: random.Random) -> str:
    """A PGP private key block: an armoured body of the right shape (not a usable key)."""
    body = b64(b"\x95\x03\xc6\x04" + rng.randbytes(900))
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    crc = b64(rng.randbytes(3))
    return "\n".join(
        [
            "-----BEGIN PGP PRIVATE KEY BLOCK-----",
            "",
            *lines,
            "=" + crc,
            "-----END PGP PRIVATE KEY BLOCK-----",
        ]
    )


def certificate_pem(rng: random.Random, host: str) -> str:
    """A self-signed Ed25519 certificate (deterministic: Ed25519 signatures are)."""
    key = ed25519.Ed25519PrivateKey.from_private_bytes(rng.randbytes(32))
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    start = datetime(2024, 1, 1, tzinfo=UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(rng.getrandbits(64) + 1)
        .not_valid_before(start)
        .not_valid_after(start.replace(year=2034))
        .sign(key, None)
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode().strip()


def public_key_pem(rng: random.Random) -> str:
    key = ed25519.Ed25519PrivateKey.from_private_bytes(rng.randbytes(32)).public_key()
    fmt = serialization.PublicFormat.SubjectPublicKeyInfo
    return key.public_bytes(serialization.Encoding.PEM, fmt).decode().strip()


def ssh_public_key(rng: random.Random) -> str:
    key = ed25519.Ed25519PrivateKey.from_private_bytes(rng.randbytes(32)).public_key()
    fmt = serialization.PublicFormat.OpenSSH
    return key.public_bytes(serialization.Encoding.OpenSSH, fmt).decode() + " ci-runner"


def jwt(rng: random.Random, issuer: str) -> str:
    """An HS256 JWT that decodes, signed with a random key."""
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    iat = 1_700_000_000 + rng.randrange(30_000_000)
    claims = {
        "sub": str(uuid.UUID(int=rng.getrandbits(128))),
        "iss": issuer,
        "iat": iat,
        "exp": iat + 31_536_000,
    }
    payload = b64url(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(rng.randbytes(32), f"{header}.{payload}".encode(), hashlib.sha256)
    return f"{header}.{payload}.{b64url(signature.digest())}"


# -- secrets by type ----------------------------------------------------------------------
def _github(prefix: str) -> Callable[[random.Random], str]:
    def make(rng: random.Random) -> str:
        body = chars(rng, ALNUM, 30)
        return prefix + body + crc32_base62(body)

    return make


def _npm(rng: random.Random) -> str:
    body = chars(rng, ALNUM, 30)
    return "npm_" + body + crc32_base62(body)


def _github_fine_grained(rng: random.Random) -> str:
    return "github_pat_11" + chars(rng, UPPER + DIGITS, 20) + "_" + chars(rng, ALNUM, 59)


def _slack_webhook(rng: random.Random) -> str:
    team, hook = chars(rng, UPPER + DIGITS, 8), chars(rng, UPPER + DIGITS, 10)
    return f"https://hooks.slack.com/services/T{team}/B{hook}/{chars(rng, ALNUM, 24)}"


def _discord_bot(rng: random.Random) -> str:
    user = str(rng.randrange(10**17, 12 * 10**17)).encode()
    return b64(user).rstrip("=") + "." + chars(rng, B64URL, 6) + "." + chars(rng, B64URL, 38)


def _discord_webhook(rng: random.Random) -> str:
    return (
        f"https://discord.com/api/webhooks/{rng.randrange(10**17, 10**18)}/{chars(rng, B64URL, 68)}"
    )


def _azure_storage(rng: random.Random) -> str:
    return b64(rng.randbytes(64))


def _braintree(rng: random.Random) -> str:
    return f"access_token$production${chars(rng, LOWER + DIGITS, 16)}${chars(rng, HEX, 32)}"


def _age(rng: random.Random) -> str:
    return "AGE-SECRET-KEY-1" + chars(rng, "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58)


def _vault(rng: random.Random) -> str:
    return "hvs." + chars(rng, ALNUM + "_-", 90)


def _atlassian(rng: random.Random) -> str:
    return "ATATT3xFfGF0" + chars(rng, ALNUM + "_-", 170) + "=" + chars(rng, HEX.upper(), 8)


def _terraform_cloud(rng: random.Random) -> str:
    return chars(rng, ALNUM, 14) + ".atlasv1." + chars(rng, ALNUM, 67)


def _grafana_cloud(rng: random.Random) -> str:
    payload = json.dumps(
        {"o": str(rng.randrange(10**6)), "n": "stack-ci", "k": chars(rng, ALNUM, 32)}
    )
    return "glc_" + b64(payload.encode()).rstrip("=")


def _django(rng: random.Random) -> str:
    return chars(rng, LOWER + DIGITS + "!@#%^&*(-_=+)", 50)


def _flask(rng: random.Random) -> str:
    return chars(rng, HEX, 64)


def _laravel(rng: random.Random) -> str:
    return "base64:" + b64(rng.randbytes(32))


SECRET_VALUES: dict[str, Callable[[random.Random], str]] = {
    "aws-access-key-id": lambda r: "AKIA" + chars(r, UPPER + "234567", 16),
    "aws-secret-access-key": lambda r: chars(r, B64, 40),
    "aws-temporary-access-key-id": lambda r: "ASIA" + chars(r, UPPER + "234567", 16),
    "gcp-api-key": lambda r: "AIza" + chars(r, B64URL, 35),
    "azure-storage-account-key": _azure_storage,
    "azure-ad-client-secret": lambda r: (
        chars(r, ALNUM, 3) + r.choice(DIGITS) + "Q~" + chars(r, ALNUM + "_~.-", 34)
    ),
    "digitalocean-token": lambda r: "dop_v1_" + chars(r, HEX, 64),
    "github-pat": _github("ghp_"),
    "github-oauth-token": _github("gho_"),
    "github-app-token": _github("ghs_"),
    "github-fine-grained-pat": _github_fine_grained,
    "gitlab-pat": lambda r: "glpat-" + chars(r, ALNUM + "_-", 20),
    "gitlab-runner-token": lambda r: "glrt-" + chars(r, ALNUM + "_-", 20),
    "slack-bot-token": lambda r: (
        f"xoxb-{r.randrange(10**11, 10**12)}-{r.randrange(10**12, 10**13)}-{chars(r, ALNUM, 24)}"
    ),
    "slack-user-token": lambda r: (
        f"xoxp-{r.randrange(10**11, 10**12)}-{r.randrange(10**11, 10**12)}-"
        f"{r.randrange(10**12, 10**13)}-{chars(r, HEX, 32)}"
    ),
    "slack-app-token": lambda r: (
        f"xapp-1-A{chars(r, UPPER + DIGITS, 10)}-{r.randrange(10**12, 10**13)}-{chars(r, HEX, 64)}"
    ),
    "slack-webhook-url": _slack_webhook,
    "discord-bot-token": _discord_bot,
    "discord-webhook-url": _discord_webhook,
    "telegram-bot-token": lambda r: f"{r.randrange(10**8, 10**10)}:AA{chars(r, B64URL, 33)}",
    "stripe-secret-key": lambda r: "sk_live_" + chars(r, ALNUM, 99),
    "stripe-restricted-key": lambda r: "rk_live_" + chars(r, ALNUM, 99),
    "stripe-webhook-secret": lambda r: "whsec_" + chars(r, ALNUM, 32),
    "square-access-token": lambda r: "EAAA" + chars(r, B64URL, 60),
    "square-oauth-secret": lambda r: "sq0csp-" + chars(r, B64URL, 43),
    "paypal-braintree-access-token": _braintree,
    "npm-token": _npm,
    "pypi-token": lambda r: "pypi-AgEIcHlwaS5vcmc" + chars(r, B64URL, 140),
    "dockerhub-pat": lambda r: "dckr_pat_" + chars(r, B64URL, 27),
    "openai-api-key": lambda r: (
        "sk-proj-" + chars(r, B64URL, 74) + "T3BlbkFJ" + chars(r, B64URL, 74)
    ),
    "anthropic-api-key": lambda r: "sk-ant-api03-" + chars(r, B64URL, 93) + "AA",
    "huggingface-token": lambda r: "hf_" + chars(r, string.ascii_letters, 34),
    "databricks-token": lambda r: "dapi" + chars(r, HEX, 32),
    "datadog-api-key": lambda r: chars(r, HEX, 32),
    "datadog-app-key": lambda r: chars(r, HEX, 40),
    "sentry-auth-token": lambda r: "sntryu_" + chars(r, HEX, 64),
    "vault-token": _vault,
    "grafana-service-account-token": lambda r: (
        "glsa_" + chars(r, ALNUM, 32) + "_" + chars(r, HEX, 8)
    ),
    "grafana-cloud-token": _grafana_cloud,
    "shopify-access-token": lambda r: "shpat_" + chars(r, HEX, 32),
    "shopify-shared-secret": lambda r: "shpss_" + chars(r, HEX, 32),
    "sendgrid-api-key": lambda r: "SG." + chars(r, B64URL, 22) + "." + chars(r, B64URL, 43),
    "twilio-api-key": lambda r: "SK" + chars(r, HEX, 32),
    "twilio-auth-token": lambda r: chars(r, HEX, 32),
    "mailgun-api-key": lambda r: "key-" + chars(r, HEX, 32),
    "atlassian-api-token": _atlassian,
    "linear-api-key": lambda r: "lin_api_" + chars(r, ALNUM, 40),
    "pulumi-token": lambda r: "pul-" + chars(r, HEX, 40),
    "terraform-cloud-token": _terraform_cloud,
    "age-secret-key": _age,
    "django-secret-key": _django,
    "flask-secret-key": _flask,
    "rails-secret-key-base": lambda r: chars(r, HEX, 128),
    "laravel-app-key": _laravel,
    "generic-api-key": lambda r: chars(r, ALNUM, 40),
    "password-assignment": password,
}


# -- personal data ------------------------------------------------------------------------
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


IBAN_SHAPES = {
    "DE": "n18",
    "FR": "n23",
    "GB": "a4n14",
    "NL": "a4n10",
    "ES": "n20",
    "IT": "a1n22",
    "BE": "n12",
}


def _iban_from(country: str, bban: str) -> str:
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    check = 98 - int(digits) % 97
    return f"{country}{check:02d}{bban}"


def iban(rng: random.Random, valid: bool = True) -> str:
    country = rng.choice(sorted(IBAN_SHAPES))
    shape = IBAN_SHAPES[country]
    letters = int(shape[1]) if shape.startswith("a") else 0
    numbers = int(shape.split("n")[1])
    bban = chars(rng, UPPER, letters) + chars(rng, DIGITS, numbers)
    value = _iban_from(country, bban)
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
    """A real-looking phone number outside every fictional range, E.164 or national."""
    style = rng.randrange(5)
    if style == 0:
        area = rng.choice([415, 212, 646, 312, 617])
        return f"+1{area}{rng.randrange(200, 999)}{rng.randrange(1000, 10000)}"
    if style == 1:
        area = rng.choice([415, 212, 303, 512])
        return f"({area}) {rng.randrange(200, 999)}-{rng.randrange(1000, 10000)}"
    if style == 2:
        return f"+44 7{rng.randrange(400, 999)} {rng.randrange(100000, 999999)}"
    if style == 3:
        return f"+49 30 {rng.randrange(1000000, 99999999)}"
    return f"+33 6 {' '.join(f'{rng.randrange(100):02d}' for _ in range(4))}"


PII_VALUES: dict[str, Callable[[random.Random], str]] = {
    "email": email,
    "phone": phone,
    "payment-card": card,
    "iban": iban,
    "us-ssn": ssn,
    "uk-nino": uk_nino,
    "es-dni": es_dni,
}


# -- internal hosts and private addresses ---------------------------------------------------
INTERNAL_DOMAIN = "corp.acme.io"
ALLOWED_EMAIL_DOMAIN = "acme.io"
ROLES = [
    "pg-primary",
    "pg-replica",
    "redis-cache",
    "kafka-broker",
    "vault",
    "grafana",
    "jenkins",
    "artifactory",
    "ldap",
    "es-data",
    "mq",
    "etl-runner",
    "airflow",
    "trino-coordinator",
    "minio",
    "keycloak",
    "sonar",
    "nexus",
    "bastion",
    "smtp-relay",
]
NAMESPACES = ["billing", "payments", "data", "platform", "identity", "search", "ml"]


def internal_host(rng: random.Random) -> str:
    """A host name only an internal resolver knows, in one of the usual shapes."""
    role = rng.choice(ROLES) + rng.choice(
        ["", f"-{rng.randrange(1, 9):02d}", f"{rng.randrange(1, 5)}"]
    )
    style = rng.randrange(8)
    if style <= 2:
        env = rng.choice(["", "prod.", "stg.", "dev.", "eu-west.", "us-east."])
        return f"{role}.{env}{INTERNAL_DOMAIN}"
    if style == 3:
        return f"{role}.{rng.choice(['prod.', 'ops.', ''])}internal"
    if style == 4:
        return f"{role}.{rng.choice(['local', 'lan', 'corp', 'home.arpa'])}"
    if style == 5:
        return f"{role}.{rng.choice(NAMESPACES)}.svc.cluster.local"
    if style == 6:
        return f"{role}.{rng.choice(NAMESPACES)}.svc"
    return f"ip-10-{rng.randrange(256)}-{rng.randrange(256)}-{rng.randrange(1, 255)}.ec2.internal"


def private_ip(rng: random.Random) -> str:
    """An RFC 1918, RFC 6598 or RFC 4193 address, sometimes with a port or as a CIDR."""
    style = rng.randrange(6)
    if style == 0:
        address = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
    elif style == 1:
        address = f"172.{rng.randrange(16, 32)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
    elif style == 2:
        address = f"192.168.{rng.randrange(256)}.{rng.randrange(1, 255)}"
    elif style == 3:
        address = f"100.{rng.randrange(64, 128)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
    elif style == 4:
        groups = [f"fd{rng.randrange(256):02x}", *(f"{rng.randrange(65536):x}" for _ in range(3))]
        address = ":".join(groups) + f"::{rng.randrange(1, 4096):x}"
    else:
        return f"10.{rng.randrange(256)}.0.0/{rng.choice([16, 20, 24])}"
    if ":" not in address and rng.random() < 0.3:
        return f"{address}:{rng.choice([5432, 6379, 9092, 8080, 443, 3306])}"
    return address


# -- decoys -------------------------------------------------------------------------------
def git_sha(rng: random.Random) -> str:
    return chars(rng, HEX, 40)


def sha256_hex(rng: random.Random) -> str:
    return hashlib.sha256(rng.randbytes(16)).hexdigest()


def npm_integrity(rng: random.Random) -> str:
    return "sha512-" + b64(hashlib.sha512(rng.randbytes(16)).digest())


def base64_text(rng: random.Random) -> str:
    text = rng.choice(
        [
            "Welcome to the billing service",
            "maintenance window: Sunday 02:00",
            "hello world from the data platform",
            "Content-Type: application/json",
            "please contact the platform team",
        ]
    )
    return b64(text.encode())


def uuid_text(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def bad_checksum(token: str) -> str:
    """The token with its last checksum character changed: a fixture, not a credential."""
    last = token[-1]
    return token[:-1] + BASE62[(BASE62.index(last) + 7) % 62]


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


def documentation_ip(rng: random.Random) -> str:
    style = rng.randrange(4)
    if style == 3:
        return f"2001:db8::{rng.randrange(1, 4096):x}"
    prefix = ["192.0.2", "198.51.100", "203.0.113"][style]
    return f"{prefix}.{rng.randrange(1, 255)}"


def public_neighbour_ip(rng: random.Random) -> str:
    """An address just outside a private range: public, so not a finding."""
    return rng.choice(
        [
            f"172.{rng.choice([15, 32, 33])}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
            f"100.{rng.choice([63, 128, 129])}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
            f"192.169.{rng.randrange(256)}.{rng.randrange(1, 255)}",
            f"11.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
            rng.choice(["8.8.8.8", "1.1.1.1", "9.9.9.9", "2606:4700:4700::1111"]),
        ]
    )


def version_string(rng: random.Random) -> str:
    return f"10.{rng.randrange(10)}.{rng.randrange(10)}.{rng.randrange(1, 40)}"


def public_host(rng: random.Random) -> str:
    return rng.choice(
        [
            "github.com",
            "api.github.com",
            "pypi.org",
            "files.pythonhosted.org",
            "registry.npmjs.org",
            "s3.amazonaws.com",
            f"acme-artifacts.s3.{rng.choice(['eu-west-1', 'us-east-1'])}.amazonaws.com",
            f"ec2-54-{rng.randrange(256)}-{rng.randrange(256)}-{rng.randrange(256)}.compute-1.amazonaws.com",
            "hooks.slack.com",
            "www.acme.io",
            "api.acme.io",
            "status.acme.io",
            "docs.docker.com",
            "storage.googleapis.com",
            "login.microsoftonline.com",
            "ghcr.io",
            "quay.io",
        ]
    )
