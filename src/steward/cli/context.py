"""The local installation the CLI administers (`STEWARD_HOME` or `STEWARD_DATABASE_URL`)."""

from __future__ import annotations

from steward.app import Steward


def steward_from_env() -> Steward:
    """A `Steward` from the environment's settings."""
    return Steward()
