"""What looks like a secret, host or personal datum but is not one: the decoys.

Every rule's validator asks these questions before it reports a value. They are
plain functions of the value (and, where the answer depends on it, the line the
value sits on), shared by the secret, network and personal-data rules.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import re
import string

# Words that stand in for a value in examples, templates and docs. A value that is one
# of them, or is made of them and separators, is a placeholder.
PLACEHOLDER_WORDS = frozenset(
    {
        "changeme",
        "change_me",
        "change-me",
        "changeit",
        "password",
        "passwd",
        "pass",
        "pwd",
        "secret",
        "token",
        "key",
        "apikey",
        "api_key",
        "pw",
        "redacted",
        "removed",
        "hidden",
        "masked",
        "example",
        "sample",
        "dummy",
        "placeholder",
        "todo",
        "tbd",
        "fixme",
        "none",
        "null",
        "nil",
        "undefined",
        "true",
        "false",
        "yes",
        "no",
        "on",
        "off",
        "empty",
        "default",
        "required",
        "optional",
        "string",
        "value",
        "test",
        "testing",
        "foo",
        "bar",
        "baz",
        "qux",
        "admin",
        "root",
        "guest",
        "user",
        "username",
        "letmein",
        "notsecret",
        "not-a-secret",
        "insecure",
        "fake",
        "mock",
        "xxx",
    }
)

# Parts of a value that mark it as a stand-in wherever they occur. "test" is not here:
# it occurs inside real random tokens too often ("...gTeSt4...").
PLACEHOLDER_MARKERS = (
    "changeme",
    "change_me",
    "change-me",
    "replace_me",
    "replace-me",
    "replaceme",
    "replace-with",
    "replace_with",
    "your_",
    "your-",
    "your ",
    "yourpassword",
    "yoursecret",
    "yourtoken",
    "yourkey",
    "<your",
    "example",
    "placeholder",
    "redacted",
    "dummy",
    "insert_",
    "insert-",
    "put_your",
    "fill_me",
    "fillme",
    "notreal",
    "not_real",
    "not-real",
    "fake_",
    "fake-",
    "-fake",
    "_fake",
    "xxxx",
    "****",
    "...",
    "…",
    "0000000000",
    "1234567890",
    "abcdefghij",
)

# References to a value kept elsewhere: templating, interpolation, secret stores.
TEMPLATE_PATTERN = re.compile(
    r"\$\{|\$\([A-Za-z_][\w.-]*(?:[ \t][^)]*)?\)|\{\{|\}\}|\{%|<%"
    r"|%\([A-Za-z_]\w*\)[sdr]|^%[sd]|\{[A-Za-z_][\w.]*\}|\{\}"
    r"|^\{[A-Za-z_]|^\$[A-Za-z_][A-Za-z0-9_]*$|^\$[A-Z_][A-Z0-9_]+(?:[^A-Za-z0-9_]|$)"
    r"|^%[A-Za-z_][\w]*%$|^@[A-Za-z_][\w.]*@$|^__[A-Z0-9_]+__$"
    r"|^ENC\[|^!vault|^vault:|^ref\+|^secretref:|^arn:aws:secretsmanager|^sm://|^op://"
    r"|^awskms:|^gcpkms:|^azurekv:|^keyvault:"
)

# Code that reads a value from the environment or a config object, not the value.
REFERENCE_PATTERN = re.compile(
    r"(?:environ|getenv|env\.|ENV\[|process\.env|System\.getenv|os\.Getenv|Deno\.env"
    r"|settings\.|config\.|secrets\.|vars\.|Variable\.get|get_secret|getSecret|self\."
    r"|request\.|params\[|args\.|kwargs|options\.)"
)

HEX = frozenset(string.hexdigits)
HASH_WORDS = (
    "sha",
    "md5",
    "hash",
    "digest",
    "checksum",
    "integrity",
    "commit",
    "revision",
    "rev:",
    "rev=",
    "ref:",
    "etag",
    "fingerprint",
    "crc",
    "blake",
    "signature_of",
    "oid",
)
HASH_LENGTHS = frozenset({32, 40, 56, 64, 96, 128})

# Password hashes (bcrypt, argon2, scrypt, PBKDF2, crypt(3) SHA-512): what a system
# stores instead of the password. They are not reported as passwords.
PASSWORD_HASH_PATTERN = re.compile(
    r"^(?:\$2[abxy]?\$\d\d\$[./A-Za-z0-9]{53}|\$argon2(?:id|i|d)\$\S+|\$scrypt\$\S+"
    r"|\$[56]\$\S+|\$pbkdf2[-\w]*\$\S+|pbkdf2_sha256\$\S+|\{SSHA\}\S+|\{SHA\}\S+)$"
)

UUID_PATTERN = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)


def is_placeholder(value: str) -> bool:
    """A value that stands in for a secret: a template, a mask, an example word, an
    angle-bracket slot, a reference to where the real value is kept, a value spelling
    "password" (`Pass@Word1`, `generatedpassword1`), or too uniform (one character
    repeated, keys typed in order) to be random."""
    stripped = value.strip().strip("\"'`")
    lowered = stripped.lower()
    if not stripped:
        return True
    if is_templated(stripped):
        return True
    if lowered.startswith(("<", "[", "(")) and lowered.endswith((">", "]", ")")):
        return True
    if lowered.strip("x*.#-_ ?0") == "" or len(set(lowered)) <= 2:
        return True
    words = re.findall(r"[a-z]+|[0-9]+", lowered)
    if words and all(w in PLACEHOLDER_WORDS or is_filler_number(w) for w in words):
        return True
    if has_keyboard_run(lowered) or "password" in re.sub(r"[^a-z]", "", lowered):
        return True
    return any(marker in lowered for marker in PLACEHOLDER_MARKERS) or lowered.startswith(
        ("my-", "my_", "mysecret", "mypassword", "mytoken", "some-", "some_", "the-", "the_")
    )


def has_keyboard_run(lowered: str) -> bool:
    """Letters or digits typed in order (`abcd...` or `1234...` at the start, five in a
    row anywhere, `a1b2c3`): how people type a stand-in, rare in a random string."""
    run = 1
    for n, (before, after) in enumerate(itertools.pairwise(lowered), 2):
        run = run + 1 if after.isalnum() and ord(after) == ord(before) + 1 else 1
        if run >= 5 or (run == 4 and n == 4):
            return True
    return "a1b2c3" in lowered or "1a2b3c" in lowered


def is_filler_number(digits: str) -> bool:
    """Digits people append to a stand-in word: up to four (`test1234`, `admin2024`), or
    a run of the keyboard's digits (`123456789`)."""
    return digits.isdigit() and (
        len(digits) <= 4 or digits in "1234567890" or digits in "0123456789"
    )


def is_templated(value: str) -> bool:
    """A value that a template engine, shell or secret store fills in: `${VAR}`, `$VAR`,
    `{{ .Values.x }}`, `${{ secrets.X }}`, `%(x)s`, `<%= ENV[...] %>`, `ENC[...]` (sops),
    `!vault` (Ansible), `op://...` (1Password) and the like."""
    return bool(TEMPLATE_PATTERN.search(value.strip().strip("\"'`")))


def is_reference(value: str) -> bool:
    """Code that reads the secret from somewhere (`os.environ["X"]`, `settings.KEY`,
    `process.env.TOKEN`), rather than the secret itself."""
    return bool(REFERENCE_PATTERN.search(value))


IDENTIFIER_PATTERN = re.compile(
    r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+(?:\(\))?"  # self.token, a.b()
    r"|[a-z_][a-z0-9]*(?:_[a-z0-9]+)+(?:\(\))?"  # db_password, get_token()
    r"|[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+"  # DB_PASSWORD
    r"|[A-Za-z_][\w.]*\([^()]*\)"  # token(), base64(user:password)
)


def is_identifier(value: str) -> bool:
    """A name as code writes one (`db_password`, `apiKey`, `self.token`, `DB_PASSWORD`,
    `get_token()`, `SettingsSource`, `SSHPrivateKeyTypes`) or a call
    (`base64(user:password)`): a variable, type or expression, not a literal."""
    return bool(IDENTIFIER_PATTERN.fullmatch(value)) or is_camel_case_name(value)


CAMEL_PART = re.compile(r"[A-Z]{2,5}[0-9]?(?=[A-Z][a-z]|$)|[A-Z][a-z]+|^[a-z]+")


def is_camel_case_name(value: str) -> bool:
    """`SettingsSource`, `apiKey`, `SSHPrivateKeyTypes`, `_AsyncProviderBuilder`: two or
    more capitalised words of three letters or more that hold a vowel (after their
    capital), optionally after a lower-case word or acronyms. Random letters rarely
    split that way."""
    name = value.lstrip("_")
    parts = CAMEL_PART.findall(name)
    if not parts or "".join(parts) != name:
        return False
    words = [p for p in parts if p[:1].isupper() and p[1:].islower()]
    return len(words) >= 2 - (name[:1].islower()) and all(
        len(w) >= 3 and re.search("[aeiouy]", w[1:]) for w in words
    )


def looks_like_hash(value: str, line: str) -> bool:
    """A hex digest (32/40/56/64/96/128 characters) on a line that names a hash, digest,
    checksum or commit; a `sha256:`/`sha512-` prefixed digest (image digests, npm
    integrity); or a password hash (bcrypt, argon2, scrypt, crypt)."""
    if is_password_hash(value):
        return True
    lowered = line.lower()
    for prefix in ("sha1:", "sha256:", "sha384:", "sha512:", "sha256-", "sha384-", "sha512-"):
        if prefix + value.lower() in lowered or value.lower().startswith(prefix):
            return True
    if len(value) in HASH_LENGTHS and set(value) <= HEX:
        return any(word in lowered for word in HASH_WORDS)
    return False


def is_password_hash(value: str) -> bool:
    """A stored password hash (`$2b$12$...`, `$argon2id$...`, `{SSHA}...`): not the password."""
    return bool(PASSWORD_HASH_PATTERN.match(value.strip().strip("\"'")))


def is_uuid(value: str) -> bool:
    """A UUID: a key only where the provider's keys are UUIDs."""
    return bool(UUID_PATTERN.match(value))


def decode_base64_text(value: str) -> str | None:
    """The text `value` encodes in (standard or URL-safe) base64, or None when it is not
    base64 of printable UTF-8 text."""
    compact = value.strip().strip("\"'")
    if len(compact) < 4 or not re.fullmatch(r"[A-Za-z0-9+/_-]+={0,2}", compact):
        return None
    padded = compact + "=" * (-len(compact) % 4)
    try:
        raw = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
        text = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    if not text or any(not c.isprintable() and c not in "\n\r\t" for c in text):
        return None
    return text


def is_base64_of_prose(value: str) -> bool:
    """Base64 of ordinary text (words and spaces, like "This is a sample sentence"):
    high entropy as written, but nothing secret once decoded."""
    text = decode_base64_text(value)
    if text is None:
        return False
    words = re.findall(r"[A-Za-z]{2,}", text)
    return " " in text.strip() and len(words) >= 3 and sum(map(len, words)) >= len(text) * 0.6


def is_documented_example(value: str) -> bool:
    """Values providers publish in their documentation, which never authenticate."""
    return (
        value in DOCUMENTED_EXAMPLES
        or value.upper().endswith("EXAMPLE")
        or ("EXAMPLEKEY" in value.upper())
    )


DOCUMENTED_EXAMPLES = frozenset(
    {
        # AWS's documentation key pairs.
        "AKIAIOSFODNN7EXAMPLE",
        "AKIAI44QH8DHBEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
        # jwt.io's front-page token signature (HS256, "John Doe").
        "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
        # Stripe's documentation secret key.
        "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
        "sk_test_BQokikJOvBiI2HlWgH4olfQ2",
        # Slack's documentation webhook.
        "T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
        # OAuth 2.0 (RFC 6749, 6750) and OAuth 1.0 (RFC 5849) example credentials.
        "2YotnFZFEjr1zCsicMWpAA",
        "tGzv3JOkF0XG5Qx2TlKWIA",
        "SplxlOBeZQQYbYS6WxSbIA",
        "czZCaGRSa3F0MzpnWDFmQmF0M2JW",
        "gX1fBat3bV",
        "mF_9.B5f-4.1JqM",
        "h480djs93hd8",
        "hh5s93j4hdidpola",
        "hdhd0244k9j7ao03",
        "kkk9d7dh3k39sjv7",
        "dpf43f3p2l4k3l03",
        "nnch734d00sl2jdk",
        "45ghiukldjahdnhzdauz",
        # GitHub's fixed password for signing in over HTTPS with a token as the user name
        # (`login <token> password x-oauth-basic`): the token is the secret, not this.
        "x-oauth-basic",
    }
)
