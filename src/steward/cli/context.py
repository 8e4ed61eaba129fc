"""The local installation the CLI administers (`STEWARD_HOME` or `STEWARD_DATABASE_URL`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from steward.app import Steward


def steward_from_env() -> Steward:
    """A `Steward` from the environment's settings."""
    # Imported here: the store pulls in SQLAlchemy, which `steward --help` does not need.
    from steward.app import Steward

    return Steward()
