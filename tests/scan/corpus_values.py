"""Values the labelled corpus plants: secrets in each provider's real format, internal
hosts, private addresses, personal data, and the near-miss decoys beside them.

Every value is drawn from a seeded `random.Random`, so a seed gives the same corpus and
no live-looking secret is pasted into this file (documented example values, such as
AWS's `...EXAMPLE` keys and jwt.io's sample token, are the only literals).
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import string
import uuid
import zlib
from collections.abc import Callable

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
