"""Realistic secrets made at test time, so no committed file holds one.

Each maker draws from a seeded generator: the same test run sees the same values,
and the values have the providers' formats (prefixes, lengths, alphabets,
checksums) without being anyone's credentials.
"""

from __future__ import annotations

import base64
import json
import random
import string

from steward.scan.engine import compile_rules, scan_chunks
from steward.scan.models import Chunk, Finding
from steward.scan.rules import DEFAULT_RULES
from steward.scan.secrets import github_checksum

ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
BASE64 = ALNUM + "+/"
URLSAFE = ALNUM + "_-"
BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

RULES = compile_rules(DEFAULT_RULES)


def secrets_in(text: str, path: str = "config.txt") -> list[Finding]:
    """The secret findings of the built-in rules in `text`, read as one file at `path`."""
    return [f for f in scan_chunks(RULES, [Chunk(path, text)]) if f.kind == "secret"]


def rule_ids(text: str, path: str = "config.txt") -> list[str]:
    """The ids of the secret rules that report something in `text`."""
    return [f.rule_id for f in secrets_in(text, path)]


class Maker:
    """Random strings in providers' formats, from one seeded generator."""

    def __init__(self, seed: int = 15) -> None:
        self.random = random.Random(seed)

    def chars(self, alphabet: str, n: int) -> str:
        return "".join(self.random.choice(alphabet) for _ in range(n))

    def alnum(self, n: int) -> str:
        return self.chars(ALNUM, n)

    def hex(self, n: int) -> str:
        return self.chars(HEX, n)

    def github(self, prefix: str = "ghp_") -> str:
        body = self.alnum(30)
        return prefix + body + github_checksum(body)

    def aws_key_id(self) -> str:
        return "AKIA" + self.chars(string.ascii_uppercase + "234567", 16)

    def aws_secret(self) -> str:
        return self.chars(BASE64, 40)

    def password(self) -> str:
        """A password as people pick them: words, digits and punctuation."""
        word = self.random.choice(["Falcon", "Orchid", "Tundra", "Marlin", "Quartz"])
        return f"{word}{self.random.randint(10, 99)}!{self.chars('#@%^&*:', 1)}{self.alnum(4)}"

    def jwt(self) -> str:
        def part(value: object) -> str:
            return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

        header = part({"alg": "RS256", "typ": "JWT"})
        payload = part({"sub": f"svc-{self.random.randint(1, 999)}", "iat": 1700000000})
        return f"{header}.{payload}.{self.chars(URLSAFE, 43)}"

    def pem_body(self) -> str:
        return self.chars(BASE64, 64)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()
