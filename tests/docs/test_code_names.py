"""Code that docs name by its dotted path exists: `policy.rewrite.govern`, `store.locks...`.

Checked on the docs that describe the code's structure, where a rename would otherwise
leave them pointing at nothing. A name of three parts or more whose first part is a
package of Steward is checked; so is a two-part name that is a module (`store.locks`).
Two-part names that are not modules (`policy.apply`, an audit action) are words, not code.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from pathlib import Path

import pytest

import steward

ROOT = Path(__file__).resolve().parents[2]
DOCS = ["docs/architecture.md", "docs/query.md", "CONTRIBUTING.md"]
# From the folder: some packages (`catalog`) have no __init__.py, which pkgutil skips.
PACKAGES = {
    p.stem
    for p in Path(steward.__file__).parent.iterdir()
    if (p.suffix == ".py" or p.is_dir()) and not p.name.startswith("_")
}
_DOTTED = re.compile(r"`([a-z_]+(?:\.[A-Za-z_]\w*)+)`")


def resolves(dotted: str) -> bool:
    """True when `dotted` (without the `steward.` prefix) is a module or an attribute of one."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module("steward." + ".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for name in parts[cut:]:
            if not hasattr(found, name):
                return False
            found = getattr(found, name)
        return True
    return False


def is_code(dotted: str) -> bool:
    """Whether a dotted name in a doc means Steward's code (see the module docstring)."""
    parts = dotted.split(".")
    if parts[0] not in PACKAGES:
        return False
    if len(parts) >= 3:
        return True
    try:
        return importlib.util.find_spec(f"steward.{dotted}") is not None
    except ModuleNotFoundError:  # `config.Settings`: a module has no submodules
        return False


def names_in(doc: str) -> list[str]:
    text = (ROOT / doc).read_text(encoding="utf-8")
    return sorted({m for m in _DOTTED.findall(text) if is_code(m)})


@pytest.mark.parametrize("doc", DOCS)
def test_named_code_exists(doc: str) -> None:
    names = names_in(doc)
    assert names, f"{doc} names no code"
    missing = [n for n in names if not resolves(n)]
    assert not missing, f"{doc} names code that does not exist: {missing}"


def test_a_renamed_function_is_caught() -> None:
    assert resolves("policy.rewrite.govern")
    assert not resolves("policy.rewrite.governs")
    assert not resolves("policy.rewrites.govern")
