"""Each built-in rule: a true positive, and the near-miss decoys it must not report."""

from __future__ import annotations

import base64
import json

import pytest

from steward.scan.engine import compile_rules, scan_lines, shannon_entropy
from steward.scan.models import Finding, Line, Rule
from steward.scan.rules import DEFAULT_RULES
from steward.scan.secrets import github_checksum

RULES = compile_rules(DEFAULT_RULES)


def findings(text: str, path: str = "config.txt") -> list[Finding]:
    lines = [Line(path, n, t) for n, t in enumerate(text.splitlines(), 1)]
    return list(scan_lines(RULES, lines))


def rule_ids(text: str) -> list[str]:
    return [f.rule_id for f in findings(text)]


def github_token(prefix: str = "ghp_", body: str = "R4nd0mB0dyOfThirtyCharsXyZ0123") -> str:
    assert len(body) == 30
    return prefix + body + github_checksum(body)


def b64url(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def test_aws_key_id_found_and_documented_example_is_a_decoy() -> None:
    key_id = "AKIA" + "Z3MHALQ4W7XPN2RT"
    assert rule_ids(f"aws_access_key_id = {key_id}") == ["aws-access-key-id"]
    assert rule_ids("aws_access_key_id = AKIAIOSFODNN7EXAMPLE") == []


@pytest.mark.parametrize("prefix", ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"])
def test_github_token_with_valid_checksum_found(prefix: str) -> None:
    assert rule_ids(f"token: {github_token(prefix)}") == ["github-token"]


def test_github_token_with_wrong_checksum_is_a_decoy() -> None:
    token = github_token()
    broken = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert rule_ids(f"token: {broken}") == []
    assert rule_ids("token: ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx") == []


def test_github_checksum_is_base62_crc32_padded_to_six() -> None:
    checksum = github_checksum("R4nd0mB0dyOfThirtyCharsXyZ0123")
    assert len(checksum) == 6
    assert checksum.isalnum()


@pytest.mark.parametrize("kind", ["RSA ", "EC ", "OPENSSH ", "ENCRYPTED ", ""])
def test_pem_private_key_found(kind: str) -> None:
    assert rule_ids(f"-----BEGIN {kind}PRIVATE KEY-----") == ["private-key"]


def test_public_key_and_certificate_are_not_private_keys() -> None:
    assert rule_ids("-----BEGIN PUBLIC KEY-----\n-----BEGIN CERTIFICATE-----") == []


def test_jwt_that_decodes_found() -> None:
    token = ".".join([b64url({"alg": "RS256", "typ": "JWT"}), b64url({"sub": "svc-42"}), "Q" * 43])
    assert rule_ids(f"Authorization: Bearer {token}") == ["jwt"]


def test_jwt_io_sample_and_undecodable_tokens_are_decoys() -> None:
    sample = (
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4g"
        "RG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
    )
    assert rule_ids(sample) == []
    no_alg = ".".join([b64url({"typ": "JWT"}), b64url({"sub": "x"}), "Q" * 43])
    assert rule_ids(no_alg) == []
    assert rule_ids("eyJnotbase64json!.eyJzdWIi.QQQQQQQQQQQQQQQQQQQQ") == []


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://app:S3cr3t-Pa55@db.example.com:5432/app",  # steward:allow
        "postgres://app:S3cr3t-Pa55@db/app",  # steward:allow
        "mysql://root:hunter2isbad@10.1.2.3/app",  # steward:allow
        "redis://:Zq8vR2mN@cache:6379/0",  # steward:allow
        "amqp://guest:Zq8vR2mNkk@rabbit:5672/",  # steward:allow
        "mongodb+srv://ops:Zq8vR2mN9@cluster0.mongodb.net/db",  # steward:allow
        "postgresql+psycopg://app:S3cr3t-Pa55@db/app",  # steward:allow
    ],
)
def test_connection_url_password_found(url: str) -> None:
    found = [f for f in findings(f'url = "{url}"') if f.rule_id == "connection-url-password"]
    assert len(found) == 1
    assert "Pa55" not in found[0].redacted
    assert "2mN" not in found[0].redacted


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://app:${DB_PASSWORD}@db/app",
        "postgresql://app:{{ .Values.db.password }}@db/app",
        "mysql://root:<password>@db/app",
        "redis://:changeme@cache:6379",
        "amqp://guest:xxx@rabbit/",
        "mongodb://ops:****@mongo/db",
        "postgresql://app:%(db_password)s@db/app",
        "postgresql://app@db/app",
        "postgresql://db.example.com/app",
    ],
)
def test_connection_url_placeholders_are_decoys(url: str) -> None:
    assert "connection-url-password" not in rule_ids(url)


@pytest.mark.parametrize(
    "line",
    [
        "host: 10.0.0.1",
        "bind 172.16.4.20:8080",
        "gateway=192.168.1.1",
        "node 100.64.0.7 (carrier-grade NAT)",
        "peers: 10.0.0.1,10.0.0.2",
    ],
)
def test_private_ipv4_found(line: str) -> None:
    assert "private-ipv4" in rule_ids(line)


def test_private_ipv4_list_finds_each_address() -> None:
    assert rule_ids("peers: 10.0.0.1,10.0.0.2") == ["private-ipv4", "private-ipv4"]


@pytest.mark.parametrize(
    "line",
    [
        "version: 10.0.0.1",  # decided: a line naming a version holds a version, not a host
        "release 10.2.0.1",
        "pkg 1.10.0.0.1",
        "v10.0.0.1",
        "dns 8.8.8.8",
        "public 100.128.0.1",  # just past RFC 6598's 100.64.0.0/10
        "not an address 10.0.0.256",
        "oid 10.0.0.1.5",
        "doc 172.32.0.1",
    ],
)
def test_private_ipv4_decoys(line: str) -> None:
    assert "private-ipv4" not in rule_ids(line)


def test_inline_allow_comment_silences_the_line() -> None:
    token = github_token()
    assert rule_ids(f"t = {token}  # gitleaks:allow") == []
    assert rule_ids(f"t = {token}  # steward:allow") == []


def test_finding_has_position_redaction_and_line_independent_fingerprint() -> None:
    token = github_token()
    first = findings(f"x = {token}", path="a.env")[0]
    moved = findings(f"\n\n  x = {token}", path="a.env")[0]
    assert (first.line, first.column) == (1, 5)
    assert (moved.line, moved.column) == (3, 7)
    assert first.fingerprint == moved.fingerprint
    assert token not in first.redacted
    assert first.redacted.startswith("ghp_")
    assert findings(f"x = {token}", path="b.env")[0].fingerprint != first.fingerprint


def test_entropy_threshold_refuses_low_entropy_secrets() -> None:
    rule = Rule(
        id="t", description="t", kind="secret", regex=r"key=(\w+)", secret_group=1, entropy=3.0
    )
    compiled = compile_rules([rule])
    assert list(scan_lines(compiled, [Line("f", 1, "key=aaaaaaaaaaaa")])) == []
    assert len(list(scan_lines(compiled, [Line("f", 1, "key=q8Zr2vNm4Lx7")]))) == 1
    assert shannon_entropy("") == 0.0
    assert shannon_entropy("ab") == 1.0


def test_keywords_path_and_allowlist() -> None:
    from steward.scan.models import Allowlist

    rule = Rule(
        id="t",
        description="t",
        kind="secret",
        regex=r"tok_[a-z0-9]+",
        keywords=("TOK_",),
        path=r"\.env$",
        allowlists=(Allowlist(regexes=(r"tok_test",), stopwords=("dummy",)),),
    )
    compiled = compile_rules([rule])

    def scan(path: str, text: str) -> int:
        return len(list(scan_lines(compiled, [Line(path, 1, text)])))

    assert scan("a.env", "tok_abc123") == 1
    assert scan("a.py", "tok_abc123") == 0
    assert scan("a.env", "tok_test123") == 0
    assert scan("a.env", "tok_dummy1") == 0


def test_bad_regex_is_invalid_input_naming_the_rule() -> None:
    from steward.errors import InvalidInput

    rule = Rule(id="broken", description="", kind="secret", regex=r"(?<=lookbehind)x")
    with pytest.raises(InvalidInput, match="broken"):
        compile_rules([rule])


def test_secret_group_beyond_the_regex_groups_is_invalid_input() -> None:
    from steward.errors import InvalidInput

    rule = Rule(id="grp", description="", kind="secret", regex=r"key=(\w+)", secret_group=2)
    with pytest.raises(InvalidInput, match="grp: secretGroup 2"):
        compile_rules([rule])
