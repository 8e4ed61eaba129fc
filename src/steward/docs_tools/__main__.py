"""`python -m steward.docs_tools [--check] [--root DIR]`: regenerate the generated docs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import steward
from steward.docs_tools import configuration, diagram, modules

CONFIGURATION = Path("docs/configuration.md")
ARCHITECTURE = Path("docs/architecture.md")


def generated(root: Path) -> dict[Path, str]:
    """Every generated file under `root` (the repository) with the text it should hold."""
    if not (root / diagram.SOURCE).is_file() or not (root / "src" / "steward").is_dir():
        raise SystemExit(
            f"{root}: not a Steward checkout (no {diagram.SOURCE} or src/steward);"
            " run this from the repository's root, or pass --root"
        )
    imported = Path(steward.__file__).resolve().parent
    if imported != (root / "src" / "steward").resolve():
        raise SystemExit(
            f"the settings would be read from {imported}, not from {root}/src/steward;"
            f" run with PYTHONPATH={root.resolve()}/src"
        )
    source = (root / diagram.SOURCE).read_text(encoding="utf-8")
    _, bands = diagram.load_bands(source)
    package_root = root / "src" / "steward"
    order = diagram.packages(bands)
    missing = sorted(set(modules.units(package_root)) - set(order))
    unknown = sorted(set(order) - set(modules.units(package_root)))
    if missing or unknown:
        raise SystemExit(
            f"{diagram.SOURCE}: place every package of src/steward in a band"
            + (f"; missing: {', '.join(missing)}" if missing else "")
            + (f"; not in src/steward: {', '.join(unknown)}" if unknown else "")
        )
    architecture = (root / ARCHITECTURE).read_text(encoding="utf-8")
    head, found, rest = architecture.partition(modules.START)
    _, found_end, tail = rest.partition(modules.END)
    if not (found and found_end):
        raise SystemExit(f"{ARCHITECTURE}: the markers {modules.START} ... {modules.END} are gone")
    return {
        CONFIGURATION: configuration.render(),
        diagram.DRAWING: diagram.draw(source),
        ARCHITECTURE: head + modules.render(package_root, order) + tail,
    }


def main(argv: list[str] | None = None) -> int:
    """Write the generated docs, or with `--check` name those that are out of date."""
    parser = argparse.ArgumentParser(prog="python -m steward.docs_tools", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if a file is out of date")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the repository")
    args = parser.parse_args(argv)
    stale = []
    for path, text in generated(args.root).items():
        target = args.root / path
        current = target.read_text(encoding="utf-8") if target.is_file() else None
        if current == text:
            continue
        stale.append(path)
        if not args.check:
            target.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    if args.check and stale:
        names = ", ".join(str(p) for p in stale)
        print(f"out of date: {names}; run `python -m steward.docs_tools`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
