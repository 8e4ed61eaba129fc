"""The engine: where a finding is reported, what silences it, and that worker processes
change neither the findings nor their order."""

from __future__ import annotations

import multiprocessing
import random
from pathlib import Path

import pytest

from steward.errors import InvalidInput
from steward.scan import engine, workers
from steward.scan.engine import compile_rules, scan_chunks
from steward.scan.models import Candidate, Chunk, Finding, Rule
from steward.scan.run import scan
from steward.scan.secrets import github_checksum

TOKEN = "tok_a1b2c3d4"


def not_on_a_decoy_line(candidate: Candidate) -> bool:
    """Refuses matches whose line says `decoy` (module-level: workers unpickle it)."""
    return "decoy" not in candidate.line


RULES = compile_rules(
    [
        Rule(
            id="token",
            description="a test token",
            kind="secret",
            regex=r"\b(tok_[a-z0-9]{8})\b",
            secret_group=1,
            keywords=("tok_",),
            validator=not_on_a_decoy_line,
        ),
        Rule(
            id="quoted-secret",
            description="a quoted secret",
            kind="secret",
            regex=r'secret="([^"]+)"',
            secret_group=1,
            keywords=("secret",),
        ),
        Rule(
            id="line-start-pin",
            description="a PIN at the start of a line (no keywords: runs on every chunk)",
            kind="pii",
            regex=r"^PIN (\d{4})$",
            secret_group=1,
        ),
        Rule(
            id="block",
            description="a key block over several lines",
            kind="secret",
            regex=r"-----BEGIN KEY-----[\s\S]*?-----END KEY-----",
            keywords=("begin key",),
        ),
    ]
)


def where(found: list[Finding]) -> list[tuple[str, str, int, int]]:
    return [(f.rule_id, f.path, f.line, f.column) for f in found]


def test_line_and_column_at_the_start_and_end_of_a_chunk() -> None:
    text = f"{TOKEN} first\nmiddle\nlast {TOKEN}"
    found = list(scan_chunks(RULES, [Chunk("a.txt", text, first_line=10)]))
    assert where(found) == [("token", "a.txt", 10, 1), ("token", "a.txt", 12, 6)]


def test_crlf_lines_count_as_lines_and_the_validator_sees_the_line_without_cr() -> None:
    text = f"one\r\nkey: {TOKEN}\r\nthree decoy {TOKEN}\r\n"
    found = list(scan_chunks(RULES, [Chunk("w.ini", text)]))
    assert where(found) == [("token", "w.ini", 2, 6)]


def test_columns_count_characters_not_bytes() -> None:
    found = list(scan_chunks(RULES, [Chunk("u.txt", f"héllo wörld {TOKEN}")]))
    assert where(found) == [("token", "u.txt", 1, 13)]


def test_inline_allow_silences_only_the_line_it_is_on() -> None:
    text = f"a = '{TOKEN}'  # gitleaks:allow\nb = '{TOKEN}'\nc = '{TOKEN}'  # STEWARD:ALLOW"
    found = list(scan_chunks(RULES, [Chunk("s.py", text)]))
    assert where(found) == [("token", "s.py", 2, 6)]


def test_a_match_cannot_run_from_one_chunk_into_the_next() -> None:
    # Batched together, the buffer reads `secret="abc\ndef"`: neither file holds that.
    chunks = [Chunk("one.cfg", 'x\nsecret="abc'), Chunk("two.cfg", 'def"\nsecret="kept"')]
    found = list(scan_chunks(RULES, chunks))
    assert where(found) == [("quoted-secret", "two.cfg", 2, 9)]


def test_a_rule_runs_only_on_the_chunks_holding_its_keywords() -> None:
    keyed = compile_rules(
        [Rule(id="keyed", description="", kind="secret", regex=r"\d{6}", keywords=("alpha",))]
    )
    chunks = [Chunk("has-keyword.txt", "alpha"), Chunk("has-number.txt", "123456")]
    assert list(scan_chunks(keyed, chunks)) == []
    assert where(list(scan_chunks(keyed, [Chunk("both.txt", "alpha 123456")]))) == [
        ("keyed", "both.txt", 1, 7)
    ]


def test_anchors_match_at_every_line_of_a_chunk() -> None:
    text = "PIN 1234\nnot a PIN 5678\nPIN 9012"
    found = list(scan_chunks(RULES, [Chunk("pins.txt", text, first_line=3)]))
    assert where(found) == [
        ("line-start-pin", "pins.txt", 3, 5),
        ("line-start-pin", "pins.txt", 5, 5),
    ]


def test_a_match_over_several_lines_is_reported_where_it_starts() -> None:
    text = "config\n-----BEGIN KEY-----\nMIIB\n-----END KEY-----\n"
    found = list(scan_chunks(RULES, [Chunk("k.pem", text)]))
    assert where(found) == [("block", "k.pem", 2, 1)]


def test_findings_are_ordered_by_chunk_line_and_column() -> None:
    chunks = [
        Chunk("b.txt", f'secret="x1" {TOKEN}\nPIN 1111'),
        Chunk("a.txt", f'{TOKEN} secret="x2"'),
    ]
    found = list(scan_chunks(RULES, chunks))
    assert where(found) == [
        ("quoted-secret", "b.txt", 1, 9),
        ("token", "b.txt", 1, 13),
        ("line-start-pin", "b.txt", 2, 5),
        ("token", "a.txt", 1, 1),
        ("quoted-secret", "a.txt", 1, 22),
    ]


def test_a_rule_with_a_path_runs_only_on_the_files_it_names() -> None:
    dotenv = Rule(
        id="dotenv", description="", kind="secret", regex=r"=(\w+)", secret_group=1, path=r"\.env$"
    )
    chunks = [Chunk("app.py", "x=code"), Chunk("prod.env", "DB=hunter2"), Chunk("b.py", "y=z")]
    found = list(scan_chunks(compile_rules([dotenv]), chunks))
    assert where(found) == [("dotenv", "prod.env", 1, 4)]


def test_a_path_only_rule_adds_no_content_findings() -> None:
    path_only = Rule(id="env-file", description="", kind="secret", regex="", path=r"\.env$")
    found = list(
        scan_chunks(compile_rules([path_only, *[c.rule for c in RULES]]), [Chunk("a.env", TOKEN)])
    )
    assert where(found) == [("token", "a.env", 1, 1)]


def test_jobs_below_one_is_refused_by_name() -> None:
    with pytest.raises(InvalidInput, match="jobs"):
        list(scan_chunks(RULES, [Chunk("a", "b")], jobs=0))


def generated_tree(root: Path, *, files: int, seed: int = 15) -> int:
    """Files of filler code with tokens, quoted secrets, decoys and PINs placed at random;
    returns the characters written."""
    rng = random.Random(seed)
    filler = "def handler(event, context):\n    return {'status': 200, 'body': event}\n"
    written = 0
    for number in range(files):
        lines = []
        for _ in range(rng.randint(200, 900)):
            roll = rng.random()
            if roll < 0.01:
                secret = "".join(rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=8))
                lines.append(f"token = 'tok_{secret}'" + (" # decoy" if roll < 0.003 else ""))
            elif roll < 0.015:
                lines.append(f'secret="{rng.getrandbits(40):x}"')
            elif roll < 0.02:
                lines.append(f"PIN {rng.randint(1000, 9999)}")
            else:
                lines.append(filler.split("\n")[rng.randint(0, 1)])
        text = "\n".join(lines) + "\n"
        path = root / f"pkg{number % 7}" / f"module_{number}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, newline="\r\n" if number % 5 == 0 else "\n")
        written += len(text)
    return written


def test_worker_processes_find_the_same_findings_in_the_same_order(tmp_path: Path) -> None:
    written = generated_tree(tmp_path, files=300)
    assert written > engine.SERIAL_CHARS, "the tree must be big enough for the pool to run"
    rules = [compiled.rule for compiled in RULES]
    alone = scan(tmp_path, rules=rules, jobs=1)
    pooled = scan(tmp_path, rules=rules, jobs=2)
    assert len(alone) > 1000
    assert pooled == alone
    assert {f.rule_id for f in alone} == {"token", "quoted-secret", "line-start-pin"}
    keys = [(f.path, f.line, f.column) for f in alone]
    assert keys == sorted(keys)


def test_spawned_workers_compile_the_rules_themselves_and_agree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Where processes are spawned (macOS, Windows), nothing compiled can cross to a worker.
    generated_tree(tmp_path, files=300)
    rules = [compiled.rule for compiled in RULES]
    alone = scan(tmp_path, rules=rules, jobs=1)
    monkeypatch.setattr(workers, "pool_context", lambda: multiprocessing.get_context("spawn"))
    assert scan(tmp_path, rules=rules, jobs=2) == alone


def test_worker_processes_keep_history_findings_in_commit_order(
    leaky_repo: tuple[Path, str],
) -> None:
    repo, added_in = leaky_repo
    alone = scan(repo, history=True, jobs=1)
    assert [f.commit for f in alone] == [added_in]
    # The pool only starts for big inputs; a small one is scanned in this process.
    assert scan(repo, history=True, jobs=2) == alone


def test_a_github_token_checksum_is_still_verified_in_a_batch() -> None:
    body = "R4nd0mB0dyOfThirtyCharsXyZ0123"
    good, bad = "ghp_" + body + github_checksum(body), "ghp_" + body + "AAAAAA"
    from steward.scan.rules import DEFAULT_RULES

    chunks = [Chunk("one.env", f"T={bad}"), Chunk("two.env", f"T={good}")]
    found = list(scan_chunks(compile_rules(DEFAULT_RULES), chunks))
    assert [(f.rule_id, f.path) for f in found] == [("github-token", "two.env")]
