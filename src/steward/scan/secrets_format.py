"""Builders for provider rules: a token found by its format, or a value found by its key."""

from __future__ import annotations

from steward.scan.models import Rule, Validator
from steward.scan.secrets_checks import keyed_value_is_real, token_is_real

# Where a token may end: not inside a longer run of token characters.
END = r"(?:[^A-Za-z0-9_-]|$)"
# Between a key and its value: quotes (also JSON-escaped), spaces, one assignment sign.
ASSIGN = r"[\\\"'`\]]*[ \t]*(?:=|:|:=|=>|,|\|\|)[ \t]*[\\\"'`]*"


def token(
    id: str,
    description: str,
    regex: str,
    keywords: tuple[str, ...],
    validator: Validator = token_is_real,
) -> Rule:
    """A rule whose secret is the first group of `regex`."""
    return Rule(
        id=id,
        description=description,
        kind="secret",
        regex=regex,
        secret_group=1,
        keywords=keywords,
        validator=validator,
    )


def keyed(id: str, description: str, names: str, value: str, keywords: tuple[str, ...]) -> Rule:
    """A rule for a value only its key identifies: a key matching `names` (case-insensitive),
    an assignment in any config syntax, then `value`."""
    return token(
        id,
        description,
        rf"(?i:{names})[\w.-]{{0,30}}{ASSIGN}({value}){END}",
        keywords,
        keyed_value_is_real,
    )
