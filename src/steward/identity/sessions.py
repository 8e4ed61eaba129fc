"""Web sign-in sessions, kept in the store: the browser holds only a random id.

A session remembers the principal it signed in as (from an API token or an OIDC ID
token), a CSRF token for its forms, when it was last used and when it must end. It
ends after `web_session_idle_minutes` without a request, `web_session_max_hours` after
sign-in, on sign-out, or, for a token sign-in, as soon as the token is revoked.
Signing in and out are recorded in the audit log (`web.sign_in`, `web.sign_out`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from steward.audit.log import now, record
from steward.config import Settings
from steward.identity.models import Principal
from steward.store import Store
from steward.store.schema import api_tokens, web_sessions, web_sign_ins

# A request less than this long after the last one does not rewrite `last_seen_at`.
TOUCH_SECONDS = 30
# An OIDC sign-in must come back from the issuer within this long.
SIGN_IN_MINUTES = 10


def _digest(secret: str) -> str:
    # The id carries 256 random bits: a fast hash is enough, and a stolen table is no key.
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class WebSession:
    """One signed-in browser: who it acts as and the token its forms must carry."""

    principal: Principal
    csrf_token: str
    via: str
    expires_at: datetime

    def csrf_matches(self, presented: str | None) -> bool:
        """Whether a form or header carried this session's CSRF token (constant time)."""
        return bool(presented) and hmac.compare_digest(
            self.csrf_token.encode(), (presented or "").encode()
        )


def start(store: Store, principal: Principal, *, via: str, settings: Settings) -> str:
    """Open a session for `principal`; returns the id to put in the cookie (not stored)."""
    secret = secrets.token_urlsafe(32)
    when = now()
    with store.write() as conn:
        conn.execute(
            web_sessions.insert().values(
                session_hash=_digest(secret),
                csrf_token=secrets.token_urlsafe(32),
                via=via,
                user_name=principal.user,
                groups=sorted(principal.groups),
                is_admin=principal.is_admin,
                token_id=principal.token_id,
                scopes=sorted(principal.scopes),
                attributes=dict(principal.attributes),
                created_at=when,
                last_seen_at=when,
                expires_at=when + timedelta(hours=settings.web_session_max_hours),
            )
        )
        record(conn, actor=principal, action="web.sign_in", details={"via": via})
        # Sessions over for a day are of no use to anyone: drop them as new ones start.
        conn.execute(web_sessions.delete().where(web_sessions.c.expires_at < when - timedelta(1)))
    return secret


def load(store: Store, secret: str | None, *, settings: Settings) -> WebSession | None:
    """The live session a cookie names, or None (unknown, ended, idle too long, expired)."""
    if not secret or len(secret) > 200:
        return None
    when = now()
    idle = timedelta(minutes=settings.web_session_idle_minutes)
    s = web_sessions.c
    with store.read() as conn:
        row = conn.execute(
            sa.select(web_sessions, api_tokens.c.revoked_at)
            .outerjoin(api_tokens, api_tokens.c.token_id == s.token_id)
            .where(s.session_hash == _digest(secret))
        ).first()
    if row is None or row.ended_at is not None or row.expires_at <= when:
        return None
    if row.last_seen_at + idle <= when or row.revoked_at is not None:
        return None
    if (when - row.last_seen_at).total_seconds() >= TOUCH_SECONDS:
        with store.write() as conn:
            conn.execute(web_sessions.update().where(s.id == row.id).values(last_seen_at=when))
    principal = Principal(
        user=row.user_name,
        groups=frozenset(row.groups),
        is_admin=bool(row.is_admin),
        token_id=row.token_id,
        scopes=frozenset(row.scopes),
        attributes=tuple(sorted(dict(row.attributes).items())),
    )
    return WebSession(principal, row.csrf_token, row.via, row.expires_at)


def end(store: Store, secret: str | None, *, actor: Principal | None = None) -> None:
    """End the session a cookie names, on the server: the id is worthless from now on.

    `actor` given (a sign-out), the audit log records it as `web.sign_out`.
    """
    if not secret:
        return
    s = web_sessions.c
    with store.write() as conn:
        ended = conn.execute(
            web_sessions.update()
            .where(s.session_hash == _digest(secret), s.ended_at.is_(None))
            .values(ended_at=now())
        ).rowcount
        if ended and actor is not None:
            record(conn, actor=actor, action="web.sign_out")


@dataclass(frozen=True)
class SignIn:
    """An OIDC sign-in under way: what the callback checks the issuer's answer against."""

    state: str
    nonce: str
    code_verifier: str
    next_path: str


def begin_sign_in(store: Store, next_path: str) -> SignIn:
    """Remember a new OIDC sign-in: a random state, nonce and PKCE code verifier."""
    sign_in = SignIn(
        state=secrets.token_urlsafe(32),
        nonce=secrets.token_urlsafe(32),
        code_verifier=secrets.token_urlsafe(64),
        next_path=next_path,
    )
    when = now()
    with store.write() as conn:
        conn.execute(
            web_sign_ins.delete().where(
                web_sign_ins.c.created_at < when - timedelta(minutes=SIGN_IN_MINUTES)
            )
        )
        conn.execute(
            web_sign_ins.insert().values(
                state_hash=_digest(sign_in.state),
                nonce=sign_in.nonce,
                code_verifier=sign_in.code_verifier,
                next_path=next_path,
                created_at=when,
            )
        )
    return sign_in


def finish_sign_in(store: Store, state: str) -> SignIn | None:
    """The sign-in `state` names, removed so it cannot be used twice; None if unknown or old."""
    if not state or len(state) > 200:
        return None
    with store.write() as conn:
        row = conn.execute(
            sa.select(web_sign_ins).where(web_sign_ins.c.state_hash == _digest(state))
        ).first()
        if row is None:
            return None
        conn.execute(web_sign_ins.delete().where(web_sign_ins.c.state_hash == row.state_hash))
    if row.created_at < now() - timedelta(minutes=SIGN_IN_MINUTES):
        return None
    return SignIn(state, row.nonce, row.code_verifier, row.next_path)
