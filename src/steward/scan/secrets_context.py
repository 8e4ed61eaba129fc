"""Context secret rules: values that only their surroundings make secret.

Passwords in URLs and connection strings, `Authorization` headers, `curl -u`,
framework signing keys, `.env` files, Kubernetes Secret data, Docker and kubeconfig
credentials, and generic `key = value` assignments in YAML, JSON (also JSON-escaped,
as in notebooks), INI, properties, XML, shell and source code.

A provider rule's match wins: a context rule does not report a value that a provider
rule's regex (or a known decoy shape, such as a Stripe test key) covers, so one
secret gives one finding and a provider's decoy is not reported by the back door.
"""

from __future__ import annotations

import functools
import re

from steward.scan.decoys import decode_base64_text
from steward.scan.engine import Pattern, compile_regex, compile_rules
from steward.scan.models import Allowlist, Candidate, Rule
from steward.scan.secrets_checks import (
    basic_credentials_are_real,
    password_is_real,
    token_is_real,
    user_password_is_real,
)
from steward.scan.secrets_format import secret_rule
from steward.scan.secrets_providers import PROVIDER_RULES
from steward.scan.secrets_values import (
    credential_text,
    framework_key,
    key_names_secret,
    looks_like_password,
    looks_like_token,
    secret_value,
)

# Shapes that provider rules deliberately do not report (test and publishable keys,
# sandbox tokens): a context rule must not report them either.
DECOY_SHAPES = (
    r"\b[sr]k_test_[A-Za-z0-9]{10,}",
    r"\bpk_(?:test|live)_[A-Za-z0-9]{10,}",
    r"\bsq0idp-[A-Za-z0-9_-]{10,}",
    r"access_token\$sandbox\$",
    r"\b(?:AKIA|ASIA)[A-Z0-9]{12}EXAMPLE\b",
    r"\beyJ\S*\.eyJ",  # JWT-shaped but not decoding: the jwt rule refused it
)

# Characters a bare (unquoted) value may hold: anything but space, quotes, escapes and
# the separators that end a value in URLs, connection strings and code.
VALUE = r"[^\s\"'\\`<>,;(){}\[\]]"
# Between a key and a generic value: no comma (`f(url, token, x)` is not an assignment).
GENERIC_ASSIGN_BARE = r"[\\\"'`\]]*[ \t]*(?:=|:|:=|=>)[ \t]*"

# Key names worth a look; `key_names_secret` decides on the whole key's words.
SENSITIVE_KEY_NAMES = r"pass|pwd|secret|token|auth|cred|key|pat"

DOTENV_PATH = r"(?:^|/)\.env(?:\.[\w.-]+)?$|(?:^|/)[\w.-]+\.env$"
YAML_PATH = r"\.ya?ml$"


@functools.cache
def claimed_patterns() -> tuple[tuple[tuple[str, ...], Pattern], ...]:
    """Each claiming rule's (keywords, compiled regex), then the decoy shapes.

    Compiled once per process (the rules are constants). One pattern per rule, not one
    alternation of all: RE2's DFA runs out of memory on the union.
    """
    claiming = PROVIDER_RULES + tuple(r for r in CONTEXT_RULES if r.id in CLAIMING_IDS)
    rules = tuple((c.keywords, c.regex) for c in compile_rules(claiming))
    shapes = tuple(((), compile_regex(s, where="decoy shape")) for s in DECOY_SHAPES)
    return rules + shapes


def claimed_by_provider(candidate: Candidate) -> bool:
    """Whether a provider rule's regex (or a decoy shape) matches the candidate's match,
    counting the character before it on its line."""
    start = max(candidate.line.find(candidate.match) - 1, 0)
    context = candidate.line[start : start + len(candidate.match) + 2] or candidate.match
    lowered = context.lower()
    return any(
        pattern.search(context)
        for keywords, pattern in claimed_patterns()
        if not keywords or any(k in lowered for k in keywords)
    )


# Prefixes of provider tokens. A value that starts with one but that no provider rule
# matched is malformed (too short, wrong alphabet): a near-miss fixture, not a secret.
PROVIDER_PREFIX = re.compile(
    r"(?:gh[pousr]_|github_pat_|gl(?:pat|dt|rt|ptt|ft|soat|oas)-|xox[bpaers]-|xapp-"
    r"|[sr]k_(?:live|test)_|pk_(?:live|test)_|whsec_|AKIA|ASIA|AIza|npm_|pypi-|rubygems_"
    r"|dckr_(?:pat|oat)_|hf_|dbt[cu]_|sk-ant-|sk-(?:proj|svcacct|admin)-|SG\.|shp(?:at|ca|pa|ss)_"
    r"|lin_(?:api|oauth)_|ntn_|dp\.(?:pt|st|sa|ct)\.|hv[sbr]\.|glsa_|glc_|sntry[su]_|NRAK-"
    r"|AGE-SECRET-KEY-|do[opr]_v1_|HRKU-|ATATT|ATBB|sq0(?:atp|csp|idp)-|AKCp)"
)


def malformed_provider_token(candidate: Candidate) -> bool:
    """A value with a provider's prefix that the provider's own rule did not report."""
    return bool(PROVIDER_PREFIX.match(candidate.secret))


def completed_elsewhere(candidate: Candidate) -> bool:
    """A value followed at once by interpolation (`"Bearer stw_{n:043d}"`, `abc$X`):
    only the literal start of a value built at run time."""
    start = candidate.line.find(candidate.match)
    end = candidate.line.find(candidate.secret, max(start, 0)) + len(candidate.secret)
    return candidate.line[end : end + 1] in ("{", "$", "%") and end < len(candidate.line)


def inside_url(candidate: Candidate) -> bool:
    """A `user:password@` pair in a URL looks like `key: value`; the URL rule has it."""
    start = candidate.line.find(candidate.match)
    return candidate.line[:start].endswith(("://", "@"))


def _key_of(match: str) -> str:
    """The key a context rule's match starts with (`export X=`, `key="X"`, `define('X'`
    give X)."""
    found = re.search(
        r"[A-Za-z_][\w.-]*",
        re.sub(r"^\s*(?:export\s+|(?:key|name)=\"|define\(\s*[\"'])", "", match),
    )
    return found.group(0) if found else ""


def named_value_is_secret(candidate: Candidate) -> bool:
    """A value named by a key (`<password>x</password>`, `--token x`, `define('K', 'x')`)
    whose key names a secret and whose value is a literal secret, not a provider's
    token (its own rule)."""
    key = _key_of(candidate.match)
    return (
        key_names_secret(key)
        and secret_value(key, candidate.secret, candidate.line)
        and not completed_elsewhere(candidate)
        and not inside_url(candidate)
        and not malformed_provider_token(candidate)
        and not claimed_by_provider(candidate)
    )


def assignment_is_secret(candidate: Candidate) -> bool:
    """`key = value` (any syntax) whose key names a secret and whose value is a literal
    secret; a framework's signing key is left to the framework rule."""
    return not framework_key(_key_of(candidate.match)) and named_value_is_secret(candidate)


def framework_key_is_real(candidate: Candidate) -> bool:
    """A framework's signing key with a literal, random-looking value."""
    value = candidate.secret.removeprefix("base64:")
    return (
        len(value) >= 16
        and token_is_real(candidate)
        and (looks_like_token(value) or looks_like_password(value))
        and not claimed_by_provider(candidate)
    )


def url_password_is_real(candidate: Candidate) -> bool:
    """A URL's password that is a literal (not a placeholder, a variable or the user's
    own name, as in `postgres:postgres@localhost`) and not a provider token."""
    found = re.search(r"://([^\s:@/]*):", candidate.match)
    user = found.group(1) if found else ""
    return (
        password_is_real(candidate)
        and candidate.secret != user
        and not claimed_by_provider(candidate)
    )


def literal_password_is_real(candidate: Candidate) -> bool:
    """A password written as a literal (a connection string's `Password=...;`, SQL, a
    setter, an auth tuple)."""
    return password_is_real(candidate) and looks_like_password(candidate.secret)


def header_credential_is_real(candidate: Candidate) -> bool:
    """`Authorization: Basic X` decodes to `user:password`; Bearer and Token values are
    literal, random-looking tokens (JWTs belong to the jwt rule)."""
    if re.search(r"(?i)\bbasic[ \t]", candidate.match):
        return basic_credentials_are_real(candidate)
    return (
        looks_like_token(candidate.secret)
        and not completed_elsewhere(candidate)
        and not malformed_provider_token(candidate)
        and not claimed_by_provider(candidate)
    )


def kubernetes_data_is_secret(candidate: Candidate) -> bool:
    """A YAML `key: base64` value (a Kubernetes Secret's `data`) whose key does not name a
    secret (the generic rule has those) but whose decoded text is itself a credential."""
    key = _key_of(candidate.match)
    if key_names_secret(key) or framework_key(key):
        return False
    text = decode_base64_text(candidate.secret)
    if text is None:
        return False
    if key in ("dockerconfigjson", "dockercfg"):  # `.dockerconfigjson`, dot dropped
        return '"auth' in text or '"password"' in text
    return credential_text(text)


def private_key_data_decodes(candidate: Candidate) -> bool:
    """kubeconfig `client-key-data`: base64 of a PEM private key."""
    text = decode_base64_text(candidate.secret)
    return text is not None and "PRIVATE KEY" in text


URL_RULES = (
    secret_rule(
        "connection-url-password",
        "Password in a URL: database, broker, JDBC, FTP, SMTP, LDAP, HTTP basic auth",
        r"\b[A-Za-z][A-Za-z0-9+.-]{1,30}://[^\s:@/\"'<>]{0,}:([^\s@/\"'<>]{1,})@[^\s@/\"'<>]+",
        ("://",),
        url_password_is_real,
    ),
    secret_rule(
        "connection-string-password",
        "Password in an ODBC, ADO.NET or JDBC connection string (Password=, Pwd=)",
        r"[;?&](?i:password|pwd|passwd)[ \t]*=[ \t]*([^;&\"'\s]{1,})",
        ("password=", "pwd=", "passwd=", "password =", "pwd ="),
        literal_password_is_real,
    ),
)

# Context rules whose matches the generic rule leaves to them.
CLAIMING_IDS = frozenset(
    {"connection-string-password", "docker-config-auth", "kubeconfig-client-key"}
)

HEADER_RULES = (
    secret_rule(
        "authorization-header",
        "Credentials in an Authorization header (Basic, Bearer, Token)",
        r"(?i:authorization)[\\\"'`]*[ \t]*[:=,][ \t]*[\\\"'`]*f?[\\\"'`]*"
        r"(?i:bearer|basic|token|api-?key)[ \t]+([A-Za-z0-9._~+/=:-]{8,})",
        ("authorization",),
        header_credential_is_real,
    ),
    secret_rule(
        "curl-user-password",
        "user:password passed to curl -u / --user",
        r"\bcurl\b.*?[ \t](?:-u|--user)(?:=|[ \t]+)[\"']?([^\s\"':$]{1,}:[^\s\"']{3,})",
        ("curl",),
        user_password_is_real,
    ),
    secret_rule(
        "cli-password-flag",
        "Password or token passed as a command-line flag's separate argument",
        r"(?m)(?:^|[ \t\"'])--(?i:password|passwd|token|secret|api-key|apikey|client-secret"
        r"|auth-token|access-key|secret-key)[ \t]+[\"']?(" + VALUE + r"{6,})",
        (
            *("--password", "--passwd", "--token", "--secret", "--api-key", "--apikey"),
            *("--client-secret", "--auth-token", "--access-key", "--secret-key"),
        ),
        named_value_is_secret,
    ),
    secret_rule(
        "mysql-password-argument",
        "Password glued to mysql's -p flag",
        r"\bmysql(?:dump|admin|sh)?\b.*?[ \t]-p([^\s\"']{4,})",
        ("mysql",),
        password_is_real,
    ),
)

CODE_RULES = (
    secret_rule(
        "basic-auth-argument",
        "Password in a code's basic-auth pair: auth=(user, password), HTTPBasicAuth(...)",
        r"(?:\bauth[ \t]*=[ \t]*\(|BasicAuth\()[ \t]*[\"'][^\"'\n]*[\"'][ \t]*,[ \t]*"
        r"[\"']([^\"'\n]{6,})[\"']",
        ("auth",),
        literal_password_is_real,
    ),
    secret_rule(
        "sql-password",
        "Password in SQL: CREATE/ALTER USER ... PASSWORD '...', IDENTIFIED BY '...'",
        r"(?i:\bpassword|\bidentified[ \t]+by)[ \t]+'([^'\n]{6,})'",
        ("password '", "identified by"),
        literal_password_is_real,
    ),
    secret_rule(
        "setter-secret",
        'Secret passed to a setter: setPassword("..."), setApiKey("...")',
        r"\bset(?:Password|Passwd|Secret|Token|ApiKey|AccessKey|ClientSecret|AuthToken)"
        r"\([ \t]*[\"']([^\"'\n]{6,})[\"']",
        (
            *("setpassword", "setpasswd", "setsecret", "settoken", "setapikey"),
            *("setaccesskey", "setclientsecret", "setauthtoken"),
        ),
        literal_password_is_real,
    ),
    secret_rule(
        "php-define-secret",
        "Secret defined as a PHP constant: define('DB_PASSWORD', '...'), WordPress keys",
        r"define\([ \t]*[\"']([A-Za-z_]+)[\"'][ \t]*,[ \t]*[\"']([^\"'\n]{6,})[\"']",
        ("define(",),
        named_value_is_secret,
        group=2,
    ),
    secret_rule(
        "pgpass-password",
        "Password in a PostgreSQL .pgpass file (host:port:db:user:password)",
        r"(?m)^[^:#\s]+:[^:\s]+:[^:\s]+:[^:\s]+:(\S+)$",
        (":",),
        password_is_real,
        path=r"(?:^|/)\.pgpass$",
    ),
    secret_rule(
        "netrc-password",
        "Password in a .netrc file (machine ... login ... password ...)",
        r"\bpassword[ \t]+(\S+)",
        ("password",),
        password_is_real,
        path=r"(?:^|/)[._]netrc$",
    ),
)

XML_KEY_ATTRIBUTE = r"(?:key|name)=\"((?i:[^\"\n]*(?:" + SENSITIVE_KEY_NAMES + r")[^\"\n]*))\""

FILE_FORMAT_RULES = (
    secret_rule(
        "dotenv-secret",
        "Secret in a .env file (KEY=value where KEY names a password, token, key or secret)",
        r"(?m)^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_.]*)[ \t]*=[ \t]*[\"']?"
        r"([^\s\"']{6,})",
        ("=",),
        assignment_is_secret,
        group=2,
        path=DOTENV_PATH,
    ),
    secret_rule(
        "framework-secret-key",
        "Framework signing key (Django/Flask SECRET_KEY, Rails secret_key_base, Laravel "
        "APP_KEY, Symfony APP_SECRET, NextAuth secret...)",
        r"(?m)(?:^|[^\w\n])(?i:(?:(?:django|flask|laravel|rails)_)?secret_key(?:_base)?|secretkey"
        r"|app_key|app_secret|(?:nextauth|auth|session|cookie|jwt)_secret(?:_key)?|secret_token"
        r"|rails_master_key|master_key)[\\\"'`\]]*[ \t]*(?:=|:|:=|=>)[ \t]*[\\\"'`]*"
        r"((?:base64:)?[^\s\"'\\`<>,;]{16,})",
        ("secret_key", "secretkey", "app_key", "app_secret", "_secret", "master_key"),
        framework_key_is_real,
    ),
    secret_rule(
        "kubernetes-secret-data",
        "Kubernetes Secret data value whose decoded text is a credential",
        r"(?m)^[ \t]+([\w.-]+):[ \t]+[\"']?([A-Za-z0-9+/]{12,}={0,2})[\"']?[ \t]*$",
        (":",),
        kubernetes_data_is_secret,
        group=2,
        path=YAML_PATH,
    ),
    secret_rule(
        "docker-config-auth",
        "Docker config.json registry credentials (auth: base64 of user:password)",
        r"\"auth\"[ \t]*:[ \t]*\"([A-Za-z0-9+/]{8,}={0,2})\"",
        ('"auth"',),
        basic_credentials_are_real,
    ),
    secret_rule(
        "kubeconfig-client-key",
        "kubeconfig client-key-data (a base64 PEM private key)",
        r"client-key-data[\\\"']*[ \t]*:[ \t]*[\\\"']*([A-Za-z0-9+/]{40,}={0,2})",
        ("client-key-data",),
        private_key_data_decodes,
    ),
    secret_rule(
        "xml-secret-element",
        "Secret in an XML element (<password>...</password>)",
        r"<((?i:[\w.:-]*(?:" + SENSITIVE_KEY_NAMES + r")[\w.:-]*))>[ \t]*([^<\s]{6,})[ \t]*</",
        ("</",),
        named_value_is_secret,
        group=2,
    ),
    secret_rule(
        "xml-secret-setting",
        "Secret in a key/value XML setting (NuGet ClearTextPassword, appSettings, Spring "
        "<property name=... value=...>)",
        XML_KEY_ATTRIBUTE + r"[ \t]+value=\"([^\"\n]{6,})\"",
        ("value=",),
        named_value_is_secret,
        group=2,
    ),
    secret_rule(
        "xml-secret-entry",
        "Secret as the text of an XML element named by an attribute "
        '(<entry key="password">...</entry>)',
        XML_KEY_ATTRIBUTE + r"[^>\n]*>([^<\s]{6,})</",
        ("</",),
        named_value_is_secret,
        group=2,
    ),
)

SENSITIVE_KEY = r"((?i:[\w.-]*(?:" + SENSITIVE_KEY_NAMES + r")[\w.-]*))"
GENERIC_KEYWORDS = ("pass", "pwd", "secret", "token", "key", "auth", "cred", "pat")
# In .env files the dotenv rule reports the same assignments.
NOT_IN_DOTENV = (Allowlist(description=".env files", paths=(DOTENV_PATH,)),)

GENERIC_RULES = (
    secret_rule(
        "generic-secret-assignment",
        "Password, token, secret or key assigned a literal (YAML, INI, properties, "
        "env, code, --flag=value)",
        SENSITIVE_KEY + GENERIC_ASSIGN_BARE + "(" + VALUE + "{6,})",
        GENERIC_KEYWORDS,
        assignment_is_secret,
        group=2,
        allowlists=NOT_IN_DOTENV,
    ),
    secret_rule(
        "generic-secret-assignment-quoted",
        "Password, token, secret or key assigned a quoted literal (JSON, YAML, code, XML "
        "attribute, JSON-escaped in notebooks), which may hold any punctuation",
        SENSITIVE_KEY + GENERIC_ASSIGN_BARE + r"\\?[\"'`]([^\"'`\\\s]{6,})\\?[\"'`]",
        GENERIC_KEYWORDS,
        assignment_is_secret,
        group=2,
        allowlists=NOT_IN_DOTENV,
    ),
)

CONTEXT_RULES: tuple[Rule, ...] = (
    URL_RULES + HEADER_RULES + CODE_RULES + FILE_FORMAT_RULES + GENERIC_RULES
)
