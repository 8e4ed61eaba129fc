"""The rule set a scan runs: Steward's secret, network and personal-data rules."""

from __future__ import annotations

from steward.scan.models import Rule, ScanOptions
from steward.scan.network import network_rules
from steward.scan.pii import pii_rules
from steward.scan.secrets import SECRET_RULES


def default_rules(options: ScanOptions) -> tuple[Rule, ...]:
    """Every built-in rule, with the operator's internal domains and allowed email domains."""
    return SECRET_RULES + network_rules(options) + pii_rules(options)


DEFAULT_RULES: tuple[Rule, ...] = default_rules(ScanOptions())
