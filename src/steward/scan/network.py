"""Network rules: private and shared addresses (and, to come, internal host names)."""

from __future__ import annotations

import ipaddress

from steward.scan.models import Candidate, Rule, ScanOptions

VERSION_WORDS = ("version", "ver:", "ver=", "release", "tag:", "tag=")

PRIVATE_NETWORKS = tuple(
    ipaddress.IPv4Network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
)


def private_ipv4_in_context(candidate: Candidate) -> bool:
    """A private or shared (RFC 1918, RFC 6598) IPv4 address that is not part of a longer
    dotted number, and not on a line that names a version or release."""
    trailing = candidate.match.split(candidate.secret, 1)[1]
    if trailing not in ("", "."):
        return False
    try:
        address = ipaddress.IPv4Address(candidate.secret)
    except ValueError:
        return False
    if not any(address in network for network in PRIVATE_NETWORKS):
        return False
    lowered = candidate.line.lower()
    return not any(word in lowered for word in VERSION_WORDS)


def network_rules(options: ScanOptions) -> tuple[Rule, ...]:
    """The internal-host and private-address rules for `options`."""
    del options  # internal domains come with the host rules
    return (
        Rule(
            id="private-ipv4",
            description="Private or shared IPv4 address (RFC 1918, RFC 6598)",
            kind="private-ip",
            regex=r"(?:^|[^\w.])((?:\d{1,3}\.){3}\d{1,3})[\w.]*",
            secret_group=1,
            keywords=("10.", "172.", "192.168.", "100."),
            validator=private_ipv4_in_context,
        ),
    )
