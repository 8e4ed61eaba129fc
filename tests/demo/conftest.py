"""One demo home per session: building it takes seconds, and the tests only read it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from steward.app import Steward
from steward.config import Settings
from steward.demo.build import Demo, build_demo
from steward.demo.home import open_demo_home


@dataclass(frozen=True)
class BuiltDemo:
    """A demo built under `user_home/.steward`, the default home of a user whose HOME is
    `user_home`."""

    user_home: Path
    home: Path
    demo: Demo


def build_in(home: Path) -> Demo:
    """Build the demo in `home`, marked first as `steward demo` does."""
    open_demo_home(home)
    steward = Steward(Settings(home=home))
    try:
        return build_demo(steward)
    finally:
        steward.close()


@pytest.fixture(scope="session")
def built_demo(tmp_path_factory: pytest.TempPathFactory) -> BuiltDemo:
    user_home = tmp_path_factory.mktemp("user")
    home = user_home / ".steward"
    return BuiltDemo(user_home, home, build_in(home))


@pytest.fixture
def demo_steward(built_demo: BuiltDemo) -> Iterator[Steward]:
    steward = Steward(Settings(home=built_demo.home))
    yield steward
    steward.close()
