"""Personal-data rules (emails, phone numbers, payment cards, IBANs, national ids)."""

from __future__ import annotations

from steward.scan.models import Rule, ScanOptions


def pii_rules(options: ScanOptions) -> tuple[Rule, ...]:
    """The personal-data rules for `options` (none yet)."""
    del options
    return ()
