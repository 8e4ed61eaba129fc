"""The module map and the import table of `docs/architecture.md`, read from `src/steward`.

Each module's line is the first line of its docstring; the import table is what each
package's modules import of the others (imports under `if TYPE_CHECKING:` are marked as
types only; imports inside functions count, since they run). Packages are listed in the
order of `docs/architecture/layers.yaml`.

Files are read line by line, not parsed: the whole tree is read on every check, and a
full parse of every module takes seconds. Steward's imports are one per statement and
start their line, which `ruff`'s isort rules keep so.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections import defaultdict
from pathlib import Path

START = "<!-- modules:start -->"
END = "<!-- modules:end -->"
_IMPORT = re.compile(r"^(\s*)(?:from\s+steward\.(\w+)|import\s+steward\.(\w+))")
_GUARD = re.compile(r"^(\s*)if\s+(?:typing\.)?TYPE_CHECKING\s*:")


def unit_of(path: Path, package_root: Path) -> str:
    """The package (or top-level module) a source file belongs to: `policy`, `config`."""
    return path.relative_to(package_root).with_suffix("").parts[0]


def units(package_root: Path) -> list[str]:
    """Every package and top-level module of `src/steward`, sorted."""
    return sorted(
        {
            unit_of(path, package_root)
            for path in package_root.rglob("*.py")
            if path.relative_to(package_root).parts[0] != "__init__.py"
        }
    )


def _sources(package_root: Path) -> dict[Path, str]:
    return {
        path: path.read_text(encoding="utf-8")
        for path in sorted(package_root.rglob("*.py"))
        if "migrations" not in path.relative_to(package_root).parts
    }


def render(package_root: Path, order: list[str]) -> str:
    """The generated block (between the markers) for `docs/architecture.md`."""
    sources = _sources(package_root)
    lines = [START, "", "### Modules", ""]
    for unit in order:
        init = package_root / unit / "__init__.py"
        head = init if init.is_file() else package_root / f"{unit}.py"
        summary = first_line(sources[head]) if head in sources else ""
        lines.append(f"- **`{unit}`**" + (f": {summary}" if summary else ""))
        folder = package_root / unit
        for path in sources:
            if not path.is_relative_to(folder) or path.name in ("__init__.py", "__main__.py"):
                continue
            name = path.relative_to(folder).with_suffix("").as_posix().replace("/", ".")
            lines.append(f"  - `{name}`: {first_line(sources[path])}")
    lines.extend(["", "### Who imports whom", ""])
    lines.append("| package | imports (at run time) | imports for types only |")
    lines.append("|---|---|---|")
    runtime, typing_only = imports(package_root, sources)
    for unit in order:
        used = sorted(runtime[unit], key=order.index)
        types = sorted(typing_only[unit] - runtime[unit], key=order.index)
        lines.append(f"| `{unit}` | {_names(used)} | {_names(types)} |")
    lines.extend(["", END])
    return "\n".join(lines)


def imports(
    package_root: Path, sources: dict[Path, str]
) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """For each package, the other packages it imports at run time, and for types only."""
    runtime: dict[str, set[str]] = defaultdict(set)
    typing_only: dict[str, set[str]] = defaultdict(set)
    for path, text in sources.items():
        unit = unit_of(path, package_root)
        guard: int | None = None  # the indentation of an open `if TYPE_CHECKING:`
        for line in text.splitlines():
            indent = len(line) - len(line.lstrip())
            if guard is not None and line.strip() and indent <= guard:
                guard = None
            if found := _GUARD.match(line):
                guard = len(found.group(1))
                continue
            found = _IMPORT.match(line)
            target = found and (found.group(2) or found.group(3))
            if target and target != unit:
                (typing_only if guard is not None else runtime)[unit].add(target)
    return runtime, typing_only


def first_line(source: str) -> str:
    """The first line of a module's docstring (its first token, when a string)."""
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.ENCODING):
            continue
        if token.type != tokenize.STRING:
            return ""
        text = str(ast.literal_eval(token.string)).strip()
        return text.splitlines()[0] if text else ""
    return ""


def _names(items: list[str]) -> str:
    return ", ".join(f"`{i}`" for i in items) if items else "none"
