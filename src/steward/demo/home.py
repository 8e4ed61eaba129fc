"""The demo's home: a `STEWARD_HOME` marked as a demo's, which `--reset` may wipe.

The mark is `demo.json` in the home, written before anything else, so a half-built demo
home is still recognised. It also keeps what a second run prints again: the personas'
tokens (the store holds only their hashes) and which steps are done.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from steward.errors import InvalidInput

MARK = "demo.json"
FORMAT = 1


@dataclass
class DemoHome:
    """A demo home's mark: the steps done and the tokens made, saved as they change."""

    path: Path
    steps: list[str] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)

    def done(self, step: str) -> bool:
        """Whether `step` completed in an earlier run."""
        return step in self.steps

    def finish(self, step: str, **facts: Any) -> None:
        """Record `step` as done, with what a later run reports of it."""
        if step not in self.steps:
            self.steps.append(step)
        self.facts.update(facts)
        self.save()

    def save(self) -> None:
        """Write the mark (owner-only: it holds tokens)."""
        from steward.store.private import make_private_dir

        make_private_dir(self.path)
        mark = self.path / MARK
        mark.touch(mode=0o600, exist_ok=True)
        mark.write_text(
            json.dumps(
                {
                    "steward_demo": FORMAT,
                    "steps": self.steps,
                    "tokens": self.tokens,
                    "facts": self.facts,
                },
                indent=2,
            ),
            encoding="utf-8",
        )


def is_demo_home(path: Path) -> bool:
    """Whether `path` carries the demo's mark."""
    return (path / MARK).is_file()


def _is_empty(path: Path) -> bool:
    return not path.exists() or (path.is_dir() and not any(path.iterdir()))


def open_demo_home(path: Path) -> DemoHome:
    """The demo home at `path`, marked now if it is new; a home that holds anything else
    is refused, so the demo never mixes its data into a real installation."""
    if is_demo_home(path):
        try:
            saved = json.loads((path / MARK).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InvalidInput(f"{path / MARK}: not a readable demo mark ({exc})") from None
        return DemoHome(
            path,
            steps=list(saved.get("steps", [])),
            tokens=dict(saved.get("tokens", {})),
            facts=dict(saved.get("facts", {})),
        )
    if not _is_empty(path):
        raise InvalidInput(
            f"STEWARD_HOME: {path} already holds a Steward installation that is not a demo;"
            " run the demo in its own home, e.g. STEWARD_HOME=~/steward-demo steward demo"
        )
    home = DemoHome(path)
    home.save()
    return home


def wipe_demo_home(path: Path) -> None:
    """Delete the demo home at `path`; refused when `path` is not a demo's."""
    if _is_empty(path):
        return
    if not is_demo_home(path):
        raise InvalidInput(
            f"--reset: {path} is not a demo home (it has no {MARK}); refusing to delete it"
        )
    shutil.rmtree(path)
