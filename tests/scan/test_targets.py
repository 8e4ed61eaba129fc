"""Targets: a directory walk (binary, non-UTF-8, .git) and git history from a real repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from steward.scan.engine import compile_rules, scan_lines
from steward.scan.rules import DEFAULT_RULES
from steward.scan.targets import directory_lines, history_lines, parse_log
from tests.scan.conftest import TOKEN, commit, git


def test_history_finds_a_deleted_secret_with_its_commit(leaky_repo: tuple[Path, str]) -> None:
    repo, leaked = leaky_repo
    found = list(scan_lines(compile_rules(DEFAULT_RULES), history_lines(repo)))
    assert [(f.rule_id, f.path, f.line, f.commit) for f in found] == [
        ("github-token", "settings.py", 2, leaked)
    ]


def test_working_tree_scan_does_not_find_the_deleted_secret(
    leaky_repo: tuple[Path, str],
) -> None:
    repo, _ = leaky_repo
    assert list(scan_lines(compile_rules(DEFAULT_RULES), directory_lines(repo))) == []


def test_history_covers_every_ref_not_only_the_checked_out_branch(
    leaky_repo: tuple[Path, str],
) -> None:
    repo, _ = leaky_repo
    git(repo, "checkout", "-q", "-b", "side")
    (repo / "side.env").write_text("DATABASE_URL=postgresql://app:Zq8vR2mN9k@db/app\n")
    side = commit(repo, "side branch secret")
    git(repo, "checkout", "-q", "main")
    found = list(scan_lines(compile_rules(DEFAULT_RULES), history_lines(repo)))
    assert ("side.env", side) in {(f.path, f.commit) for f in found}


def test_history_of_a_directory_that_is_not_a_repository_is_an_error(tmp_path: Path) -> None:
    from steward.errors import InvalidInput

    with pytest.raises(InvalidInput, match="git log failed"):
        list(history_lines(tmp_path))


def test_parse_log_reads_added_lines_starting_with_plus_plus_as_content() -> None:
    output = [
        "\x00commit abc123\n",
        "diff --git a/x.txt b/x.txt\n",
        "--- a/x.txt\n",
        "+++ b/x.txt\n",
        "@@ -3,0 +4,2 @@ context\n",
        "+++ not a header\n",
        "+second\n",
        "diff --git a/gone.txt b/gone.txt\n",
        "--- a/gone.txt\n",
        "+++ /dev/null\n",
        "@@ -1 +0,0 @@\n",
        "-old\n",
    ]
    lines = list(parse_log(iter(output)))
    assert [(x.path, x.number, x.text, x.commit) for x in lines] == [
        ("x.txt", 4, "++ not a header", "abc123"),
        ("x.txt", 5, "second", "abc123"),
    ]


def test_directory_walk_skips_git_and_binary_files_and_reads_latin1(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text(TOKEN)
    (tmp_path / "image.png").write_bytes(b"\x89PNG\0\0" + TOKEN.encode())
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "latin1.conf").write_bytes(
        "# café\ntoken = ".encode("latin-1") + TOKEN.encode() + b"\n"
    )
    lines = list(directory_lines(tmp_path))
    assert {x.path for x in lines} == {"sub/latin1.conf"}
    found = list(scan_lines(compile_rules(DEFAULT_RULES), lines))
    assert [(f.path, f.line) for f in found] == [("sub/latin1.conf", 2)]


def test_history_reads_paths_with_spaces_and_non_ascii_and_latin1_content(
    leaky_repo: tuple[Path, str],
) -> None:
    repo, _ = leaky_repo
    (repo / "deploy dir").mkdir()
    (repo / "deploy dir" / "hôtes.ini").write_bytes(
        "# réseau\nhost = ".encode("latin-1") + b"192.168.10.4\n"
    )
    added = commit(repo, "latin-1 inventory")
    found = list(scan_lines(compile_rules(DEFAULT_RULES), history_lines(repo)))
    assert ("private-ipv4", "deploy dir/hôtes.ini", 2, added) in {
        (f.rule_id, f.path, f.line, f.commit) for f in found
    }


def test_history_reads_paths_git_has_to_quote(leaky_repo: tuple[Path, str]) -> None:
    repo, _ = leaky_repo
    (repo / 'say "hi"\\n.env').write_text("host = 10.20.30.40\n")
    (repo / "tab\there.env").write_text("host = 10.20.30.41\n")
    added = commit(repo, "awkward names")
    found = list(scan_lines(compile_rules(DEFAULT_RULES), history_lines(repo)))
    assert {(f.path, f.commit) for f in found if f.rule_id == "private-ipv4"} == {
        ('say "hi"\\n.env', added),
        ("tab\there.env", added),
    }


def test_unquote_path_decodes_c_escapes_and_octal_utf8() -> None:
    from steward.scan.targets import unquote_path

    assert unquote_path("b/plain.txt") == "b/plain.txt"
    assert unquote_path('"b/a\\"b\\\\c\\td"') == 'b/a"b\\c\td'
    assert unquote_path('"b/h\\303\\264te"') == "b/hôte"
    assert unquote_path('"b/odd\\q"') == "b/odd\\q"


def test_directory_lines_are_counted_as_git_counts_them(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(
        b"one\x0cstill one\r\ntwo \xe2\x80\xa8 still two\nhost 10.0.0.9"
    )
    lines = list(directory_lines(tmp_path))
    assert [(x.number, x.text) for x in lines] == [
        (1, "one\x0cstill one"),
        (2, "two \u2028 still two"),
        (3, "host 10.0.0.9"),
    ]
