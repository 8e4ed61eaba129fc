"""API tokens: created with a random secret, stored only as its SHA-256."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from datetime import UTC, datetime

import sqlalchemy as sa

from steward.audit.log import record
from steward.errors import InvalidInput, NotFound, Unauthenticated
from steward.identity.models import SCOPES, IssuedToken, Principal, TokenInfo
from steward.store import Store
from steward.store.schema import api_tokens

TOKEN_PREFIX = "stw_"  # noqa: S105 - a prefix that marks secrets, not a secret
_NAME = re.compile(r"^[\w.@+-][\w.@+ -]{0,199}$")
# Attribute names are what row filters pass to `current_attribute('name')`.
_ATTRIBUTE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")
_ATTRIBUTE_VALUE_CHARS = 200


def _digest(secret: str) -> str:
    # The secret carries 256 random bits, so a fast hash is enough: no dictionary to attack.
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def create_token(
    store: Store,
    *,
    user: str,
    groups: list[str] | tuple[str, ...] = (),
    is_admin: bool = False,
    description: str | None = None,
    actor: Principal | None = None,
    scopes: list[str] | tuple[str, ...] = (),
    attributes: list[tuple[str, str]] | tuple[tuple[str, str], ...] = (),
) -> IssuedToken:
    """Create a token for `user`; the returned secret is the only copy there will be.

    Args:
        scopes: what the token may do beyond reading, each one of `SCOPES`.
        attributes: (name, value) pairs row filters read with `current_attribute('name')`.

    The audit log records who (`actor`; None: the local administrator) made it.
    """
    if not _NAME.match(user):
        raise InvalidInput(f"user: {user!r} is not a valid user name")
    for group in groups:
        if not _NAME.match(group):
            raise InvalidInput(f"groups: {group!r} is not a valid group name")
    granted = _check_scopes(scopes)
    named = _check_attributes(attributes)
    token_id = secrets.token_hex(6)
    secret = f"{TOKEN_PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
    with store.write() as conn:
        conn.execute(
            api_tokens.insert().values(
                token_id=token_id,
                token_hash=_digest(secret),
                user_name=user,
                groups=sorted(set(groups)),
                is_admin=is_admin,
                description=description,
                created_at=_now(),
                scopes=list(granted),
                attributes=dict(named),
            )
        )
        record(
            conn,
            actor=actor,
            action="token.create",
            details={
                "token_id": token_id,
                "user": user,
                "groups": sorted(set(groups)),
                "admin": is_admin,
                "description": description,
                "scopes": list(granted),
                "attributes": dict(named),
            },
        )
    principal = Principal(
        user, frozenset(groups), is_admin, token_id, scopes=frozenset(granted), attributes=named
    )
    return IssuedToken(secret=secret, token_id=token_id, principal=principal)


def _check_scopes(scopes: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The scopes sorted and without repeats, or `InvalidInput` naming the first unknown one."""
    for scope in scopes:
        if scope not in SCOPES:
            raise InvalidInput(
                f"scope: {scope!r} is not a known scope; known: {', '.join(sorted(SCOPES))}"
            )
    return tuple(sorted(set(scopes)))


def _check_attributes(
    attributes: list[tuple[str, str]] | tuple[tuple[str, str], ...],
) -> tuple[tuple[str, str], ...]:
    """The attributes sorted by name, or `InvalidInput` naming the bad or repeated one."""
    seen: dict[str, str] = {}
    for name, value in attributes:
        if not _ATTRIBUTE.match(name):
            raise InvalidInput(
                f"attribute: {name!r} is not a valid attribute name (letters, digits, _ . -)"
            )
        if name in seen:
            raise InvalidInput(f"attribute: {name!r} is given more than once")
        if not value or len(value) > _ATTRIBUTE_VALUE_CHARS or not value.isprintable():
            raise InvalidInput(
                f"attribute: the value of {name!r} must be 1 to {_ATTRIBUTE_VALUE_CHARS}"
                " printable characters"
            )
        seen[name] = value
    return tuple(sorted(seen.items()))


def parse_attribute(text: str) -> tuple[str, str]:
    """`region=EU` as (`region`, `EU`), or `InvalidInput` naming it."""
    name, sign, value = text.partition("=")
    if not sign:
        raise InvalidInput(f"attribute: {text!r} is not NAME=VALUE, e.g. region=EU")
    return name.strip(), value.strip()


# A valid token is remembered for a moment, so a client sending event after event is not
# looked up each time. Revoking in this process forgets it at once; a revocation made by
# another process (the CLI) takes effect within REMEMBER_SECONDS.
REMEMBER_SECONDS = 2.0
_remembered: dict[str, tuple[float, Principal]] = {}


def remembered(store: Store, secret: str) -> Principal | None:
    """The principal for a token checked in the last moment, without touching the store."""
    hit = _remembered.get(f"{store.engine.url}:{_digest(secret)}")
    if hit is not None and time.monotonic() - hit[0] < REMEMBER_SECONDS:
        return hit[1]
    return None


def authenticate(store: Store, secret: str) -> Principal:
    """The principal a bearer token stands for, or `Unauthenticated`."""
    known = remembered(store, secret)
    if known is not None:
        return known
    digest = _digest(secret)
    key = f"{store.engine.url}:{digest}"
    principal = _look_up(store, digest)
    if len(_remembered) > 10_000:
        _remembered.clear()
    _remembered[key] = (time.monotonic(), principal)
    return principal


def _look_up(store: Store, digest: str) -> Principal:
    with store.read() as conn:
        row = conn.execute(
            sa.select(api_tokens).where(api_tokens.c.token_hash == digest)
        ).one_or_none()
    # The lookup is by digest, so timing reveals nothing of the secret; compare anyway.
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        raise Unauthenticated("invalid token")
    if row.revoked_at is not None:
        raise Unauthenticated("token revoked")
    return Principal(
        row.user_name,
        frozenset(row.groups),
        bool(row.is_admin),
        row.token_id,
        scopes=frozenset(row.scopes or ()),
        attributes=tuple(sorted((row.attributes or {}).items())),
    )


def first_admin_token(store: Store) -> IssuedToken | None:
    """On a first start (no admin token was ever made), make one; else None.

    A token made beforehand for a user does not count; a revoked admin token does.
    """
    if has_admin_token(store):
        return None
    return create_token(store, user="admin", is_admin=True, description="created on first start")


def has_admin_token(store: Store) -> bool:
    """True once an admin token has been created, even if it was revoked since."""
    with store.read() as conn:
        query = sa.select(api_tokens.c.id).where(api_tokens.c.is_admin.is_(True)).limit(1)
        return conn.execute(query).first() is not None


def revoke_token(store: Store, token_id: str, *, actor: Principal | None = None) -> None:
    """Revoke a token by its id; its secret stops working at once (and is audited)."""
    with store.write() as conn:
        result = conn.execute(
            api_tokens.update()
            .where(api_tokens.c.token_id == token_id, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=_now())
        )
        if result.rowcount == 0:
            raise NotFound(f"token {token_id!r}: no such active token")
        record(conn, actor=actor, action="token.revoke", details={"token_id": token_id})
    _remembered.clear()


def claimed_token_id(secret: str) -> str | None:
    """The token id a presented secret claims (`stw_<id>_...`), for the audit of a failure."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token_id = secret[len(TOKEN_PREFIX) :].split("_", 1)[0]
    return token_id if re.fullmatch(r"[0-9a-f]{12}", token_id) else None


def list_tokens(store: Store) -> list[TokenInfo]:
    """Every token's id, user, groups, scopes, attributes and state; never its secret."""
    with store.read() as conn:
        rows = conn.execute(sa.select(api_tokens).order_by(api_tokens.c.id)).all()
    return [
        TokenInfo(
            token_id=r.token_id,
            user=r.user_name,
            groups=tuple(r.groups),
            is_admin=bool(r.is_admin),
            scopes=tuple(r.scopes or ()),
            attributes=tuple(sorted((r.attributes or {}).items())),
            description=r.description,
            created_at=r.created_at.isoformat() + "Z",
            revoked=r.revoked_at is not None,
        )
        for r in rows
    ]
