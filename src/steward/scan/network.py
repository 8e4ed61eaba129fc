"""Network rules: internal host names (hosts.py) and private addresses (addresses.py)."""

from __future__ import annotations

from steward.scan.addresses import address_rules
from steward.scan.hosts import host_rules
from steward.scan.models import Rule, ScanOptions


def network_rules(options: ScanOptions) -> tuple[Rule, ...]:
    """The internal-host and private-address rules for the operator's `options`."""
    return host_rules(options) + address_rules()
