"""Builders for provider rules: a token found by its format, or a value found by its key."""

from __future__ import annotations

from steward.scan.models import Allowlist, Rule, Validator
from steward.scan.secrets_checks import keyed_value_is_real, token_is_real

# Where a token may end: not inside a longer run of token characters.
END = r"(?:[^A-Za-z0-9_-]|$)"
# Between a key and its value: quotes (also JSON-escaped), spaces, one assignment sign.
ASSIGN = r"[\\\"'`\]]*[ \t]*(?:=|:|:=|=>|,|\|\|)[ \t]*[\\\"'`]*"


def secret_rule(
    id: str,
    description: str,
    regex: str,
    keywords: tuple[str, ...],
    validator: Validator = token_is_real,
    *,
    group: int = 1,
    path: str | None = None,
    allowlists: tuple[Allowlist, ...] = (),
) -> Rule:
    """A secret rule; the secret is group `group` of `regex`."""
    return Rule(
        id=id,
        description=description,
        kind="secret",
        regex=regex,
        secret_group=group,
        keywords=keywords,
        path=path,
        allowlists=allowlists,
        validator=validator,
    )


def keyed(id: str, description: str, names: str, value: str, keywords: tuple[str, ...]) -> Rule:
    """A rule for a value only its key identifies: a key matching `names` (case-insensitive),
    an assignment in any config syntax, then `value`."""
    return secret_rule(
        id,
        description,
        rf"(?i:{names})[\w.-]{{0,30}}{ASSIGN}({value}){END}",
        keywords,
        keyed_value_is_real,
    )
