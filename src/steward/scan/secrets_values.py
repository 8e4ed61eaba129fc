"""Judging a value found by its key: is the key about a secret, is the value one?

The context rules (generic assignments, `.env` files, framework keys, Kubernetes
data, headers) find `key = value` pairs in any syntax; these functions decide
whether the key names a secret and whether the value is a literal secret rather
than a placeholder, a reference, a path, a hash or an already-encrypted blob.
"""

from __future__ import annotations

import re

from steward.scan.decoys import (
    decode_base64_text,
    is_base64_of_prose,
    is_camel_case_name,
    is_documented_example,
    is_identifier,
    is_placeholder,
    is_reference,
    is_templated,
    is_uuid,
    looks_like_hash,
)
from steward.scan.engine import shannon_entropy

# A key word that ends with one of these names a secret ("dbpassword", "authToken").
SECRET_STEMS = (
    "password",
    "passwd",
    "passphrase",
    "passcode",
    "pwd",
    "secret",
    "token",
    "apikey",
    "credential",
    "credentials",
    "creds",
)
# Words that name a secret only as the whole word.
SECRET_WORDS = frozenset({"pass", "pw", "auth", "pat", "identitytoken", "sas", "psk", "salt"})
# "key" names a secret after one of these ("api key", "private key"); alone it does not.
KEY_QUALIFIERS = frozenset(
    {
        "api",
        "access",
        "private",
        "secret",
        "signing",
        "encryption",
        "master",
        "client",
        "auth",
        "app",
        "license",
        "account",
        "session",
        "shared",
        "storage",
        "service",
        "hmac",
        "jwt",
        "consumer",
        "subscription",
        "admin",
        "write",
        "ingest",
        "fernet",
        "ssh",
        "deploy",
        "webhook",
        "encrypt",
        "aes",
        "cipher",
        "rsa",
        "gpg",
        "pgp",
        "crypto",
        "root",
        "secure",
    }
)
# A key ending in one of these is about a secret, not the secret (`password_file`).
NON_SECRET_LAST_WORDS = frozenset(
    {
        "url",
        "uri",
        "urls",
        "endpoint",
        "host",
        "hostname",
        "port",
        "path",
        "paths",
        "file",
        "filename",
        "files",
        "dir",
        "directory",
        "name",
        "names",
        "id",
        "ids",
        "type",
        "types",
        "kind",
        "length",
        "len",
        "size",
        "ttl",
        "expiry",
        "expires",
        "expiration",
        "timeout",
        "header",
        "field",
        "fields",
        "policy",
        "mode",
        "enabled",
        "enable",
        "disabled",
        "version",
        "method",
        "provider",
        "count",
        "ref",
        "arn",
        "env",
        "var",
        "variable",
        "prefix",
        "suffix",
        "format",
        "rotation",
        "lifetime",
        "age",
        "min",
        "max",
        "required",
        "strength",
        "hint",
        "label",
        "description",
        "issuer",
        "audience",
        "scope",
        "scopes",
        "algorithm",
        "alg",
        "location",
        "store",
        "source",
        "template",
        "regex",
        "pattern",
        "param",
        "parameter",
        "query",
        "hash",
        "hashed",
        "digest",
        "command",
        "cmd",
        "script",
        "manager",
        "backend",
        "class",
        "handler",
        "validator",
        "validation",
        "reset",
        "changed",
        "set",
        "at",
        "date",
        "time",
        "user",
        "username",
        "login",
        "email",
        "index",
        "idx",
        "status",
        "state",
        "error",
        "errors",
        "message",
        "msg",
        "text",
        "placeholder",
        "usage",
        "limit",
        "limits",
        "budget",
        "encoding",
        "encrypted",
        "sealed",
    }
)
# Words that make the whole key not about a secret of this repository.
NON_SECRET_WORDS = frozenset(
    {
        "public",
        "publishable",
        "pub",
        "csrf",
        "xsrf",
        "page",
        "pagination",
        "next",
        "max",
        "num",
        "tokenizer",
        "tokens",
        "secretref",
        "secretkeyref",
        "secretname",
        "authorization",
        "example",
        "sample",
        "dummy",
        "fake",
        "mock",
    }
)
# Keys whose value a framework uses to sign sessions and cookies: their own rule.
FRAMEWORK_KEYS = frozenset(
    {
        "secret_key",
        "secretkey",
        "secret_key_base",
        "app_key",
        "app_secret",
        "nextauth_secret",
        "auth_secret",
        "session_secret",
        "cookie_secret",
        "jwt_secret",
        "jwt_secret_key",
        "app.secret_key",
        "app.config.secret_key",
        "secret_token",
        "laravel_app_key",
        "django_secret_key",
        "flask_secret_key",
        "rails_master_key",
        "master_key",
    }
)

KEY_PART = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
FILE_SUFFIXES = (".pem", ".key", ".json", ".txt", ".p12", ".pfx", ".jks", ".crt", ".yaml", ".yml")
# Sealed Secrets values: already encrypted for one cluster's controller, safe to publish.
SEALED_VALUE = re.compile(r"^Ag[A-D][A-Za-z0-9+/]{300,}={0,2}$")
HOST_NAME = re.compile(r"^[a-z0-9-]+(?:\.[a-z0-9-]+)+$")
LOWER_WORDS = re.compile(r"^[a-z]+(?:[-_.][a-z]+)*$")
HEX_NUMBER = re.compile(r"^0x[0-9a-fA-F]+$")
PATH = re.compile(r"^(?:~|\.{1,2})?/[\w.@%+-]*(?:/[\w.@%+-]*)*$")
# A call or subscript cut short at a quote: `ConfigValue(x.secret_key`, `creds[`.
EXPRESSION = re.compile(r"^([A-Za-z_][\w.]*)[(\[]")


def key_words(key: str) -> list[str]:
    """A key's words, lower-cased: `DB_PASSWORD` and `dbPassword` both give db, password."""
    return [part.lower() for part in KEY_PART.findall(key)]


def framework_key(key: str) -> bool:
    """`SECRET_KEY`, `app.secret_key`, `secret_key_base`, `APP_KEY`...: a framework's
    signing key, which the framework rule reports."""
    normal = re.sub(r"[\"'\[\]\\]+", ".", key.lower()).strip(".-").replace("..", ".")
    return normal in FRAMEWORK_KEYS or normal.split(".")[-1] in FRAMEWORK_KEYS


def key_names_secret(key: str) -> bool:
    """A key that names a secret (a password, token, secret, API or private key...), and
    not something about one (its file, name, length, url) or a public or test value."""
    words = key_words(key)
    if not words or words[-1] in NON_SECRET_LAST_WORDS:
        return False
    if any(word in NON_SECRET_WORDS for word in words):
        return False
    for n, word in enumerate(words):
        if word in SECRET_WORDS or word.endswith(SECRET_STEMS):
            return True
        if word == "key" and n > 0 and words[n - 1] in KEY_QUALIFIERS:
            return True
    return False


def character_classes(value: str) -> int:
    """How many of lower case, upper case, digits and other characters `value` uses."""
    return sum(
        (
            any(c.islower() for c in value),
            any(c.isupper() for c in value),
            any(c.isdigit() for c in value),
            any(not c.isalnum() for c in value),
        )
    )


def is_not_a_literal(value: str) -> bool:
    """Values that are not a literal secret whatever their key: placeholders, templates,
    references, variable names, paths, URLs, numbers, encrypted blobs."""
    lowered = value.lower()
    return (
        is_placeholder(value)
        or is_templated(value)
        or is_reference(value)
        or is_identifier(value)
        or is_documented_example(value)
        or value.replace(".", "").replace("-", "").isdigit()
        or is_path(value)
        or lowered.startswith(("file:", "classpath:", "http", "s3:"))
        or lowered.endswith(FILE_SUFFIXES)
        or "://" in value
        or bool(SEALED_VALUE.match(value))
        or lowered.startswith("arn:")  # an AWS resource name
        or bool(HEX_NUMBER.match(value))
        or is_expression(value)
        or is_words(value)
    )


def is_expression(value: str) -> bool:
    """A call or subscript cut short at a quote (`ConfigValue(x.secret_key`,
    `ConfigAttribute[t.Union`, `creds[`): code, not a literal."""
    found = EXPRESSION.match(value)
    if found is None:
        return False
    name = found.group(1)
    return value.endswith("[") or is_camel_case_name(name) or is_identifier(name)


def is_path(value: str) -> bool:
    """A file path (`/run/secrets/db`, `./key.pem`, `~/.ssh/id_rsa`), not base64 that
    happens to start with a slash: no `=`/`+`, no random-looking segment."""
    if not PATH.match(value) or "=" in value or "+" in value:
        return False
    return not any(
        len(segment) >= 12 and character_classes(segment) >= 3 for segment in value.split("/")
    )


def is_words(value: str) -> bool:
    """A name made of words of three letters or more (`Client`, `MyVerifierString`,
    `RSAPrivateKeyWithSerialization`, `_AsyncProviderBuilder`, `PKCS7PrivateKeyTypes`):
    a name or a phrase, not a random string, whose capitals start words far more often
    than in a random one, and which holds vowels as words do. At most one short run of
    digits is allowed."""
    name = value.lstrip("_")
    if not name.isalnum() or not name[:1].isalpha():
        return False
    parts = KEY_PART.findall(name)
    digit_runs = [p for p in parts if p.isdigit()]
    if len(digit_runs) > 1 or any(len(run) > 2 for run in digit_runs):
        return False
    letters = len(name) - sum(map(len, digit_runs))
    words = len(parts) - len(digit_runs)
    vowels = sum(c in "aeiouAEIOU" for c in name)
    titled = any(p[:1].isupper() and len(p) >= 3 and p[1:].islower() for p in parts)
    # Words hold a vowel in three letters or so; a random string one in five.
    return titled and (
        (letters / max(words, 1) >= 3.5 and vowels >= 0.3 * letters)
        or (not digit_runs and name.istitle())
    )


def looks_like_password(value: str) -> bool:
    """A literal that could be a password: six or more characters, not a lower-case word
    or kebab/snake-case name, with digits, capitals or punctuation (or long enough)."""
    if len(value) < 6 or is_not_a_literal(value) or LOWER_WORDS.match(value):
        return False
    if HOST_NAME.match(value):
        return False
    return character_classes(value) >= 2 or (len(value) >= 12 and shannon_entropy(value) >= 3.0)


def looks_like_token(value: str) -> bool:
    """A literal that could be a token or key: twelve or more characters of a random
    string (entropy of at least 3 bits per character)."""
    return (
        len(value) >= 12
        and not is_not_a_literal(value)
        and not LOWER_WORDS.match(value)
        and shannon_entropy(value) >= 3.0
    )


def secret_value(key: str, value: str, line: str) -> bool:
    """Whether `value`, written for `key` on `line`, is a literal secret.

    Base64 that decodes to text (Kubernetes Secret `data`, Docker `auth`) is judged by
    what it decodes to; base64 of prose, hex digests on lines about hashes, and password
    hashes are not secrets. Nor are UUIDs: under a generic key they are ids (client,
    tenant, request); providers whose keys are UUIDs have their own keyed rules.
    Passwords may be short and punctuated; tokens and keys must look random.
    """
    value = value.strip().strip("\"'`")
    if any(c.isspace() for c in value):  # prose ("put your unique phrase here")
        return False
    if "EXAMPLE" in line:  # AWS's documentation style marks every sample on the line
        return False
    if looks_like_hash(value, line) or is_base64_of_prose(value) or is_uuid(value):
        return False
    decoded = decode_base64_text(value) if len(value) >= 8 else None
    if decoded is not None and decoded.strip():
        inner = decoded.strip()
        if "PRIVATE KEY" in inner:
            return True
        if "CERTIFICATE" in inner or "PUBLIC KEY" in inner:
            return False
        return looks_like_password(inner) or looks_like_token(inner)
    words = key_words(key)
    if any(w.endswith(("password", "passwd", "pwd", "passphrase", "passcode")) for w in words):
        return looks_like_password(value)
    return looks_like_token(value) or (
        any(w in ("pass", "pw", "psk") or w.endswith("secret") for w in words)
        and looks_like_password(value)
    )


def credential_text(text: str) -> bool:
    """Decoded text (from a Kubernetes data value) that is itself a credential: a URL
    with a password, a private key, or a random-looking string."""
    stripped = text.strip()
    if "PRIVATE KEY" in stripped:
        return True
    if "CERTIFICATE" in stripped or "PUBLIC KEY" in stripped or " " in stripped:
        return False
    if re.search(r"://[^\s:@/]*:[^\s@/]+@", stripped):
        return not is_placeholder(stripped.split("://", 1)[1].split("@")[0].split(":", 1)[1])
    return looks_like_token(stripped) and character_classes(stripped) >= 3
