"""The local installation the CLI administers (`STEWARD_HOME` or `STEWARD_DATABASE_URL`).

Every command that opens the store says which one on stderr (stdout stays the command's
output), and only the commands that set an installation up may create a new, empty one:
a mistyped `STEWARD_HOME` must not silently give an empty catalog.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from rich.console import Console

from steward.errors import ConfigError, NotFound

if TYPE_CHECKING:
    from steward.app import Steward
    from steward.config import Settings

# The commands that may create a store where there is none (`may_create=True`).
CREATORS = "`steward serve`, `steward db upgrade`, `steward demo` or `steward token create`"


def steward_from_env(*, may_create: bool = False) -> Steward:
    """A `Steward` on the environment's store, named on stderr.

    Args:
        may_create: the command sets an installation up, so it may make a new store
            (said on stderr); otherwise a missing or empty store is a `NotFound`
            naming where Steward looked.
    """
    # Imported here: the store pulls in SQLAlchemy, which `steward --help` does not need.
    from steward.app import Steward
    from steward.config import load_settings
    from steward.store.database import describe_url, sqlite_file

    settings = load_settings()
    url = settings.sqlalchemy_url
    where = describe_url(url)
    file = sqlite_file(url)
    if file is not None and not file.exists() and not may_create:
        raise NotFound(_missing(where, settings))
    from sqlalchemy.exc import SQLAlchemyError

    steward = Steward(settings)
    try:
        empty = steward.store.current_revision() is None
    except SQLAlchemyError as exc:
        steward.close()
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise ConfigError(f"cannot open the store at {where}: {reason}") from None
    if empty and not may_create:
        steward.close()
        raise NotFound(_missing(where, settings))
    note = " (new: none was there, creating it)" if empty else ""
    sys.stderr.write(f"store: {where}{note}\n")
    sys.stderr.flush()
    return steward


def _missing(where: str, settings: Settings) -> str:
    if settings.is_embedded:
        looked = f"STEWARD_HOME is {settings.home}"
    else:
        looked = "STEWARD_DATABASE_URL names it"
    return (
        f"no Steward store at {where} ({looked}): point STEWARD_HOME or"
        f" STEWARD_DATABASE_URL at your installation, or create one with {CREATORS}"
    )


def out() -> Console:
    """Standard output, as wide as the terminal (or `COLUMNS`) is when the command runs:
    a console made at import would keep the width it found then."""
    return Console()
