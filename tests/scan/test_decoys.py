"""The decoy checks every rule shares: what stands in for a secret, and what only
looks like one."""

from __future__ import annotations

import base64
import hashlib

import pytest

from steward.scan.decoys import (
    decode_base64_text,
    is_base64_of_prose,
    is_documented_example,
    is_identifier,
    is_password_hash,
    is_placeholder,
    is_reference,
    is_templated,
    is_uuid,
    looks_like_hash,
)


@pytest.mark.parametrize(
    "value",
    [
        "changeme",
        "CHANGE_ME",
        "REPLACE-WITH-KUBESEAL-OUTPUT",
        "<password>",
        "<your-api-key>",
        "[redacted]",
        "xxxxxxxxxxxx",
        "************",
        "REDACTED",
        "your-token-here",
        "your_api_key",
        "example-secret",
        "dummy",
        "placeholder",
        "password123",
        "secret-token",
        "none",
        "",
        "aaaaaaaa",
        "sk-...",
        "${DB_PASSWORD}",
    ],
)
def test_placeholders(value: str) -> None:
    assert is_placeholder(value)


@pytest.mark.parametrize(
    "value",
    ["Zq8vR2mNk4", "Falcon42!#Kq9", "t3st-R4nd0m-Qz81", "aTestKeyZ9q7W", "x7Hq2LmTESTp9"],
)
def test_real_looking_values_are_not_placeholders(value: str) -> None:
    """ "test" inside a random value is common and does not make it a placeholder."""
    assert not is_placeholder(value)


@pytest.mark.parametrize(
    "value",
    [
        "${VAR}",
        "$DB_PASSWORD",
        "$(API_TOKEN)",
        "$(cat /run/secrets/token)",
        "{{ .Values.db.password }}",
        "${{ secrets.DB_PASSWORD }}",
        "{{ db_password }}",
        "{% raw %}",
        "%(password)s",
        "<%= ENV['DB_PASSWORD'] %>",
        "ENC[AES256_GCM,data:abc=,iv:x,tag:y,type:str]",
        "!vault |",
        "op://prod/db/password",
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db",
        "%DB_PASSWORD%",
        "__DB_PASSWORD__",
        "{password}",
    ],
)
def test_templates_and_secret_store_references(value: str) -> None:
    assert is_templated(value)


@pytest.mark.parametrize(
    "value",
    ["$q=w(=^7b3)p^dk", "3$xril*av63#fv9$(c_yk-2_1k@e)", "N0t$ecret%d-ok", "ab%(c"],
)
def test_punctuated_secrets_are_not_templates(value: str) -> None:
    assert not is_templated(value)


@pytest.mark.parametrize(
    "value",
    [
        'os.environ["DB_PASSWORD"]',
        "os.getenv('TOKEN')",
        "process.env.API_KEY",
        'System.getenv("PASSWORD")',
        "settings.SECRET_KEY",
        'Variable.get("api_token")',
    ],
)
def test_references_to_where_the_secret_lives(value: str) -> None:
    assert is_reference(value)


@pytest.mark.parametrize(
    "value", ["db_password", "DB_PASSWORD", "self.token", "apiKey", "get_token()", "SettingsSource"]
)
def test_identifiers(value: str) -> None:
    assert is_identifier(value)


@pytest.mark.parametrize("value", ["Zq8vR2mNk4", "a8Fk_29dkQ", "p@ss:w0rd!#"])
def test_random_values_are_not_identifiers(value: str) -> None:
    assert not is_identifier(value)


def test_hex_digests_are_hashes_only_next_to_hash_words() -> None:
    digest = hashlib.sha256(b"x").hexdigest()
    assert looks_like_hash(digest, f"checksum: {digest}")
    assert looks_like_hash(digest, f"image: etl@sha256:{digest}")
    assert looks_like_hash(hashlib.sha1(b"x").hexdigest(), "commit: abc")
    assert looks_like_hash("sha512-" + "Q" * 86 + "==", "integrity: x")
    assert not looks_like_hash(digest, f"api_key: {digest}")


def test_password_hashes_are_not_passwords() -> None:
    assert is_password_hash("$2b$12$" + "a" * 53)
    assert is_password_hash("$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA")
    assert is_password_hash("pbkdf2_sha256$600000$salt$hash=")
    assert not is_password_hash("Falcon42!#Kq9")


def test_base64_of_prose_is_not_a_secret_but_base64_of_a_password_decodes() -> None:
    prose = base64.b64encode(b"This is a plain sentence about the pipeline.").decode()
    assert is_base64_of_prose(prose)
    password = base64.b64encode(b"Falcon42!#Kq9").decode()
    assert not is_base64_of_prose(password)
    assert decode_base64_text(password) == "Falcon42!#Kq9"
    assert decode_base64_text("not base64!") is None
    assert decode_base64_text(base64.b64encode(bytes(range(256))).decode()) is None


def test_documented_examples_and_uuids() -> None:
    assert is_documented_example("AKIAIOSFODNN7EXAMPLE")
    assert is_documented_example("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    assert is_documented_example("SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")
    assert not is_documented_example("Zq8vR2mNk4")
    assert is_uuid("6f1c2e9a-1b3c-4d5e-8f9a-0b1c2d3e4f5a")
    assert not is_uuid("6f1c2e9a1b3c4d5e8f9a0b1c2d3e4f5a")


@pytest.mark.parametrize("value", ["abcd1234efgh", "1234abcdXYZ9", "a1b2c3d4e5f6", "xy56789Qz"])
def test_values_typed_in_keyboard_order_are_placeholders(value: str) -> None:
    assert is_placeholder(value)


@pytest.mark.parametrize("value", ["Pass@Word1", "generatedwebdavpassword1", "MyPassword2024!"])
def test_values_spelling_password_are_placeholders(value: str) -> None:
    assert is_placeholder(value)


@pytest.mark.parametrize(
    "value", ["SSHPrivateKeyTypes", "PKCS7PrivateKeyTypes", "_AsyncStaticFieldProviderBuilder"]
)
def test_class_names_with_acronyms_are_identifiers(value: str) -> None:
    assert is_identifier(value)


def test_empty_format_fields_are_templates() -> None:
    assert is_templated("//{}{}:_authToken")


def test_oauth_rfc_example_credentials_are_documented_examples() -> None:
    assert is_documented_example("2YotnFZFEjr1zCsicMWpAA")
    assert is_documented_example("hh5s93j4hdidpola")
