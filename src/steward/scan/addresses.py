"""Private and shared addresses: IPv4 RFC 1918 and RFC 6598, IPv6 RFC 4193 unique-local.

The regexes find dotted quads and `fc`/`fd`-led IPv6 text; the validators parse them
with `ipaddress` (so `10.0.0.256` and `fd::1` are not addresses) and read what is
around them: a longer dotted number (`1.10.0.0.1`, an OID), a version named by its
key (`version: 10.0.0.1`, `pkg==10.0.0.1`, `image: app:10.0.0.1`), a pre-release
suffix (`10.0.0.1-rc1`), or the whole private block quoted as a definition
(`10.0.0.0/8` in a firewall rule names every private network, so it reveals none).
"""

from __future__ import annotations

import ipaddress
import re

from steward.scan.models import Candidate, Rule
from steward.scan.surroundings import key_before, key_parts, surroundings, value_start

PRIVATE_IPV4_NETWORKS = tuple(
    ipaddress.IPv4Network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
)
UNIQUE_LOCAL_IPV6 = ipaddress.IPv6Network("fc00::/7")

# The blocks themselves, as standards and firewall rules quote them.
PRIVATE_BLOCK_DEFINITIONS = frozenset(
    {*PRIVATE_IPV4_NETWORKS, UNIQUE_LOCAL_IPV6, ipaddress.IPv6Network("fd00::/8")}
)

# The last word of a key that names a version: `version`, `appVersion`, `image_tag`.
VERSION_KEY_WORDS = frozenset(
    {
        "version",
        "ver",
        "v",
        "release",
        "released",
        "tag",
        "rev",
        "revision",
        "build",
        "firmware",
        "fw",
    }
)
# Written between a package and its version: `pkg==10.0.0.1`, `gem 'x', '~> 10.0.0.1'`.
VERSION_OPERATORS = ("==", ">=", "<=", "~=", "!=", "~>", "^", "~")
PRERELEASE_SUFFIXES = ("-rc", "-beta", "-alpha", "-snapshot", "-dev", "-final", "-release", "+")

# A CIDR suffix, whole (`10.0.0.1/8080` is an address and a URL path, not a block).
IPV4_PREFIX_LENGTH = r"(?:/(?:3[0-2]|[12]?\d)\b)?"
IPV6_PREFIX_LENGTH = r"(?:/(?:12[0-8]|1[01]\d|[1-9]?\d)\b)?"

_NUMBER_GOES_ON = re.compile(r"\.?\w")
# `User-Agent: MyApp/10.2.0.1`: a product's version, as user agents and banners write it.
_PRODUCT_SLASH = re.compile(r"(?:^|[\s(;])[A-Za-z][\w.-]*/$")
_LINE_KEY = re.compile(r"\s*(?:-\s+)?[\"']?([\w.-]+)[\"']?\s*[:=]")


def _is_image_tag(before: str) -> bool:
    """`image: registry/app:10.0.0.1`: the value is glued by a colon to an image name."""
    glued = before.split()[-1] if before.strip() else ""
    if not glued.endswith(":") or len(glued) < 2 or glued[-2] in ":/\"'":
        return False
    line_key = _LINE_KEY.match(before)
    return "/" in glued or (line_key is not None and line_key.group(1).lower() == "image")


def _names_a_version(before: str) -> bool:
    """The key, operator, product or image right before a value says it is a version."""
    if before.rstrip(" \t\"'").endswith(VERSION_OPERATORS) or _PRODUCT_SLASH.search(before):
        return True
    parts = key_parts(key_before(before))
    return (bool(parts) and parts[-1] in VERSION_KEY_WORDS) or _is_image_tag(before)


def _reads_as_address(candidate: Candidate) -> bool:
    """The candidate is a whole number (not part of a longer dotted one) and not a version."""
    before, after = surroundings(candidate)
    if _NUMBER_GOES_ON.match(after) or after.lower().startswith(PRERELEASE_SUFFIXES):
        return False
    return not _names_a_version(before)


def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """`text` as an address or CIDR block (host bits allowed), or None."""
    try:
        return ipaddress.ip_network(text.split("%", 1)[0], strict=False)
    except ValueError:
        return None


def private_ipv4_in_context(candidate: Candidate) -> bool:
    """A private or shared IPv4 address or block, not a version and not a block definition."""
    network = _network(candidate.secret)
    if not isinstance(network, ipaddress.IPv4Network):
        return False
    if not any(network.subnet_of(block) for block in PRIVATE_IPV4_NETWORKS):
        return False
    if "/" in candidate.secret and network in PRIVATE_BLOCK_DEFINITIONS:
        return False
    return _reads_as_address(candidate)


def unique_local_ipv6_in_context(candidate: Candidate) -> bool:
    """An RFC 4193 unique-local IPv6 address or prefix (fc00::/7), written whole."""
    network = _network(candidate.secret)
    if not isinstance(network, ipaddress.IPv6Network):
        return False
    if not network.subnet_of(UNIQUE_LOCAL_IPV6) or network in PRIVATE_BLOCK_DEFINITIONS:
        return False
    # The regex stops at the first character that cannot be in an address; a letter or
    # a dot there means a longer token (a hex run, a dotted name) that is not one.
    _before, after = surroundings(candidate)
    return not _NUMBER_GOES_ON.match(after)


def address_rules() -> tuple[Rule, ...]:
    """The private-ip rules."""
    return (
        Rule(
            id="private-ipv4",
            description="Private or shared IPv4 address or block (RFC 1918, RFC 6598)",
            kind="private-ip",
            regex=r"(?m)"
            + value_start(r"\w.")
            + r"((?:\d{1,3}\.){3}\d{1,3}"
            + IPV4_PREFIX_LENGTH
            + ")",
            secret_group=1,
            keywords=("10.", "172.", "192.168.", "100."),
            validator=private_ipv4_in_context,
        ),
        Rule(
            id="private-ipv6",
            description="Unique-local IPv6 address or prefix (RFC 4193, fc00::/7)",
            kind="private-ip",
            regex=r"(?im)"
            + value_start(r"\w:.")
            + r"(f[cd][0-9a-f]{2}:[0-9a-f:]*(?:%[\w.]+)?"
            + IPV6_PREFIX_LENGTH
            + ")",
            secret_group=1,
            keywords=("fc", "fd"),
            validator=unique_local_ipv6_in_context,
        ),
    )
