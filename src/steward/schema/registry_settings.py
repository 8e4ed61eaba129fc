"""The registry's compatibility levels and modes, per subject and global; its write helpers.

The global setting is stored under the subject `""`. A subject without its own level or
mode follows the global one (BACKWARD and READWRITE until set).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.audit.log import record
from steward.errors import RegistryError, StoreBusy
from steward.identity.models import Principal
from steward.schema.registry_models import DEFAULT_LEVEL, DEFAULT_MODE, Level, Mode
from steward.store import Store
from steward.store.schema import registry_settings

GLOBAL = ""
_RETRIES = 10
T = TypeVar("T")


def retrying(store: Store, write: Callable[[Connection], T]) -> T:
    """Run `write` in one transaction, again if a concurrent writer won a unique key."""
    for attempt in range(_RETRIES):
        try:
            with store.write() as conn:
                return write(conn)
        except StoreBusy:
            if attempt == _RETRIES - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def audit(conn: Connection, actor: Principal | None, action: str, **details: object) -> None:
    """One audit record for a registry change, last in its transaction (see `audit.log`)."""
    record(conn, actor=actor, action=f"schema_registry.{action}", details=details)


# Levels and modes


def _setting(conn: Connection, subject: str, column: str) -> str | None:
    value = conn.execute(
        sa.select(registry_settings.c[column]).where(registry_settings.c.subject == subject)
    ).scalar()
    return None if value is None else str(value)


def level(store: Store, subject: str | None = None, *, default_to_global: bool = True) -> Level:
    """The compatibility level of `subject` (else the global one), or 40408 if unset."""
    with store.read() as conn:
        return level_of(conn, subject, default_to_global=default_to_global)


def level_of(conn: Connection, subject: str | None, *, default_to_global: bool = True) -> Level:
    if subject:
        own = _setting(conn, subject, "compatibility")
        if own is not None:
            return Level(own)
        if not default_to_global:
            raise RegistryError(
                RegistryError.SUBJECT_COMPATIBILITY_NOT_CONFIGURED,
                f"Subject '{subject}' does not have subject-level compatibility configured",
            )
    value = _setting(conn, GLOBAL, "compatibility")
    return DEFAULT_LEVEL if value is None else Level(value)


def parse_level(text: str) -> Level:
    """The level named `text` (any case), or 42203."""
    try:
        return Level(text.upper())
    except ValueError:
        raise RegistryError(
            RegistryError.INVALID_COMPATIBILITY_LEVEL,
            f"Invalid compatibility level. Valid values are {', '.join(Level)}",
        ) from None


def parse_mode(text: str) -> Mode:
    """The mode named `text` (any case), or 42204."""
    try:
        return Mode(text.upper())
    except ValueError:
        raise RegistryError(
            RegistryError.INVALID_MODE, f"Invalid mode. Valid values are {', '.join(Mode)}"
        ) from None


def put_setting(conn: Connection, subject: str, column: str, value: str | None) -> None:
    exists = conn.execute(
        sa.select(registry_settings.c.subject).where(registry_settings.c.subject == subject)
    ).first()
    if exists is None:
        conn.execute(sa.insert(registry_settings).values(subject=subject, **{column: value}))
    else:
        conn.execute(
            sa.update(registry_settings)
            .where(registry_settings.c.subject == subject)
            .values(**{column: value})
        )


def set_level(
    store: Store, value: Level, subject: str | None = None, *, actor: Principal | None = None
) -> Level:
    """Set the compatibility level of `subject`, or the global one."""

    def write(conn: Connection) -> None:
        put_setting(conn, subject or GLOBAL, "compatibility", value)
        audit(conn, actor, "config", subject=subject, compatibility=value.value)

    retrying(store, write)
    return value


def delete_level(
    store: Store, subject: str | None = None, *, actor: Principal | None = None
) -> Level:
    """Forget the level of `subject` (or the global one); returns the level it had."""

    def write(conn: Connection) -> Level:
        before = level_of(conn, subject)
        put_setting(conn, subject or GLOBAL, "compatibility", None)
        audit(conn, actor, "config.delete", subject=subject, compatibility=before.value)
        return before

    return retrying(store, write)


def mode(store: Store, subject: str | None = None, *, default_to_global: bool = True) -> Mode:
    """The mode of `subject` (else the global one), or 40409 if unset and not defaulted."""
    with store.read() as conn:
        return mode_of(conn, subject, default_to_global=default_to_global)


def mode_of(conn: Connection, subject: str | None, *, default_to_global: bool = True) -> Mode:
    if subject:
        own = _setting(conn, subject, "mode")
        if own is not None:
            return Mode(own)
        if not default_to_global:
            raise RegistryError(
                RegistryError.SUBJECT_MODE_NOT_CONFIGURED,
                f"Subject '{subject}' does not have subject-level mode configured",
            )
    value = _setting(conn, GLOBAL, "mode")
    return DEFAULT_MODE if value is None else Mode(value)


def set_mode(
    store: Store, value: Mode, subject: str | None = None, *, actor: Principal | None = None
) -> Mode:
    """Set the mode of `subject`, or the global one."""

    def write(conn: Connection) -> None:
        put_setting(conn, subject or GLOBAL, "mode", value)
        audit(conn, actor, "mode", subject=subject, mode=value.value)

    retrying(store, write)
    return value


def delete_mode(store: Store, subject: str, *, actor: Principal | None = None) -> Mode:
    """Forget the mode of `subject`; returns the mode it had."""

    def write(conn: Connection) -> Mode:
        before = mode_of(conn, subject)
        put_setting(conn, subject, "mode", None)
        audit(conn, actor, "mode.delete", subject=subject, mode=before.value)
        return before

    return retrying(store, write)


def refuse_read_only(conn: Connection, subject: str) -> Mode:
    current = mode_of(conn, subject)
    if current is Mode.READONLY:
        raise RegistryError(
            RegistryError.OPERATION_NOT_PERMITTED, f"Subject {subject} is in read-only mode"
        )
    return current
