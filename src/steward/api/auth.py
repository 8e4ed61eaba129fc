"""Bearer-token authentication: every route but /health depends on `principal`; routes
that change more than reading also depend on `require_scope(...)`."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from steward.app import Steward
from steward.audit.refusals import Refusal, RefusedTokens, write
from steward.errors import Forbidden, Unauthenticated
from steward.identity.models import Principal
from steward.identity.oidc import looks_like_jwt, token_hints, verifier_for
from steward.identity.tokens import authenticate, claimed_token_id, remembered


def steward_of(request: Request) -> Steward:
    """The `Steward` this app serves."""
    steward: Steward = request.app.state.steward
    return steward


def refusals_of(request: Request) -> RefusedTokens:
    """The app's count of refused tokens (see `steward.audit.refusals`)."""
    refusals: RefusedTokens = request.app.state.refusals
    return refusals


async def principal(request: Request) -> Principal:
    """The caller, proven by `Authorization: Bearer <token>`, or 401.

    HTTP Basic with the token as the password (`Basic base64(anything:token)`) is taken
    too: it is what Kafka schema registry clients send (`basic.auth.user.info`).
    """
    header = request.headers.get("authorization")
    if not header:
        # A web UI session cookie (its CSRF token required on changes), see docs/web.md.
        from steward.web.auth import api_principal

        session_caller = await api_principal(request)
        if session_caller is not None:
            request.state.principal = session_caller
            return session_caller
    bearer = _presented_token(header)
    steward = steward_of(request)
    if looks_like_jwt(bearer):
        caller = await _jwt_principal(request, steward, bearer)
    else:
        caller = await _token_principal(request, steward, bearer)
    request.state.principal = caller
    return caller


def _presented_token(header: str | None) -> str:
    """The token in an Authorization header, Bearer or Basic; 401 if there is none."""
    if not header:
        raise Unauthenticated("missing Authorization: Bearer <token> header")
    scheme, _, secret = header.partition(" ")
    secret = secret.strip()
    if scheme.lower() == "basic" and secret:
        try:
            decoded = base64.b64decode(secret, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise Unauthenticated("Authorization: Basic credentials are not base64") from None
        _, colon, password = decoded.partition(":")
        if colon and password:
            return password
        raise Unauthenticated("Authorization: Basic needs the token as the password (user:token)")
    if scheme.lower() != "bearer" or not secret:
        raise Unauthenticated("Authorization header must be 'Bearer <token>'")
    return secret


def require_scope(scope: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that lets the request through only if the caller holds `scope` (else 403).

    Use it on a route as `dependencies=[Depends(require_scope(LINEAGE_WRITE))]`.
    """

    async def holds_scope(caller: Principal = Depends(principal)) -> Principal:
        if not caller.may(scope):
            raise Forbidden(
                f"this needs the {scope!r} scope: a token made with"
                f" `steward token create --scope {scope}`, or an admin token"
            )
        return caller

    return holds_scope


async def _token_principal(request: Request, steward: Steward, secret: str) -> Principal:
    store = steward.store
    # A token seen a moment ago is answered here; only a lookup goes to a worker thread.
    caller = remembered(store, secret)
    if caller is None:
        try:
            caller = await run_in_threadpool(authenticate, store, secret)
        except Unauthenticated as exc:
            # Audited without the secret: the id it claims, why it failed, where it was sent.
            await _audit_refusal(request, steward, claimed_token_id(secret), exc.message, {})
            raise
    return caller


async def _jwt_principal(request: Request, steward: Steward, token: str) -> Principal:
    # Verification may fetch the issuer's JWKS, so it runs in a worker thread.
    try:
        verifier = verifier_for(steward.settings)
        if verifier is None:
            raise Unauthenticated("OIDC is not configured: this server takes API tokens only")
        return await run_in_threadpool(verifier.verify, token)
    except Unauthenticated as exc:
        # Audited without the token: the kid, alg and issuer it claims, and why it failed.
        await _audit_refusal(request, steward, None, exc.message, {"jwt": token_hints(token)})
        raise


async def _audit_refusal(
    request: Request,
    steward: Steward,
    token_id: str | None,
    reason: str,
    extra: dict[str, Any],
) -> None:
    # Counted on the event loop; the store is touched only for the first refusal from this
    # client this minute, and for summaries of minutes that are over.
    client = request.client.host if request.client else None
    details = {"method": request.method, "path": request.url.path, **extra}
    writes = refusals_of(request).account(Refusal(client, token_id, reason, details))
    if writes:
        await run_in_threadpool(write, steward.audit, writes)
