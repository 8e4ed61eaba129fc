"""Steward's built-in secret rules: provider tokens first, then context rules.

The rules live by family in `secrets_providers` (tokens whose format identifies them)
and `secrets_context` (values their surroundings make secret); validators in
`secrets_checks` and `secrets_values`; what is not a secret in `decoys`.
"""

from __future__ import annotations

from steward.scan.models import Rule
from steward.scan.secrets_checks import github_checksum
from steward.scan.secrets_context import CONTEXT_RULES
from steward.scan.secrets_providers import PROVIDER_RULES

SECRET_RULES: tuple[Rule, ...] = PROVIDER_RULES + CONTEXT_RULES

__all__ = ["SECRET_RULES", "github_checksum"]
