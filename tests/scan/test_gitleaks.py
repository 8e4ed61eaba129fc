"""gitleaks TOML configs behave as gitleaks documents them: rules, allow-lists, extend,
.gitleaksignore, and the operator (not the scanned tree) owning the config."""

from __future__ import annotations

from pathlib import Path

import pytest

from steward.errors import InvalidInput
from steward.scan.gitleaks import read_ignore_file
from steward.scan.models import ScanOptions
from steward.scan.run import rule_set, run_scan
from tests.scan.conftest import TOKEN, commit

ACME = "acme_key = 'Qx7vN2pLm9Rt4Kz8'"


def scan(
    tmp_path: Path,
    config: str,
    files: dict[str, str],
    *,
    ignored: frozenset[str] = frozenset(),
) -> list[tuple[str, str, int]]:
    """(rule, path, line) of every finding of `config` over a tree holding `files`."""
    tree = tmp_path / "tree"
    for name, text in files.items():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_text(text)
    toml = tmp_path / "gitleaks.toml"
    toml.write_text(config)
    result = run_scan(tree, rules=rule_set(ScanOptions(), toml), ignored=ignored)
    return sorted((f.rule_id, f.path, f.line) for f in result.findings)


ACME_RULE = """
[[rules]]
id = "acme-key"
description = "ACME API key"
regex = '''(?i)acme_key\\s*=\\s*['"]([a-z0-9]{16})['"]'''
secretGroup = 1
keywords = ["ACME_KEY"]
"""


def test_custom_rule_reports_its_secret_group_with_its_column(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "app.ini").write_text(f"[acme]\n  {ACME}\n")
    toml = tmp_path / "gitleaks.toml"
    toml.write_text(ACME_RULE)
    [finding] = run_scan(tree, rules=rule_set(ScanOptions(), toml)).findings
    assert (finding.rule_id, finding.path, finding.line) == ("acme-key", "app.ini", 2)
    assert finding.column == len("  acme_key = '") + 1
    assert finding.redacted.startswith("Qx7v")
    assert "Qx7vN2pLm9Rt4Kz8" not in finding.redacted
    assert finding.kind == "secret"
    assert finding.description == "ACME API key"


def test_keywords_gate_the_regex_case_insensitively(tmp_path: Path) -> None:
    config = """
[[rules]]
id = "hex-with-keyword"
regex = '''[0-9a-f]{32}'''
keywords = ["Vault"]
"""
    value = "9f86d081884c7d659a2feaa0c55ad015"
    found = scan(tmp_path, config, {"a.txt": f"VAULT {value}\n", "b.txt": f"other {value}\n"})
    assert found == [("hex-with-keyword", "a.txt", 1)]


def test_entropy_threshold_drops_secrets_at_or_below_it(tmp_path: Path) -> None:
    # gitleaks skips a secret whose entropy is <= the rule's: "abcdefgh" has exactly 3 bits.
    config = """
[[rules]]
id = "token"
regex = '''token=(\\w+)'''
entropy = 3.0
"""
    files = {
        "low.txt": "token=aaaabbbb\n",
        "equal.txt": "token=abcdefgh\n",
        "high.txt": "token=abcdefghi\n",
    }
    assert scan(tmp_path, config, files) == [("token", "high.txt", 1)]


def test_first_capture_group_is_the_secret_when_secret_group_is_unset(tmp_path: Path) -> None:
    config = """
[[rules]]
id = "pw"
regex = '''password=(\\S+)'''
[[rules.allowlists]]
regexes = ['''^hunter2$''']
"""
    # The allow-list tests the secret (group 1), not the whole match.
    found = scan(tmp_path, config, {"a.txt": "password=hunter2\npassword=Zk29xQ\n"})
    assert found == [("pw", "a.txt", 2)]


def test_path_only_rule_reports_the_file_and_path_narrows_a_regex_rule(tmp_path: Path) -> None:
    config = """
[[rules]]
id = "keystore-file"
description = "A Java keystore"
path = '''\\.(jks|p12)$'''

[[rules]]
id = "env-password"
regex = '''PASSWORD=(\\S+)'''
path = '''\\.env$'''
"""
    files = {
        "certs/server.p12": "not really a keystore\n",
        "prod.env": "PASSWORD=Zq8vR2mN9k\n",
        "notes.txt": "PASSWORD=Zq8vR2mN9k\n",
    }
    assert scan(tmp_path, config, files) == [
        ("env-password", "prod.env", 1),
        ("keystore-file", "certs/server.p12", 1),
    ]


@pytest.mark.parametrize(
    ("allowlist", "kept"),
    [
        ("regexes = ['''^Qx7v''']", []),  # regexTarget secret (the default)
        ("regexTarget = 'match'\nregexes = ['''^acme_key = ''']", []),
        ("regexTarget = 'line'\nregexes = ['''^\\[acme\\]''']", [("acme-key", "b.ini", 2)]),
        ("stopwords = ['rt4k']", []),  # stop-words look in the secret, lower-cased
        ("paths = ['''^a\\.ini$''']", [("acme-key", "b.ini", 2)]),
    ],
)
def test_rule_allowlist_targets(tmp_path: Path, allowlist: str, kept: list[object]) -> None:
    config = ACME_RULE + "[[rules.allowlists]]\n" + allowlist + "\n"
    files = {"a.ini": f"[acme] {ACME}\n", "b.ini": f"[other]\n{ACME}\n"}
    assert scan(tmp_path, config, files) == kept


def test_allowlist_condition_and_needs_every_check(tmp_path: Path) -> None:
    config = (
        ACME_RULE
        + """
[[rules.allowlists]]
condition = "AND"
paths = ['''^fixtures/''']
stopwords = ["qx7v"]
"""
    )
    files = {
        "fixtures/a.ini": f"{ACME}\n",  # path and stop-word: silenced
        "fixtures/b.ini": "acme_key = 'Zz7vN2pLm9Rt4Kz8'\n",  # path only: reported
        "c.ini": f"{ACME}\n",  # stop-word only: reported
    }
    assert scan(tmp_path, config, files) == [
        ("acme-key", "c.ini", 1),
        ("acme-key", "fixtures/b.ini", 1),
    ]


def test_allowlist_condition_or_needs_one_check(tmp_path: Path) -> None:
    config = (
        ACME_RULE
        + """
[[rules.allowlists]]
condition = "OR"
paths = ['''^fixtures/''']
stopwords = ["qx7v"]
"""
    )
    files = {"fixtures/b.ini": "acme_key = 'Zz7vN2pLm9Rt4Kz8'\n", "c.ini": f"{ACME}\n"}
    assert scan(tmp_path, config, files) == []


def test_global_allowlists_silence_every_rule_and_target_rules_only_theirs(
    tmp_path: Path,
) -> None:
    config = (
        ACME_RULE
        + """
[[rules]]
id = "pw"
regex = '''password=(\\S+)'''

[[allowlists]]
description = "vendored code"
paths = ['''^vendor/''']

[[allowlists]]
targetRules = ["pw"]
regexes = ['''^Zk''']
"""
    )
    files = {
        "vendor/lib.ini": f"{ACME}\npassword=Xy81Qq\n",
        "app.ini": f"{ACME}\npassword=Zk29xQ\npassword=Xy81Qq\n",
    }
    assert scan(tmp_path, config, files) == [("acme-key", "app.ini", 1), ("pw", "app.ini", 3)]


def test_older_single_allowlist_tables_are_read(tmp_path: Path) -> None:
    config = (
        ACME_RULE
        + """
[rules.allowlist]
paths = ['''^a\\.ini$''']

[allowlist]
paths = ['''^b\\.ini$''']
"""
    )
    files = {"a.ini": f"{ACME}\n", "b.ini": f"{ACME}\n", "c.ini": f"{ACME}\n"}
    assert scan(tmp_path, config, files) == [("acme-key", "c.ini", 1)]


def test_commit_allowlist_silences_only_that_commit_in_history(
    tmp_path: Path, leaky_repo: tuple[Path, str]
) -> None:
    repo, leaked = leaky_repo
    (repo / "again.py").write_text(f"TOKEN = '{TOKEN}'\n")
    again = commit(repo, "the token again")
    toml = tmp_path / "gitleaks.toml"
    toml.write_text(
        f"[extend]\nuseDefault = true\n[[allowlists]]\ncommits = ['{leaked.upper()}']\n"
    )
    result = run_scan(repo, history=True, rules=rule_set(ScanOptions(), toml))
    assert [(f.rule_id, f.commit) for f in result.findings] == [("github-token", again)]


def test_extend_use_default_adds_stewards_rules_and_disabled_rules_drop_them(
    tmp_path: Path,
) -> None:
    files = {"a.ini": f"{ACME}\ntoken = {TOKEN}\nhost = 10.1.2.3\n"}
    extended = ACME_RULE + "[extend]\nuseDefault = true\n"
    assert scan(tmp_path, extended, files) == [
        ("acme-key", "a.ini", 1),
        ("github-token", "a.ini", 2),
        ("private-ipv4", "a.ini", 3),
    ]
    disabled = ACME_RULE + "[extend]\nuseDefault = true\ndisabledRules = ['github-token']\n"
    assert scan(tmp_path, disabled, files) == [
        ("acme-key", "a.ini", 1),
        ("private-ipv4", "a.ini", 3),
    ]


def test_a_rule_with_a_default_rules_id_extends_it(tmp_path: Path) -> None:
    # gitleaks merges: the allow-list is added, the default rule's regex and validator stay.
    config = """
[extend]
useDefault = true

[[rules]]
id = "github-token"
[[rules.allowlists]]
paths = ['''^tests/''']
"""
    files = {"tests/fixture.py": f"T = '{TOKEN}'\n", "app.py": f"T = '{TOKEN}'\n"}
    assert scan(tmp_path, config, files) == [("github-token", "app.py", 1)]
    rules = {r.id: r for r in rule_set(ScanOptions(), tmp_path / "gitleaks.toml")}
    assert rules["github-token"].validator is not None


def test_extend_path_reads_another_file_relative_to_the_config(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "base.toml").write_text(ACME_RULE)
    config = """
[extend]
path = "shared/base.toml"

[[rules]]
id = "acme-key"
description = "ACME key, stricter"
[[rules.allowlists]]
paths = ['''^ok\\.ini$''']
"""
    files = {"ok.ini": f"{ACME}\n", "bad.ini": f"{ACME}\n"}
    assert scan(tmp_path, config, files) == [("acme-key", "bad.ini", 1)]
    [rule] = rule_set(ScanOptions(), tmp_path / "gitleaks.toml")
    assert (rule.description, rule.secret_group, rule.keywords) == (
        "ACME key, stricter",
        1,
        ("acme_key",),
    )


def test_inline_gitleaks_allow_silences_a_custom_rule(tmp_path: Path) -> None:
    files = {"a.ini": f"{ACME}  # gitleaks:allow\n{ACME} # steward:allow\n{ACME}\n"}
    assert scan(tmp_path, ACME_RULE, files) == [("acme-key", "a.ini", 3)]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("[[rules]]\nregex = 'x'\n", "has no id"),
        ("[[rules]]\nid = 'r'\n", "rule r: both regex and path are empty"),
        ("[[rules]]\nid = 'r'\nregex = '(a'\n", "rule r: not a valid RE2 regex"),
        ("[[rules]]\nid = 'r'\nregex = '(?=a)'\n", "rule r: not a valid RE2 regex"),
        (
            "[[rules]]\nid = 'r'\nregex = '(a)'\nsecretGroup = 2\n",
            "secretGroup 2 but the regex has 1",
        ),
        ("[[rules]]\nid = 'r'\nregex = 'a'\n[[rules.allowlists]]\n", "at least one of commits"),
        (
            "[[rules]]\nid = 'r'\nregex = 'a'\n"
            "[[rules.allowlists]]\ncondition = 'XOR'\nregexes = ['a']\n",
            "unknown condition 'XOR'",
        ),
        (
            "[[rules]]\nid = 'r'\nregex = 'a'\n"
            "[[rules.allowlists]]\nregexTarget = 'file'\nregexes = ['a']\n",
            "unknown regexTarget 'file'",
        ),
        ("[[rules]]\nid = 'r'\nregex = 'a'\nkeyword = ['x']\n", r"unknown key\(s\) keyword"),
        ("[extend]\nuseDefault = true\npath = 'x.toml'\n", "sets both useDefault and path"),
        ("[extend]\npath = 'missing.toml'\n", "cannot read"),
        ("[[allowlists]]\ntargetRules = ['nope']\npaths = ['x']\n", "target rule id 'nope'"),
        ("[[rules]\n", "not valid TOML"),
    ],
)
def test_configs_gitleaks_refuses_are_errors_naming_the_file(
    tmp_path: Path, config: str, message: str
) -> None:
    toml = tmp_path / "gitleaks.toml"
    toml.write_text(config)
    with pytest.raises(InvalidInput, match=message) as error:
        rule_set(ScanOptions(), toml)
    assert "gitleaks.toml" in error.value.message


def test_extend_chain_deeper_than_gitleaks_allows_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text("[extend]\npath = 'a.toml'\n")
    with pytest.raises(InvalidInput, match="deeper than 2"):
        rule_set(ScanOptions(), tmp_path / "a.toml")


def test_gitleaksignore_skips_listed_fingerprints_with_and_without_commit(
    tmp_path: Path, leaky_repo: tuple[Path, str]
) -> None:
    repo, leaked = leaky_repo
    (repo / "again.py").write_text(f"TOKEN = '{TOKEN}'\n")
    commit(repo, "the token again")
    ignore = tmp_path / ".gitleaksignore"
    ignore.write_text(f"# accepted, see ticket 12\n\n{leaked}:settings.py:github-token:2\n")
    rules = rule_set(ScanOptions())
    result = run_scan(repo, history=True, rules=rules, ignored=read_ignore_file(ignore))
    assert [f.path for f in result.findings] == ["again.py"]
    ignore.write_text("again.py:github-token:1\nsettings.py:github-token:2\n")
    result = run_scan(repo, history=True, rules=rules, ignored=read_ignore_file(ignore))
    assert result.findings == []


def test_config_files_inside_the_tree_are_not_read_and_are_reported(
    tmp_path: Path, leaky_repo: tuple[Path, str]
) -> None:
    repo, _ = leaky_repo
    (repo / "app.py").write_text(f"TOKEN = '{TOKEN}'\n")
    (repo / ".gitleaks.toml").write_text("[[allowlists]]\npaths = ['.*']\n")
    (repo / ".gitleaksignore").write_text("app.py:github-token:1\n")
    result = run_scan(repo, rules=rule_set(ScanOptions()))
    assert [f.path for f in result.findings] == ["app.py"]
    assert {n.path for n in result.notices} == {
        str(repo / ".gitleaks.toml"),
        str(repo / ".gitleaksignore"),
    }
    assert all("NOT read" in n.message for n in result.notices)
    # Named by the operator, the same files are read and no longer reported as ignored.
    named = run_scan(
        repo,
        rules=rule_set(ScanOptions(), repo / ".gitleaks.toml"),
        ignored=read_ignore_file(repo / ".gitleaksignore"),
        named_files=[repo / ".gitleaks.toml", repo / ".gitleaksignore"],
    )
    assert (named.findings, named.notices) == ([], [])


def test_keys_are_read_whatever_their_case_as_gitleaks_viper_reads_them(tmp_path: Path) -> None:
    config = """
[[rules]]
ID = "acme-key"
Regex = '''acme_key\\s*=\\s*'(\\w+)''''
secretgroup = 1
[[rules.Allowlists]]
regextarget = "line"
StopWords = ["nope"]
Regexes = ['''(?m)^#''']  # gitleaks' line starts with the newline before it

[[AllowLists]]
targetrules = ["acme-key"]
paths = ['''^vendor/''']
"""
    files = {"a.ini": f"{ACME}\n# {ACME}\n", "vendor/b.ini": f"{ACME}\n"}
    assert scan(tmp_path, config, files) == [("acme-key", "a.ini", 1)]
