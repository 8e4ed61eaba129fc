"""Targets: a directory walk (binary, non-UTF-8, .git), git history from a real repository,
`--since`, and hunks as chunks."""

from __future__ import annotations

from pathlib import Path

import pytest

from steward.scan.engine import compile_rules, scan_chunks
from steward.scan.rules import DEFAULT_RULES
from steward.scan.targets import directory_chunks, history_chunks, parse_diff
from tests.scan.conftest import TOKEN, commit, git


def test_history_finds_a_deleted_secret_with_its_commit(leaky_repo: tuple[Path, str]) -> None:
    repo, leaked = leaky_repo
    found = list(scan_chunks(compile_rules(DEFAULT_RULES), history_chunks(repo)))
    assert [(f.rule_id, f.path, f.line, f.commit) for f in found] == [
        ("github-token", "settings.py", 2, leaked)
    ]


def test_working_tree_scan_does_not_find_the_deleted_secret(
    leaky_repo: tuple[Path, str],
) -> None:
    repo, _ = leaky_repo
    assert list(scan_chunks(compile_rules(DEFAULT_RULES), directory_chunks(repo))) == []


def test_history_covers_every_ref_not_only_the_checked_out_branch(
    leaky_repo: tuple[Path, str],
) -> None:
    repo, _ = leaky_repo
    git(repo, "checkout", "-q", "-b", "side")
    (repo / "side.env").write_text("DATABASE_URL=postgresql://app:Zq8vR2mN9k@db/app\n")
    side = commit(repo, "side branch secret")
    git(repo, "checkout", "-q", "main")
    found = list(scan_chunks(compile_rules(DEFAULT_RULES), history_chunks(repo)))
    assert ("side.env", side) in {(f.path, f.commit) for f in found}


def test_history_attributes_lines_a_merge_brings_in_to_the_commit_that_added_them(
    leaky_repo: tuple[Path, str],
) -> None:
    repo, _ = leaky_repo
    git(repo, "checkout", "-q", "-b", "side")
    (repo / "side.ini").write_text("host = 10.1.2.3\n")
    side = commit(repo, "side host")
    git(repo, "checkout", "-q", "main")
    (repo / "main.ini").write_text("# main\n")
    commit(repo, "main change")
    git(repo, "merge", "-q", "--no-ff", "--no-edit", "side")
    merge = git(repo, "rev-parse", "HEAD")
    (repo / "after.ini").write_text("\nhost = 10.4.5.6\n")
    after = commit(repo, "after the merge")
    found = list(scan_chunks(compile_rules(DEFAULT_RULES), history_chunks(repo)))
    hosts = {(f.path, f.line, f.commit) for f in found if f.rule_id == "private-ipv4"}
    assert hosts == {("side.ini", 1, side), ("after.ini", 2, after)}
    assert merge not in {f.commit for f in found}


def test_history_of_a_directory_that_is_not_a_repository_is_an_error(tmp_path: Path) -> None:
    from steward.errors import InvalidInput

    with pytest.raises(InvalidInput, match="git log failed"):
        list(history_chunks(tmp_path))


def test_parse_log_reads_added_lines_starting_with_plus_plus_as_content() -> None:
    output = [
        b"\x00commit abc123\n",
        b"diff --git a/x.txt b/x.txt\n",
        b"--- a/x.txt\n",
        b"+++ b/x.txt\n",
        b"@@ -3,0 +4,2 @@ context\n",
        b"+++ not a header\n",
        b"+second\n",
        b"diff --git a/gone.txt b/gone.txt\n",
        b"--- a/gone.txt\n",
        b"+++ /dev/null\n",
        b"@@ -1 +0,0 @@\n",
        b"-old\n",
    ]
    chunks = list(parse_diff(iter(output)))
    assert [(x.path, x.first_line, x.text, x.commit) for x in chunks] == [
        ("x.txt", 4, "++ not a header\nsecond", "abc123"),
    ]


def test_parse_diff_makes_one_chunk_per_run_of_added_lines() -> None:
    output = [
        b"diff --git a/app.env b/app.env\n",
        b"--- a/app.env\n",
        b"+++ b/app.env\n",
        b"@@ -2 +2,2 @@\n",
        b"-old\n",
        b"+new two\n",
        b"+new three\n",
        b"@@ -9,0 +10 @@\n",
        b"+new ten\n",
    ]
    chunks = list(parse_diff(output))
    assert [(x.path, x.first_line, x.text, x.commit) for x in chunks] == [
        ("app.env", 2, "new two\nnew three", None),
        ("app.env", 10, "new ten", None),
    ]


LOG = (
    b"\x00commit 1111\n"
    b"\n"
    b"diff --git a/img.png b/img.png\n"
    b"new file mode 100644\n"
    b"index 0000000..e69de29\n"
    b"Binary files /dev/null and b/img.png differ\n"
    b'diff --git "a/caf\\303\\251 \\"x\\".env" "b/caf\\303\\251 \\"x\\".env"\n'
    b"--- /dev/null\n"
    b'+++ "b/caf\\303\\251 \\"x\\".env"\n'
    b"@@ -0,0 +1,3 @@\n"
    b"+one\r\n"
    b"+h\xf4te = 10.0.0.1\r\n"
    b"+three\n"
    b"\\ No newline at end of file\n"
    b"\x00commit 2222\n"
    b"\n"
    b"diff --git a/app.env b/app.env\n"
    b"--- a/app.env\n"
    b"+++ b/app.env\n"
    b"@@ -2,2 +2,2 @@ context\n"
    b"-old two\n"
    b"-old three\n"
    b"+\n"
    b"+++ added, not a header\n"
    b"@@ -9 +9 @@\n"
    b"-nine\n"
    b"+NINE"
)


def test_parse_diff_gives_the_same_chunks_wherever_git_output_is_cut_into_blocks() -> None:
    expected = [
        ('café "x".env', 1, "one\nh\ufffdte = 10.0.0.1\nthree", "1111"),
        ("app.env", 2, "\n++ added, not a header", "2222"),
        ("app.env", 9, "NINE", "2222"),
    ]
    for cut in range(len(LOG) + 1):
        for cut_again in (cut, (cut + 7) % (len(LOG) + 1)):
            first, second = sorted((cut, cut_again))
            blocks = [LOG[:first], LOG[first:second], LOG[second:]]
            chunks = list(parse_diff(blocks))
            assert [(x.path, x.first_line, x.text, x.commit) for x in chunks] == expected, cut


def test_directory_walk_skips_git_and_binary_files_and_reads_latin1(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text(TOKEN)
    (tmp_path / "image.png").write_bytes(b"\x89PNG\0\0" + TOKEN.encode())
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "latin1.conf").write_bytes(
        "# café\ntoken = ".encode("latin-1") + TOKEN.encode() + b"\n"
    )
    chunks = list(directory_chunks(tmp_path))
    assert {x.path for x in chunks} == {"sub/latin1.conf"}
    found = list(scan_chunks(compile_rules(DEFAULT_RULES), chunks))
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
    found = list(scan_chunks(compile_rules(DEFAULT_RULES), history_chunks(repo)))
    assert ("private-ipv4", "deploy dir/hôtes.ini", 2, added) in {
        (f.rule_id, f.path, f.line, f.commit) for f in found
    }


def test_history_reads_paths_git_has_to_quote(leaky_repo: tuple[Path, str]) -> None:
    repo, _ = leaky_repo
    (repo / 'say "hi"\\n.env').write_text("host = 10.20.30.40\n")
    (repo / "tab\there.env").write_text("host = 10.20.30.41\n")
    added = commit(repo, "awkward names")
    found = list(scan_chunks(compile_rules(DEFAULT_RULES), history_chunks(repo)))
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
        b"one\x0cstill one\r\ntwo \xe2\x80\xa8 still two\nhost 10.0.0.9\n"
    )
    [chunk] = list(directory_chunks(tmp_path))
    assert chunk.text == "one\x0cstill one\ntwo \u2028 still two\nhost 10.0.0.9"
    found = list(scan_chunks(compile_rules(DEFAULT_RULES), [chunk]))
    assert [(f.rule_id, f.line) for f in found] == [("private-ipv4", 3)]


def test_since_scans_only_the_commits_after_it(leaky_repo: tuple[Path, str]) -> None:
    repo, leaked = leaky_repo
    (repo / "later.env").write_text("host = 10.1.2.3\n")
    later = commit(repo, "later address")
    rules = compile_rules(DEFAULT_RULES)
    after_leak = {f.commit for f in scan_chunks(rules, history_chunks(repo, since=leaked))}
    assert after_leak == {later}
    before_leak = {f.commit for f in scan_chunks(rules, history_chunks(repo, since=f"{leaked}~1"))}
    assert before_leak == {leaked, later}


def test_since_an_unknown_commit_is_an_error_naming_it(leaky_repo: tuple[Path, str]) -> None:
    from steward.errors import InvalidInput

    repo, _ = leaky_repo
    with pytest.raises(InvalidInput, match="--since: 'nosuchref' is not a commit"):
        list(history_chunks(repo, since="nosuchref"))
    with pytest.raises(InvalidInput, match="is not a commit"):
        list(history_chunks(repo, since="--all"))


def test_ref_scans_only_the_commits_that_ref_reaches(leaky_repo: tuple[Path, str]) -> None:
    from steward.errors import InvalidInput

    repo, leaked = leaky_repo
    git(repo, "switch", "-q", "-c", "elsewhere")
    (repo / "elsewhere.env").write_text("host = 10.9.8.7\n")
    elsewhere = commit(repo, "an address on another branch")
    git(repo, "switch", "-q", "main")
    rules = compile_rules(DEFAULT_RULES)
    every_ref = {f.commit for f in scan_chunks(rules, history_chunks(repo))}
    assert elsewhere in every_ref
    from_main = {f.commit for f in scan_chunks(rules, history_chunks(repo, ref="HEAD"))}
    assert leaked in from_main
    assert elsewhere not in from_main
    with pytest.raises(InvalidInput, match="--ref: 'nosuchref' is not a commit"):
        list(history_chunks(repo, ref="nosuchref"))
