"""Ids Steward has already stored, remembered per database for the life of the process.

Namespaces, datasets, jobs, schema versions and job versions are never deleted nor
renumbered, so once their row is committed its id can be reused without asking the
database again. What a transaction learns is kept apart and only remembered once it
commits: a rolled-back id must not be reused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy.engine import Engine


@dataclass
class Known:
    """Committed ids by natural key, one map per kind of row."""

    maps: dict[str, dict[Any, int]] = field(default_factory=dict)

    def get(self, kind: str, key: Any) -> int | None:
        return self.maps.get(kind, {}).get(key)

    def put(self, kind: str, key: Any, value: int) -> None:
        self.maps.setdefault(kind, {})[key] = value

    def absorb(self, other: Known) -> None:
        """Remember everything `other` learned (call after its transaction committed)."""
        for kind, values in other.maps.items():
            self.maps.setdefault(kind, {}).update(values)


_BY_ENGINE: WeakKeyDictionary[Engine, Known] = WeakKeyDictionary()


def known_for(engine: Engine) -> Known:
    """The committed ids remembered for the database behind `engine`."""
    if engine not in _BY_ENGINE:
        _BY_ENGINE[engine] = Known()
    return _BY_ENGINE[engine]
