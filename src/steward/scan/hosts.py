"""Internal host names: under the operator's domains, special-use names, cluster services.

Each rule's regex anchors on the name's suffix (cheap for RE2 and the keyword
prefilter); the validator then reads the name as a host name (labels of letters,
digits and inner hyphens, one case) and its surroundings, to refuse what only looks
like a host: file names (`settings.local.py`), code (`self.internal`,
`threading.local()`), Java packages (`com.acme.internal`), email addresses (personal
data, reported by the pii rules), placeholders and the well-known names every
installation shares (`host.docker.internal`, `metadata.google.internal`).
"""

from __future__ import annotations

import re
from functools import partial

from steward.errors import InvalidInput
from steward.scan.models import Candidate, Rule, ScanOptions
from steward.scan.surroundings import is_login, key_before, key_parts, surroundings, value_start

# Names no public DNS answers for (RFC 6762 .local, RFC 8375 .home.arpa, ICANN's 2024
# .internal) and the ones private networks use by habit (RFC 6762 appendix G). Appendix
# G's `.private` is left out: `x.private` is a code attribute far more often than a host.
SPECIAL_USE_SUFFIXES = (
    "internal",
    "local",
    "localdomain",
    "lan",
    "corp",
    "home.arpa",
    "intranet",
)

# The same in every installation, so naming them reveals nothing about anyone's network.
WELL_KNOWN_HOSTS = frozenset(
    {
        "metadata.google.internal",  # every GCE VM's metadata server
        "host.docker.internal",
        "gateway.docker.internal",
        "kubernetes.docker.internal",
        "host.containers.internal",  # Podman
        "host.minikube.internal",
        "control-plane.minikube.internal",
        "localhost.localdomain",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
        "kube-dns.kube-system.svc",
        "kube-dns.kube-system.svc.cluster.local",
    }
)

# `receiver.attribute` in code, and file stems: `self.internal`, `config.local`.
CODE_AND_FILE_WORDS = frozenset(
    {
        "self",
        "this",
        "cls",
        "super",
        "request",
        "req",
        "ctx",
        "context",
        "config",
        "conf",
        "settings",
        "env",
        "os",
        "sys",
        "threading",
        "thread",
        "app",
        "obj",
        "window",
        "document",
        "module",
        "exports",
        "process",
        "props",
        "state",
        "options",
        "opts",
        "args",
        "kwargs",
        "params",
        "values",
        "docker-compose",
        "application",
        "py",
    }
)

# Stand-ins documentation writes for a name: `my-svc.my-namespace.svc.cluster.local`.
PLACEHOLDER_LABELS = frozenset(
    {
        "example",
        "host",
        "hostname",
        "myhost",
        "my-host",
        "name",
        "service",
        "service-name",
        "servicename",
        "my-service",
        "my-svc",
        "svc-name",
        "namespace",
        "my-namespace",
        "myapp",
        "my-app",
        "mydb",
        "my-db",
        "myserver",
        "my-server",
        "myservice",
        "mysite",
        "my-site",
        "foo",
        "bar",
        "baz",
        "xxx",
    }
)

# First labels of reversed domain names: `com.acme.internal` is a Java package.
REVERSED_DOMAIN_ROOTS = frozenset({"com", "org", "net", "io", "edu", "gov", "de", "uk", "fr"})

# The last word of a key whose value is a file: `env_file: app.local`.
FILE_KEY_WORDS = frozenset({"file", "filename", "path", "dir", "template", "include"})

# Words after which a dotted name is a module or package, not a host.
MODULE_WORDS = frozenset({"import", "from", "package", "using", "require", "include"})

_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
# Code around a name: a keyword or comparison before it, or after it.
_CODE_BEFORE = re.compile(
    r"(?:\b(?:if|not|and|or|return|in|is|elif|while|assert|yield|await|del|typeof|new)\s+"
    r"|[!=<>]=\s*|\(\s*)$"
)
_CODE_AFTER = re.compile(r"\s*(?:(?:and|or|is|in|if|else)\b|[!=<>]=|\)|:\s*$)")
# A cloud's own internal zone, the same for every customer: `us-east-2.compute.internal`.
_CLOUD_ZONE = re.compile(r"(?:[a-z]{2}(?:-[a-z]+)+-\d\.)?(?:compute|ec2)\.internal")
_VERSION_PART = re.compile(r"[vV]?\d+")
_USER_AT_END = re.compile(r"[\w.+%-]+$")
_NAME_GOES_ON = re.compile(r"[A-Za-z0-9_-]|\.[A-Za-z0-9_-]")
_DOMAIN = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}")
# A name's labels, then the suffix. What precedes the name is the line's start, a JSON
# escape (`\n` in a notebook's string) or one character that cannot be part of it, never
# a newline: the engine may run a regex over many lines at once, and a match must start
# on its value's line.
_NAME_BEFORE_SUFFIX = value_start(r"A-Za-z0-9_.-") + r"((?:[A-Za-z0-9_-]+\.)+(?:{suffixes}))"


def _suffix_regex(suffixes: tuple[str, ...]) -> str:
    alternatives = "|".join(s.replace(".", r"\.") for s in suffixes)
    return "(?im)" + _NAME_BEFORE_SUFFIX.format(suffixes=alternatives)


def _is_identifier_case(label: str) -> bool:
    """Mixed case without a hyphen, as code names things (`myObject`); host names are one
    case, save macOS's `Johns-MacBook-Pro`."""
    return label != label.lower() and label != label.upper() and "-" not in label


def _is_host_name(name: str, *, any_case: bool) -> bool:
    """Host-name syntax: LDH labels of at most 63 characters, 253 in all, none cased like
    code (`myObject.internal`) unless `any_case`, not only version parts (`1.2.local`,
    `v1.2.internal`)."""
    labels = name.split(".")
    if len(name) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        return False
    if not any_case and any(_is_identifier_case(label) for label in labels):
        return False
    return not all(_VERSION_PART.fullmatch(label) for label in labels[:-1])


def _is_email_domain(before: str, after: str) -> bool:
    """`alice@db.internal` is an address (personal data); `postgres://u:p@db.internal`,
    `git@git.internal:team/repo` and `ssh deploy@bastion.internal` name the host."""
    if not before.endswith("@"):
        return False
    head = before[:-1]
    user = _USER_AT_END.search(head)
    return not is_login(head[: user.start()] if user else head, after)


def _reads_as_file(before: str) -> bool:
    """The value of a key that names a file (`env_file: app.local`), or part of a path."""
    key = key_parts(key_before(before))
    in_path = before.endswith("/") and not before.endswith("//")
    return in_path or (bool(key) and key[-1] in FILE_KEY_WORDS)


def _reads_as_code(labels: list[str], before: str, after: str) -> bool:
    """A call, a subscript, an attribute of a receiver word, a package or a module path."""
    if after.startswith(("(", "[")) or labels[0] in CODE_AND_FILE_WORDS:
        return True
    if labels[0] in REVERSED_DOMAIN_ROOTS and len(labels) >= 3:
        return True
    previous = before.split()[-1:]
    if previous and previous[0].lower() in MODULE_WORDS:
        return True
    # `route.local` in `if not route.local and ...` is an attribute: a lone word before
    # the suffix, amid code, is not a host.
    lone_word = len(labels) == 2 and labels[0].isalpha()
    return lone_word and bool(_CODE_BEFORE.search(before) or _CODE_AFTER.match(after))


def _is_placeholder(name: str) -> bool:
    """The name's own first label is a stand-in (`your-db`, `my-svc`, `example`)."""
    first = name.lower().split(".")[0]
    return first in PLACEHOLDER_LABELS or first.startswith("your")


def _under(name: str, domains: tuple[str, ...]) -> bool:
    """`name` is strictly under one of `domains` (the domain itself is not)."""
    return any(name.endswith("." + domain) for domain in domains)


def host_is_internal(
    candidate: Candidate, *, skip_domains: tuple[str, ...] = (), any_case: bool = False
) -> bool:
    """A whole host name, not code, a file, an email domain, a placeholder, a well-known
    name, nor a name under `skip_domains` (another rule reports those). `any_case` lets
    labels be cased like code (`FileServer01.corp.acme.io`): under the operator's own
    domains a name is a host whatever its case."""
    name = candidate.secret
    lowered = name.lower()
    before, after = surroundings(candidate)
    if _NAME_GOES_ON.match(after) or not _is_host_name(name, any_case=any_case):
        return False
    if lowered in WELL_KNOWN_HOSTS or _CLOUD_ZONE.fullmatch(lowered):
        return False
    if _under(lowered, skip_domains):
        return False
    if _is_email_domain(before, after) or _reads_as_file(before):
        return False
    if _reads_as_code(lowered.split("."), before, after):
        return False
    return not _is_placeholder(name)


def cluster_service_is_internal(candidate: Candidate) -> bool:
    """A Kubernetes service or pod name: `name.namespace.svc`, `...svc.cluster.local`,
    `...pod.cluster.local`; lower-case as Kubernetes requires."""
    name = candidate.secret
    if name != name.lower():
        return False
    labels = name.split(".")
    if name.endswith(".cluster.local"):
        labels = labels[:-2]
    # `name.namespace.svc`; under cluster.local one label before `svc` (or `pod`) will do,
    # while a bare `Service1.svc` is a WCF endpoint file.
    least = 2 if name.endswith(".cluster.local") else 3
    if len(labels) < least or labels[-1] not in ("svc", "pod"):
        return False
    return host_is_internal(candidate)


def check_internal_domains(domains: tuple[str, ...]) -> tuple[str, ...]:
    """The operator's internal domains, lower-cased; a malformed one is `InvalidInput`."""
    checked = []
    for domain in domains:
        normal = domain.strip().strip(".").lower()
        if not _DOMAIN.fullmatch(normal):
            raise InvalidInput(
                f"internal domain {domain!r}: not a domain name (like corp.example.com)"
            )
        checked.append(normal)
    return tuple(checked)


def host_rules(options: ScanOptions) -> tuple[Rule, ...]:
    """The internal-host rules: the operator's domains (when configured), special-use
    names and Kubernetes cluster names."""
    domains = check_internal_domains(options.internal_domains)
    rules = []
    if domains:
        rules.append(
            Rule(
                id="internal-host",
                description="Host name under an internal domain of the organisation",
                kind="internal-host",
                regex=_suffix_regex(domains),
                secret_group=1,
                keywords=tuple("." + domain for domain in domains),
                validator=partial(host_is_internal, any_case=True),
            )
        )
    special = (
        "Host name under a special-use or private-network suffix (.internal, .local, .lan, "
        ".corp, .home.arpa, .intranet)"
    )
    rules += [
        Rule(
            id="internal-host-special-use",
            description=special,
            kind="internal-host",
            regex=_suffix_regex(SPECIAL_USE_SUFFIXES),
            secret_group=1,
            keywords=tuple(
                "." + suffix for suffix in SPECIAL_USE_SUFFIXES if suffix != "localdomain"
            ),
            validator=partial(host_is_internal, skip_domains=("cluster.local", *domains)),
        ),
        Rule(
            id="internal-host-cluster",
            description="Kubernetes service name (name.namespace.svc, *.svc.cluster.local)",
            kind="internal-host",
            regex=_suffix_regex(("svc", "cluster.local")),
            secret_group=1,
            keywords=(".svc", ".cluster.local"),
            validator=cluster_service_is_internal,
        ),
    ]
    return tuple(rules)
